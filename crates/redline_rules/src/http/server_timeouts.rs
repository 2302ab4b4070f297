use crate::{Context, DiagnosticExt, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_diagnostics::Diagnostic;
use redline_go::Node;

declare_rule! {
    /// ## What it does
    /// Finds composite literals of `http.Server` (value or `&`) that leave
    /// out, or set to a literal `0`, any of `ReadTimeout` (or
    /// `ReadHeaderTimeout`), `WriteTimeout` and `IdleTimeout` — unless each
    /// missing field is assigned on the same variable later in the same
    /// function (`srv.IdleTimeout = ...`). The message names the missing
    /// fields.
    ///
    /// ## Why is this bad?
    /// A zero timeout means none. Without a read (header) timeout a client
    /// that sends headers slowly holds a connection forever (Slowloris);
    /// without a write timeout a stalled reader does; without an idle
    /// timeout keep-alive connections pile up.
    ///
    /// ## Example
    /// ```go
    /// srv := &http.Server{Addr: ":8080", Handler: mux}
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// srv := &http.Server{
    ///     Addr:              ":8080",
    ///     Handler:           mux,
    ///     ReadHeaderTimeout: 5 * time.Second,
    ///     WriteTimeout:      30 * time.Second,
    ///     IdleTimeout:       120 * time.Second,
    /// }
    /// ```
    ///
    /// ## Fix
    /// None: the right timeouts depend on the service.
    pub struct HttpServerTimeouts {
        id: "RL502",
        name: "http-server-timeouts",
        severity: Error,
        fix: None,
        target: Go,
        summary: "an `http.Server` literal leaves a timeout unset or zero",
    }
}

const HTTP: &str = "net/http";

/// The timeout groups: any one field of a group satisfies it.
const GROUPS: &[&[&str]] = &[
    &["ReadTimeout", "ReadHeaderTimeout"],
    &["WriteTimeout"],
    &["IdleTimeout"],
];

impl GoRule for HttpServerTimeouts {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        if !cx.file.imports_path(HTTP) {
            return;
        }
        for &lit in &cx.index.composite_literals {
            let Some(ty) = lit.child_by_field_name("type") else {
                continue;
            };
            if !cx.index.refers_to(ty, HTTP, "Server") {
                continue;
            }
            let Some(body) = lit.child_by_field_name("body") else {
                continue;
            };
            let Some(fields) = keyed_fields(cx, body) else {
                // Positional literal: every field is given.
                continue;
            };
            let target = assigned_to(cx, lit);
            let mut missing = Vec::new();
            let mut zero = Vec::new();
            for group in GROUPS {
                let set = group.iter().find_map(|name| {
                    fields
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(k, v)| (*k, *v))
                });
                let satisfied = match set {
                    Some((_, value)) if !is_literal_zero(cx, value) => true,
                    _ => target.is_some_and(|(t, func)| {
                        group
                            .iter()
                            .any(|name| assigned_later(cx, func, t, name, lit.end_byte()))
                    }),
                };
                if satisfied {
                    continue;
                }
                match set {
                    Some((name, _)) => zero.push(name.to_string()),
                    None => missing.push(group.join(" or ")),
                }
            }
            if missing.is_empty() && zero.is_empty() {
                continue;
            }
            let mut parts = Vec::new();
            if !missing.is_empty() {
                parts.push(format!("leaves out {}", missing.join(", ")));
            }
            if !zero.is_empty() {
                parts.push(format!("sets {} to 0 (no timeout)", zero.join(", ")));
            }
            out.push(
                cx.node_diagnostic(
                    &Self::META,
                    lit,
                    format!(
                        "`http.Server` literal {}; slow clients can hold connections open forever",
                        parts.join(" and ")
                    ),
                )
                .with_help("set ReadHeaderTimeout (or ReadTimeout), WriteTimeout and IdleTimeout to non-zero durations"),
            );
        }
    }
}

