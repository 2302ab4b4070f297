use crate::{DiagnosticExt, RuleMeta, Settings, declare_rule};
use redline_diagnostics::{Diagnostic, LineIndex};
use redline_go::GoMod;

declare_rule! {
    /// ## What it does
    /// Reports a `go.mod` that does not require a module listed in
    /// `required-modules` (for example an organisation's SLO
    /// instrumentation SDK). Inactive until `required-modules` is set in
    /// `redline.toml`.
    ///
    /// ## Why is this bad?
    /// Services without the shared instrumentation emit no SLI metrics, so
    /// their SLOs and burn-rate alerts silently measure nothing.
    ///
    /// ## Example
    /// ```toml
    /// # redline.toml
    /// required-modules = ["go.example.com/platform/slo-sdk"]
    /// ```
    ///
    /// ## Use instead
    /// `go get go.example.com/platform/slo-sdk` and instrument the handlers.
    pub struct RequiredModule {
        id: "RL601",
        name: "required-module",
        severity: Error,
        fix: None,
        target: GoMod,
        summary: "go.mod lacks a module the organisation requires",
        needs_config: true,
    }
}

/// Checks one parsed `go.mod`.
pub fn check_go_mod(
    display: &str,
    source: &[u8],
    go_mod: &GoMod,
    settings: &Settings,
) -> Vec<Diagnostic> {
    let meta: &'static RuleMeta = &RequiredModule::META;
    let mut out = Vec::new();
    if settings.required_modules.is_empty() {
        return out;
    }
    let lines = LineIndex::new(source);
    let span = match go_mod.module_span {
        Some((s, e)) => lines.span(s, e),
        None => lines.span(0, 0),
    };
    for required in &settings.required_modules {
        if go_mod.requires(required) {
            continue;
        }
        out.push(
            Diagnostic {
                rule: meta.id,
                name: meta.name,
                severity: meta.severity,
                path: display.to_string(),
                span,
                message: format!(
                    "module `{}` does not require `{required}`, which this organisation requires in every service",
                    go_mod.module.as_deref().unwrap_or("?")
                ),
                help: None,
                fix: None,
            }
            .with_help(format!("run `go get {required}` and use it")),
        );
    }
    out
}
