//! Map safety: nil maps that panic on the first write.

pub mod new_map;
pub mod nil_map_write;
pub use new_map::NewMap;
pub use nil_map_write::NilMapWrite;

/// The family's rules.
pub static FAMILY: crate::Family = crate::Family {
    name: "map-safety",
    go: &[&NewMap, &NilMapWrite],
    go_mod: &[],
    manifest: &[],
    document: &[],
};
