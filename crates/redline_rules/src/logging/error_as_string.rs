use crate::{Context, DiagnosticExt, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_diagnostics::Diagnostic;
use redline_go::Node;

declare_rule! {
    /// ## What it does
    /// Finds log fields built from `X.Error()` where the logger has a typed
    /// error field: `zap.String(k, err.Error())`, `zap.Any(k, err.Error())`
    /// and zerolog's `.Str(k, err.Error())`.
    ///
    /// ## Why is this bad?
    /// The error becomes a plain string: its type, wrapped causes and
    /// stack trace (`errorVerbose`, `stacktrace`) are lost, and log queries
    /// on the standard `error` field find nothing.
    ///
    /// ## Example
    /// ```go
    /// logger.Error("charge failed", zap.String("error", err.Error()))
    /// log.Error().Str("err", err.Error()).Msg("charge failed")
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// logger.Error("charge failed", zap.Error(err))
    /// log.Error().Err(err).Msg("charge failed")
    /// ```
    ///
    /// ## Fix
    /// None yet: the field key changes (`zap.Error` uses `error`).
    pub struct ErrorAsString {
        id: "RL402",
        name: "error-as-string",
        severity: Warning,
        fix: None,
        target: Go,
        summary: "an error logged as a string loses its type and stack",
    }
}

const ZAP: &str = "go.uber.org/zap";
const ZEROLOG: &[&str] = &["github.com/rs/zerolog", "github.com/rs/zerolog/log"];

impl GoRule for ErrorAsString {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        let has_zap = cx.file.imports_path(ZAP);
        let has_zerolog = ZEROLOG.iter().any(|p| cx.file.imports_path(p));
        if !has_zap && !has_zerolog {
            return;
        }
        for &call in &cx.index.calls {
            let Some(arg_list) = call.child_by_field_name("arguments") else {
                continue;
            };
            let call_args = args(arg_list);
            let [_, value] = call_args.as_slice() else {
                continue;
            };
            let Some(receiver) = error_call_receiver(cx, *value) else {
                continue;
            };
            let (field, replacement, start) = if has_zap
                && let Some((_, name)) = cx.index.callee(call, &[(ZAP, "String"), (ZAP, "Any")])
            {
                (
                    format!("zap.{name}"),
                    format!("zap.Error({receiver})"),
                    call.start_byte(),
                )
            } else if has_zerolog && let Some(method) = zerolog_str(cx, call) {
                // Reported at `.Str(...)`, not at the start of the chain.
                (
                    ".Str".to_string(),
                    format!(".Err({receiver})"),
                    method.start_byte(),
                )
            } else {
                continue;
            };
            out.push(
                cx.diagnostic(
                    &Self::META,
                    cx.file.span_bytes(start, call.end_byte()),
                    format!("`{field}` logs `{receiver}.Error()` as a string; the error's type and stack are lost"),
                )
                .with_help(format!("log the error itself: `{replacement}`")),
            );
        }
    }
}

/// For `X.Error()` (no arguments), the text of `X`.
fn error_call_receiver<'a>(cx: &Context<'a>, value: Node<'_>) -> Option<&'a str> {
    let value = unparen(value);
    if value.kind() != "call_expression" {
        return None;
    }
    let func = value.child_by_field_name("function")?;
    if func.kind() != "selector_expression" {
        return None;
    }
    let field = func.child_by_field_name("field")?;
    if cx.text(field) != "Error" {
        return None;
    }
    if !args(value.child_by_field_name("arguments")?).is_empty() {
        return None;
    }
    Some(cx.text(func.child_by_field_name("operand")?))
}

/// `<event>.Str(k, v)`: a method call named `Str` whose receiver is not an
/// imported package (zerolog's event API; the file imports zerolog).
fn zerolog_str<'t>(cx: &Context<'_>, call: Node<'t>) -> Option<Node<'t>> {
    let func = call.child_by_field_name("function")?;
    if func.kind() != "selector_expression" {
        return None;
    }
    let field = func.child_by_field_name("field")?;
    (cx.text(field) == "Str" && cx.index.resolve(func).is_none()).then_some(field)
}
