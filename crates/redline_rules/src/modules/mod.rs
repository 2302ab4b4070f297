//! Modules: what every `go.mod` of the organisation must require.

pub mod required_module;
pub use required_module::RequiredModule;

/// The family's rules.
pub static FAMILY: crate::Family = crate::Family {
    name: "modules",
    go: &[],
    go_mod: &[&RequiredModule],
    manifest: &[],
    document: &[],
};

use crate::{GO_MOD_RULES, GoModContext, Settings};
use redline_diagnostics::{Diagnostic, LineIndex};
use redline_go::GoMod;

/// Runs every go.mod rule on one parsed `go.mod`.
pub fn check_go_mod(
    display: &str,
    source: &[u8],
    go_mod: &GoMod,
    settings: &Settings,
) -> Vec<Diagnostic> {
    let lines = LineIndex::new(source);
    let cx = GoModContext {
        go_mod,
        lines: &lines,
        settings,
    };
    let mut out = Vec::new();
    for rule in GO_MOD_RULES.iter() {
        rule.check(
            &cx,
            &mut redline_diagnostics::Emitter::new(rule.meta(), display, &mut out),
        );
    }
    out
}
