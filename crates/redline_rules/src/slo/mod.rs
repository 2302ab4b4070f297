//! Service level objectives. The check lives in `redline_k8s` (it reads
//! manifests; the specs are read by `redline_slo`); the catalog entry and
//! documentation live here with every other rule.

mod slo_spec_missing;
pub use slo_spec_missing::SloSpecMissing;
