use crate::{GoModContext, GoModRule, RuleMeta, declare_rule};
use redline_diagnostics::Emitter;

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
        kind: GoMod,
        finds: "go.mod lacks a module the organisation requires",
        inactive_until_configured: true,
    }
}

impl GoModRule for RequiredModule {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &GoModContext<'_>, out: &mut Emitter<'_>) {
        let span = match cx.go_mod.module_span {
            Some((s, e)) => cx.lines.span(s, e),
            None => cx.lines.span(0, 0),
        };
        for required in &cx.settings.required_modules {
            if cx.go_mod.requires(required) {
                continue;
            }
            out.report(
                span,
                format!(
                    "module `{}` does not require `{required}`, which this organisation requires in every service",
                    cx.go_mod.module.as_deref().unwrap_or("?")
                ),
            )
            .help(format!("run `go get {required}` and use it"));
        }
    }
}
