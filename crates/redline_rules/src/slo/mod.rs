//! Service level objectives: rules over workloads that read the SLO specs
//! (`[slo] specs`, read by `redline_slo` into `ManifestContext.slo`).

mod slo_spec_missing;
pub use slo_spec_missing::SloSpecMissing;

/// The family's rules.
pub static FAMILY: crate::Family = crate::Family {
    name: "slo",
    go: &[],
    go_mod: &[],
    manifest: &[],
    document: &[&SloSpecMissing],
};