/// The `Key: value` pairs of a literal body; `None` if any element is
/// positional.
fn keyed_fields<'a, 't>(cx: &Context<'a>, body: Node<'t>) -> Option<Vec<(&'a str, Node<'t>)>> {
    let mut out = Vec::new();
    for el in args(body) {
        if el.kind() != "keyed_element" {
            return None;
        }
        let key = el
            .child_by_field_name("key")
            .or_else(|| el.named_child(0))?;
        let value = el
            .child_by_field_name("value")
            .or_else(|| el.named_child(1))?;
        out.push((cx.text(key).trim(), value));
    }
    Some(out)
}

fn is_literal_zero(cx: &Context<'_>, value: Node<'_>) -> bool {
    let mut v = value;
    if v.kind() == "literal_element"
        && let Some(inner) = v.named_child(0)
    {
        v = inner;
    }
    let v = unparen(v);
    let text = cx.text(v).replace('_', "");
    match v.kind() {
        "int_literal" => {
            let digits = text
                .strip_prefix("0x")
                .or_else(|| text.strip_prefix("0X"))
                .or_else(|| text.strip_prefix("0o"))
                .or_else(|| text.strip_prefix("0O"))
                .or_else(|| text.strip_prefix("0b"))
                .or_else(|| text.strip_prefix("0B"))
                .unwrap_or(&text);
            digits.bytes().all(|b| b == b'0')
        }
        "float_literal" => text.parse::<f64>().is_ok_and(|f| f == 0.0),
        _ => false,
    }
}

/// The expression a literal is stored into (`srv := &http.Server{}` →
/// `srv`; `s.server = http.Server{}` → `s.server`), with the enclosing
/// function body.
fn assigned_to<'a>(cx: &Context<'a>, lit: Node<'a>) -> Option<(&'a str, Node<'a>)> {
    let mut node = lit;
    if let Some(p) = node.parent()
        && p.kind() == "unary_expression"
    {
        node = p;
    }
    let list = node.parent()?;
    if list.kind() != "expression_list" {
        return None;
    }
    let stmt = list.parent()?;
    let position = {
        let mut c = list.walk();
        list.named_children(&mut c)
            .position(|n| n.id() == node.id())?
    };
    let left = match stmt.kind() {
        "short_var_declaration" | "assignment_statement" => {
            if stmt.child_by_field_name("right")?.id() != list.id() {
                return None;
            }
            let l = stmt.child_by_field_name("left")?;
            let mut c = l.walk();
            let found = l.named_children(&mut c).nth(position);
            found?
        }
        "var_spec" => {
            let mut c = stmt.walk();
            let found = stmt.children_by_field_name("name", &mut c).nth(position);
            found?
        }
        _ => return None,
    };
    let func = cx.index.enclosing_function(stmt)?;
    Some((cx.text(left), func.child_by_field_name("body")?))
}

/// Whether `target.field = <non-zero>` appears in `body` after `after`.
fn assigned_later(
    cx: &Context<'_>,
    body: Node<'_>,
    target: &str,
    field: &str,
    after: usize,
) -> bool {
    let mut cursor = body.walk();
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        if node.end_byte() <= after {
            continue;
        }
        if node.kind() == "assignment_statement"
            && node.start_byte() >= after
            && let (Some(left), Some(right)) = (
                node.child_by_field_name("left"),
                node.child_by_field_name("right"),
            )
        {
            let lefts = args(left);
            let rights = args(right);
            for (i, l) in lefts.iter().enumerate() {
                if l.kind() == "selector_expression"
                    && let (Some(op), Some(f)) = (
                        l.child_by_field_name("operand"),
                        l.child_by_field_name("field"),
                    )
                    && cx.text(f) == field
                    && cx.text(op) == target
                    && rights.get(i).is_none_or(|r| !is_literal_zero(cx, *r))
                {
                    return true;
                }
            }
        }
        for child in node.named_children(&mut cursor) {
            stack.push(child);
        }
    }
    false
}
