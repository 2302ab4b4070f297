//! Runtime configuration: the process environment is read-only at run time.

pub mod os_setenv;
pub use os_setenv::OsSetenv;
