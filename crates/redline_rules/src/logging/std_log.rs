use crate::{Context, Findings, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_go::Node;

declare_rule! {
    /// ## What it does
    /// Finds unstructured output through the standard library package
    /// `log`: calls of its package-level `Print`, `Printf`, `Println`,
    /// `Fatal`, `Fatalf`, `Fatalln`, `Panic`, `Panicf` and `Panicln`, the
    /// same methods on `log.Default()`, and `log.New(w, …)` whose writer
    /// expression mentions `os.Stdout` or `os.Stderr`.
    ///
    /// Not reported: an import used only for the `*log.Logger` type that an
    /// API demands, `log.New` with any other writer (an adapter into a
    /// structured logger), `log.SetOutput`, `log.SetFlags`, and `log/slog`.
    ///
    /// `[rules.std-log] banned-imports` in `redline.toml` bans whole
    /// packages (for example `github.com/sirupsen/logrus`): their imports
    /// are reported at the import spec.
    ///
    /// ## Why is this bad?
    /// `log` writes plain lines: log pipelines (Loki, ELK) cannot parse
    /// them reliably, so fields such as the request id are lost exactly
    /// when an incident needs them.
    ///
    /// ## Example
    /// ```go
    /// log.Printf("order %s failed: %v", id, err)
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// logger.Error("order failed", slog.String("order_id", id), slog.Any("error", err))
    /// ```
    ///
    /// ## Fix
    /// None: choosing a logger and its fields is a design decision.
    pub struct StdLog {
        id: "RL401",
        name: "std-log",
        severity: Error,
        fix: None,
        kind: Go,
        finds: "unstructured output through the standard-library `log` package",
    }
}

const LOG: &str = "log";

const PRINTERS: &[&str] = &[
    "Print", "Printf", "Println", "Fatal", "Fatalf", "Fatalln", "Panic", "Panicf", "Panicln",
];

impl GoRule for StdLog {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        for import in &cx.file.imports {
            if !cx.settings.banned_imports.contains(&import.path) {
                continue;
            }
            let span = cx.file.span_bytes(import.start_byte, import.end_byte);
            out.report_span(span, format!(
                        "`{}` is banned by `[rules.std-log] banned-imports` in this project's redline.toml",
                        import.path
                    )).help(
                    "log through the project's structured logger (zap, zerolog, logr or log/slog) with named fields",
                );
        }
        if !cx.file.imports_path(LOG) {
            return;
        }
        let printers: Vec<(&str, &str)> = PRINTERS.iter().map(|p| (LOG, *p)).collect();
        for &call in &cx.index.calls {
            if let Some((_, name)) = cx.index.callee(call, &printers) {
                printer(out, call, &format!("log.{name}"), name);
                continue;
            }
            if let Some(name) = default_logger_method(cx, call) {
                printer(out, call, &format!("log.Default().{name}"), name);
                continue;
            }
            if cx.index.callee(call, &[(LOG, "New")]).is_some()
                && let Some(list) = call.child_by_field_name("arguments")
                && let Some(writer) = args(list).first().copied()
                && let Some(stream) = mentions_std_stream(cx, writer)
            {
                out.report(call, format!(
                            "`log.New` writes plain text lines to `os.{stream}`: log pipelines (Loki, ELK) cannot parse them, and fields such as the request id are lost"
                        )).help(
                        "log through a structured logger (zap, zerolog, logr or log/slog); an API that demands a `*log.Logger` can get `slog.NewLogLogger(handler, level)`",
                    );
            }
        }
    }
}

fn printer(out: &mut Findings<'_>, call: Node<'_>, shown: &str, name: &str) {
    let what = if name.starts_with("Fatal") {
        ", then exits without running deferred calls"
    } else if name.starts_with("Panic") {
        ", then panics"
    } else {
        ""
    };
    out.report(
        call,
        format!(
            "`{shown}` writes an unstructured line{what}: log pipelines (Loki, ELK) cannot parse it, and fields such as the request id are lost"
        ),
    )
    .help(
        "log through a structured logger (zap, zerolog, logr or log/slog) with named fields, e.g. `slog.Error(\"order failed\", \"order_id\", id, \"error\", err)`",
    );
}

/// `log.Default().Printf(…)` and friends: the method name.
fn default_logger_method<'a>(cx: &Context<'a>, call: Node<'_>) -> Option<&'a str> {
    let func = unparen(call.child_by_field_name("function")?);
    if func.kind() != "selector_expression" {
        return None;
    }
    let operand = unparen(func.child_by_field_name("operand")?);
    let field = cx.text(func.child_by_field_name("field")?);
    if operand.kind() != "call_expression" || !PRINTERS.contains(&field) {
        return None;
    }
    cx.index.callee(operand, &[(LOG, "Default")])?;
    Some(field)
}

/// `os.Stdout` or `os.Stderr` anywhere in the writer expression
/// (`io.MultiWriter(os.Stderr, f)` included).
fn mentions_std_stream(cx: &Context<'_>, writer: Node<'_>) -> Option<&'static str> {
    let mut stack = vec![writer];
    while let Some(node) = stack.pop() {
        if matches!(node.kind(), "selector_expression" | "identifier") {
            for stream in ["Stdout", "Stderr"] {
                if cx.index.refers_to(node, "os", stream) {
                    return Some(stream);
                }
            }
        }
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            stack.push(child);
        }
    }
    None
}
