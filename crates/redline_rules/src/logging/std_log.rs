use crate::{Context, DiagnosticExt, GoRule, RuleMeta, declare_rule};
use redline_diagnostics::Diagnostic;

declare_rule! {
    /// ## What it does
    /// Finds imports of the standard library package `log` in non-test
    /// code. The list of banned import paths is configurable
    /// (`[rules.std-log] banned-imports`).
    ///
    /// ## Why is this bad?
    /// `log` writes unstructured lines: log pipelines (Loki, ELK) cannot
    /// parse them reliably, so fields such as the request id are lost
    /// exactly when an incident needs them.
    ///
    /// `log/slog` is structured and is not reported.
    ///
    /// ## Example
    /// ```go
    /// import "log"
    ///
    /// log.Printf("order %s failed: %v", id, err)
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// logger.Error("order failed", zap.String("order_id", id), zap.Error(err))
    /// ```
    ///
    /// ## Fix
    /// None: choosing a logger and its fields is a design decision.
    pub struct StdLog {
        id: "RL401",
        name: "std-log",
        severity: Error,
        fix: None,
        target: Go,
        summary: "unstructured standard-library `log` in production code",
    }
}

impl GoRule for StdLog {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        if cx.file.is_test {
            return;
        }
        for import in &cx.file.imports {
            if !cx.settings.banned_imports.contains(&import.path) {
                continue;
            }
            let span = cx.file.span_bytes(import.start_byte, import.end_byte);
            let message = if import.path == "log" {
                "the standard library `log` package writes unstructured lines that log pipelines cannot parse".to_string()
            } else {
                format!(
                    "import of `{}` is banned by this project's configuration",
                    import.path
                )
            };
            out.push(cx.diagnostic(&Self::META, span, message).with_help(
                "log through a structured logger (zap, zerolog or log/slog) with named fields",
            ));
        }
    }
}
