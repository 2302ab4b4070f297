use crate::{Context, DiagnosticExt, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_diagnostics::{Applicability, Diagnostic};
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
    /// Unsafe (`--unsafe-fixes`), keeping the field's key:
    /// `zap.String(k, err.Error())` and `zap.Any(k, err.Error())` become
    /// `zap.NamedError(k, err)`, zerolog's `.Str(k, err.Error())` becomes
    /// `.AnErr(k, err)`. Unsafe because the log output changes (zap adds
    /// `<k>Verbose` for errors that carry a stack; a nil error now logs
    /// nothing instead of panicking), and because a value whose `Error`
    /// method has a pointer receiver is not itself an `error`.
    pub struct ErrorAsString {
        id: "RL402",
        name: "error-as-string",
        severity: Warning,
        fix: Some(Applicability::Unsafe),
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
            let [key, _] = call_args.as_slice() else {
                continue;
            };
            let key = cx.text(*key);
            // (what the message calls it, what replaces which bytes)
            let (field, start, replacement) = if has_zap
                && let Some((_, name)) = cx.index.callee(call, &[(ZAP, "String"), (ZAP, "Any")])
            {
                // The file's own name for zap: `zap.`, `uzap.`, or nothing
                // for a dot import.
                let qualifier = call
                    .child_by_field_name("function")
                    .map(unparen)
                    .filter(|f| f.kind() == "selector_expression")
                    .and_then(|f| f.child_by_field_name("operand"))
                    .map(|o| format!("{}.", cx.text(o)))
                    .unwrap_or_default();
                (
                    format!("{qualifier}{name}"),
                    call.start_byte(),
                    format!("{qualifier}NamedError({key}, {receiver})"),
                )
            } else if has_zerolog && let Some(method) = zerolog_str(cx, call) {
                // Reported at `.Str(...)`, not at the start of the chain.
                (
                    ".Str".to_string(),
                    method.start_byte(),
                    format!("AnErr({key}, {receiver})"),
                )
            } else {
                continue;
            };
            let shown = if field == ".Str" {
                format!(".{replacement}")
            } else {
                replacement.clone()
            };
            out.push(
                cx.diagnostic(
                    &Self::META,
                    cx.file.span_bytes(start, call.end_byte()),
                    format!("`{field}` logs `{receiver}.Error()` as a string; the error's type and stack are lost"),
                )
                .with_help(format!("log the error itself: `{shown}`"))
                .with_fix(
                    Applicability::Unsafe,
                    cx.file.span_bytes(start, call.end_byte()),
                    replacement,
                ),
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
    // `pkg.Error()`: a package's function, not an error value.
    if cx.index.resolve(func).is_some() {
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
