//! Runtime configuration: the process environment is read-only at run time.

pub mod os_setenv;
pub use os_setenv::OsSetenv;

/// The family's rules.
pub static FAMILY: crate::Family = crate::Family {
    name: "runtime-config",
    go: &[&OsSetenv],
    go_mod: &[],
    manifest: &[],
    document: &[],
};
