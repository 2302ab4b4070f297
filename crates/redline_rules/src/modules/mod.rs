//! Modules: what every `go.mod` of the organisation must require.

pub mod required_module;
pub use required_module::{RequiredModule, check_go_mod};
