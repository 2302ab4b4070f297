use crate::{Context, Findings, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_go::Node;

declare_rule! {
    /// ## What it does
    /// Finds log fields built from `X.Error()` where the logger can take
    /// the error itself:
    ///
    /// - typed fields: `zap.String(k, X.Error())`, `zap.Any(k, X.Error())`,
    ///   zerolog's `.Str(k, X.Error())`, `slog.String(k, X.Error())`,
    ///   `slog.Any(k, X.Error())`;
    /// - key/value styles, a value `X.Error()` right after a key: logr's
    ///   `Info(msg, kv…)`, `Error(err, msg, kv…)` and `WithValues(kv…)`
    ///   (controller-runtime's logger); klog's `InfoS` / `ErrorS` (also
    ///   after `klog.V(n)`); slog's `Info`/`Warn`/`Error`/`Debug` (and their
    ///   `…Context` forms), `Log` and `With`, as package functions and
    ///   `*slog.Logger` methods; zap's sugared `Infow`/`Warnw`/`Errorw`/
    ///   `Debugw` and `With`.
    ///
    /// A key/value style counts only in a file that imports that logger's
    /// package (`github.com/go-logr/logr`, `sigs.k8s.io/controller-runtime`
    /// or its `pkg/log`, `k8s.io/klog/v2`, `log/slog`, `go.uber.org/zap`).
    /// A method called on a value of a local type that declares a method
    /// of the same name is not a logger.
    ///
    /// ## Why is this bad?
    /// The error becomes a plain string: its type, wrapped causes and
    /// stack trace (`errorVerbose`, `stacktrace`) are lost, and log queries
    /// on the standard `error` field find nothing. `X.Error()` also panics
    /// when `X` is a nil pointer, so the log line itself can crash the
    /// handler that was reporting a failure.
    ///
    /// ## Example
    /// ```go
    /// logger.Error("charge failed", zap.String("error", err.Error()))
    /// log.Error().Str("err", err.Error()).Msg("charge failed")
    /// log.Info("retrying", "reason", err.Error())
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// logger.Error("charge failed", zap.Error(err))
    /// log.Error().Err(err).Msg("charge failed")
    /// log.Error(err, "retrying") // logr; or "reason", err
    /// ```
    ///
    /// ## Fix
    /// Unsafe (`--unsafe-fixes`), keeping the field's key:
    /// `zap.String(k, err.Error())` and `zap.Any(k, err.Error())` become
    /// `zap.NamedError(k, err)`, zerolog's `.Str(k, err.Error())` becomes
    /// `.AnErr(k, err)`, `slog.String(k, err.Error())` and
    /// `slog.Any(k, err.Error())` become `slog.Any(k, err)`, and a
    /// key/value `err.Error()` becomes `err`. Unsafe because the log output
    /// changes (zap adds `<k>Verbose` for errors that carry a stack; a nil
    /// error now logs nothing or `<nil>` instead of panicking), and because
    /// a value whose `Error` method has a pointer receiver is not itself an
    /// `error`.
    pub struct ErrorAsString {
        id: "RL402",
        name: "error-as-string",
        severity: Warning,
        fix: Unsafe,
        kind: Go,
        finds: "an error logged as a string loses its type and stack",
    }
}

const ZAP: &str = "go.uber.org/zap";
const ZEROLOG: &[&str] = &["github.com/rs/zerolog", "github.com/rs/zerolog/log"];
const SLOG: &str = "log/slog";
const KLOG: &str = "k8s.io/klog/v2";
const LOGR: &[&str] = &[
    "github.com/go-logr/logr",
    "sigs.k8s.io/controller-runtime",
    "sigs.k8s.io/controller-runtime/pkg/log",
];

impl GoRule for ErrorAsString {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        let has_zap = cx.file.imports_path(ZAP);
        let has_zerolog = ZEROLOG.iter().any(|p| cx.file.imports_path(p));
        let has_slog = cx.file.imports_path(SLOG);
        let has_klog = cx.file.imports_path(KLOG);
        let has_logr = LOGR.iter().any(|p| cx.file.imports_path(p));
        if !has_zap && !has_zerolog && !has_slog && !has_klog && !has_logr {
            return;
        }
        let loggers = Loggers {
            zap: has_zap,
            slog: has_slog,
            klog: has_klog,
            logr: has_logr,
        };
        for &call in &cx.index.calls {
            key_values(cx, call, &loggers, out);
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
            } else if has_slog
                && let Some((_, name)) = cx.index.callee(call, &[(SLOG, "String"), (SLOG, "Any")])
            {
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
                    format!("{qualifier}Any({key}, {receiver})"),
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
            out.report_span(cx.file.span_bytes(start, call.end_byte()), format!("`{field}` logs `{receiver}.Error()` as a string: the error's type, wrapped causes and stack are lost to log queries, and a nil `{receiver}` panics in the log call")).help(format!("log the error itself: `{shown}`"))
                .fix(cx.file.span_bytes(start, call.end_byte()),
                    replacement,
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

/// Which loggers' packages the file imports.
struct Loggers {
    zap: bool,
    slog: bool,
    klog: bool,
    logr: bool,
}

/// How a key/value logging call lays out its arguments.
#[derive(Clone, Copy)]
enum Style {
    /// Strict pairs from this argument on (logr, klog).
    Pairs(usize),
    /// From this argument on, a key and a value, or one typed field
    /// (`slog.Attr`, `zap.Field`) taking one slot (slog, zap's sugar).
    Mixed(usize),
}

/// `X.Error()` values right after a key in a key/value logging call.
fn key_values(cx: &Context<'_>, call: Node<'_>, loggers: &Loggers, out: &mut Findings<'_>) {
    let Some(style) = style_of(cx, call, loggers) else {
        return;
    };
    let Some(list) = call.child_by_field_name("arguments") else {
        return;
    };
    // A spread (`kv...`) hides the layout.
    let mut c = list.walk();
    if list.children(&mut c).any(|n| n.kind() == "...") {
        return;
    }
    let a = args(list);
    let mut pairs = Vec::new();
    match style {
        Style::Pairs(from) => {
            let mut i = from;
            while i + 1 < a.len() {
                pairs.push((a[i], a[i + 1]));
                i += 2;
            }
        }
        Style::Mixed(from) => {
            let mut i = from;
            while i < a.len() {
                if is_typed_field(cx, a[i]) || i + 1 >= a.len() {
                    i += 1;
                } else {
                    pairs.push((a[i], a[i + 1]));
                    i += 2;
                }
            }
        }
    }
    for (key, value) in pairs {
        let Some(receiver) = error_call_receiver(cx, value) else {
            continue;
        };
        let key = cx.text(key);
        let value = unparen(value);
        out.report(value, format!(
                    "`{receiver}.Error()` is logged as the string value of {key}: the error's type, wrapped causes and stack are lost to log queries, and a nil `{receiver}` panics in the log call"
                )).help(format!(
                "pass the error itself: {key}, {receiver} (with logr, `Error({receiver}, msg, ...)`)"
            ))
            .fix(cx.file.span(value),
                receiver.to_string(),
            );
    }
}

/// The argument layout of `call` when it is a key/value logging call of a
/// logger the file imports.
fn style_of(cx: &Context<'_>, call: Node<'_>, l: &Loggers) -> Option<Style> {
    let f = call.child_by_field_name("function").map(unparen)?;
    if f.kind() != "selector_expression" {
        return None;
    }
    let method = cx.text(f.child_by_field_name("field")?);
    let operand = f.child_by_field_name("operand").map(unparen)?;
    // Package functions: klog.InfoS, slog.Info, ...
    if let Some((path, name)) = cx.index.resolve(f) {
        return match (path, name) {
            (KLOG, "InfoS") => Some(Style::Pairs(1)),
            (KLOG, "ErrorS") => Some(Style::Pairs(2)),
            (SLOG, _) => slog_style(name),
            _ => None,
        };
    }
    // klog.V(n).InfoS(...)
    if operand.kind() == "call_expression"
        && l.klog
        && cx.index.callee(operand, &[(KLOG, "V")]).is_some()
    {
        return match method {
            "InfoS" => Some(Style::Pairs(1)),
            "ErrorS" => Some(Style::Pairs(2)),
            _ => None,
        };
    }
    if receiver_has_local_method(cx, operand, method) {
        return None;
    }
    let first_is_string = args(call.child_by_field_name("arguments")?)
        .first()
        .is_some_and(|a| is_string(*a));
    match method {
        "Info" | "WithValues" | "Error" if l.logr && !l.slog => match method {
            "Info" => Some(Style::Pairs(1)),
            "WithValues" => Some(Style::Pairs(0)),
            _ => Some(Style::Pairs(2)),
        },
        "Error" if l.logr && !first_is_string => Some(Style::Pairs(2)),
        "Info" | "WithValues" if l.logr => Some(Style::Mixed(usize::from(method == "Info"))),
        "Infow" | "Warnw" | "Errorw" | "Debugw" if l.zap => Some(Style::Mixed(1)),
        "With" if l.zap || l.slog => Some(Style::Mixed(0)),
        _ if l.slog => slog_style(method),
        _ => None,
    }
}

fn slog_style(name: &str) -> Option<Style> {
    match name {
        "Info" | "Warn" | "Error" | "Debug" => Some(Style::Mixed(1)),
        "InfoContext" | "WarnContext" | "ErrorContext" | "DebugContext" => Some(Style::Mixed(2)),
        "Log" => Some(Style::Mixed(3)),
        "With" => Some(Style::Mixed(0)),
        _ => None,
    }
}

fn is_string(n: Node<'_>) -> bool {
    matches!(
        unparen(n).kind(),
        "interpreted_string_literal" | "raw_string_literal"
    )
}

/// A typed field in a mixed list: a call of the logger package's own
/// constructors (`slog.String(...)`, `zap.Int(...)`) or a non-string
/// argument that is not a key.
fn is_typed_field(cx: &Context<'_>, n: Node<'_>) -> bool {
    let n = unparen(n);
    if is_string(n) {
        return false;
    }
    if n.kind() == "call_expression"
        && let Some(f) = n.child_by_field_name("function").map(unparen)
        && let Some((path, _)) = cx.index.resolve(f)
    {
        return path == SLOG || path == ZAP;
    }
    false
}

/// Whether `operand` is a variable of a type of this package that
/// declares `method` itself (a local type, not a logger).
fn receiver_has_local_method(cx: &Context<'_>, operand: Node<'_>, method: &str) -> bool {
    if operand.kind() != "identifier" {
        return false;
    }
    let Some(decl) = cx.index.local_declaration(cx.text(operand), operand) else {
        return false;
    };
    let Some(parent) = decl.parent() else {
        return false;
    };
    let type_text = match parent.kind() {
        "parameter_declaration" | "var_spec" => parent
            .child_by_field_name("type")
            .map(|t| cx.text(t).trim_start_matches('*').to_string()),
        "expression_list" => parent
            .parent()
            .filter(|s| s.kind() == "short_var_declaration")
            .and_then(|s| s.child_by_field_name("right"))
            .and_then(|r| args(r).first().copied())
            .map(unparen)
            .and_then(|v| match v.kind() {
                "composite_literal" => v.child_by_field_name("type").map(|t| cx.text(t)),
                "unary_expression" => v
                    .child_by_field_name("operand")
                    .filter(|o| o.kind() == "composite_literal")
                    .and_then(|o| o.child_by_field_name("type"))
                    .map(|t| cx.text(t)),
                _ => None,
            })
            .map(str::to_string),
        _ => None,
    };
    let Some(t) = type_text else {
        return false;
    };
    cx.package.methods_of(&t).iter().any(|m| m.name == method)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Context, GoRule, Settings};
    use redline_go::{GoFile, Package};
    use std::sync::Arc;

    fn fixes(src: &str) -> Vec<(String, String)> {
        let file =
            GoFile::parse("p.go".into(), "p.go".into(), Arc::from(src.as_bytes())).expect("parses");
        let package = Package::build(&[&file]);
        let index = file.index();
        let settings = Settings::default();
        let cx = Context {
            file: &file,
            index: &index,
            package: &package,
            settings: &settings,
        };
        let mut out = Vec::new();
        ErrorAsString.run(&cx, &mut out);
        out.iter()
            .filter_map(|d| d.fix.as_ref())
            .flat_map(|f| f.edits.iter())
            .map(|e| {
                (
                    src[e.span.start_byte..e.span.end_byte].to_string(),
                    e.content.clone(),
                )
            })
            .collect()
    }

    /// The key/value and slog fixes pass the error itself and keep the key.
    #[test]
    fn key_value_and_slog_fixes_pass_the_error() {
        let src = "package p\n\nimport (\n\t\"log/slog\"\n\n\t\"github.com/go-logr/logr\"\n)\n\nfunc f(log logr.Logger, err error) {\n\tlog.Info(\"retry\", \"reason\", err.Error())\n\t_ = slog.String(\"err\", err.Error())\n}\n";
        let got = fixes(src);
        assert!(
            got.contains(&("err.Error()".into(), "err".into())),
            "{got:?}"
        );
        assert!(
            got.contains(&(
                "slog.String(\"err\", err.Error())".into(),
                "slog.Any(\"err\", err)".into()
            )),
            "{got:?}"
        );
    }
}
