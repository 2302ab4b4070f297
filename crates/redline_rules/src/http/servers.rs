//! The `http.Server`s of a file and which of their timeouts are set: the
//! model RL502 and RL503 read.

use crate::{Context, args, unparen};
use redline_go::Node;

const HTTP: &str = "net/http";

/// An `http.Server` and which of its timeouts are set non-zero.
pub(crate) struct Server<'t> {
    /// The composite literal, `new(...)` call or `var` spec.
    pub node: Node<'t>,
    pub read_header: bool,
    pub read: bool,
    pub write: bool,
    pub idle: bool,
}

/// Every `http.Server` of the file with its timeouts.
pub(crate) fn servers<'a>(cx: &Context<'a>) -> Vec<Server<'a>> {
    let mut out = Vec::new();
    if !cx.file.imports_path(HTTP) {
        return out;
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
        let mut s = Server {
            node: lit,
            read_header: false,
            read: false,
            write: false,
            idle: false,
        };
        for (key, value) in fields {
            if !is_zero(cx, value) {
                s.set(key);
            }
        }
        if let Some((target, scope)) = assigned_to(cx, lit) {
            assigned_later(cx, scope, target, lit.end_byte(), &mut s);
        }
        out.push(s);
    }
    for &call in &cx.index.calls {
        if !is_new_server(cx, call) {
            continue;
        }
        let mut s = Server::unset(call);
        if let Some((target, scope)) = assigned_to(cx, call) {
            assigned_later(cx, scope, target, call.end_byte(), &mut s);
        }
        out.push(s);
    }
    if cx.file.source.windows(6).any(|w| w == b"Server") {
        var_servers(cx, &mut out);
    }
    out
}

impl<'t> Server<'t> {
    fn unset(node: Node<'t>) -> Self {
        Server {
            node,
            read_header: false,
            read: false,
            write: false,
            idle: false,
        }
    }

    fn set(&mut self, field: &str) {
        match field {
            "ReadHeaderTimeout" => self.read_header = true,
            "ReadTimeout" => self.read = true,
            "WriteTimeout" => self.write = true,
            "IdleTimeout" => self.idle = true,
            _ => {}
        }
    }
}

/// `new(http.Server)`, with the builtin `new`.
fn is_new_server(cx: &Context<'_>, call: Node<'_>) -> bool {
    let Some(func) = call.child_by_field_name("function").map(unparen) else {
        return false;
    };
    if func.kind() != "identifier"
        || cx.text(func) != "new"
        || cx.index.is_local_binding("new", func)
    {
        return false;
    }
    let Some(list) = call.child_by_field_name("arguments") else {
        return false;
    };
    let operands = args(list);
    let [arg] = operands.as_slice() else {
        return false;
    };
    let mut arg = unparen(*arg);
    if arg.kind() == "type_elem"
        && let Some(inner) = arg.named_child(0)
    {
        arg = inner;
    }
    cx.index.refers_to(arg, HTTP, "Server")
}

/// `var s http.Server` (no value), local or package-level.
fn var_servers<'a>(cx: &Context<'a>, out: &mut Vec<Server<'a>>) {
    let root = cx.file.tree.root_node();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.kind() == "var_spec" {
            if node.child_by_field_name("value").is_none()
                && let Some(ty) = node.child_by_field_name("type")
                && cx.index.refers_to(ty, HTTP, "Server")
            {
                let scope = cx
                    .index
                    .enclosing_function(node)
                    .and_then(|f| f.child_by_field_name("body"))
                    .unwrap_or(root);
                let mut cursor = node.walk();
                let names: Vec<Node<'a>> =
                    node.children_by_field_name("name", &mut cursor).collect();
                for name in names {
                    let mut s = Server::unset(node);
                    assigned_later(cx, scope, cx.text(name), node.end_byte(), &mut s);
                    out.push(s);
                }
            }
            continue;
        }
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            stack.push(child);
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

/// Whether `value` is a constant expression equal to zero: `0`, `0.0`,
/// `0 * time.Second`, `time.Duration(0)`, `(0)`.
fn is_zero(cx: &Context<'_>, value: Node<'_>) -> bool {
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
        "binary_expression" => {
            let (Some(l), Some(r)) = (
                v.child_by_field_name("left"),
                v.child_by_field_name("right"),
            ) else {
                return false;
            };
            let op = v
                .child_by_field_name("operator")
                .map(|o| cx.text(o))
                .unwrap_or("");
            match op {
                "*" => {
                    (is_zero(cx, l) && is_constant(cx, r)) || (is_zero(cx, r) && is_constant(cx, l))
                }
                "+" | "-" => is_zero(cx, l) && is_zero(cx, r),
                _ => false,
            }
        }
        "call_expression" => {
            let Some(func) = v.child_by_field_name("function").map(unparen) else {
                return false;
            };
            let operands = v
                .child_by_field_name("arguments")
                .map(args)
                .unwrap_or_default();
            operands.len() == 1
                && cx.index.refers_to(func, "time", "Duration")
                && is_zero(cx, operands[0])
        }
        _ => false,
    }
}

/// A constant operand of a duration product: a number or a `time` unit.
fn is_constant(cx: &Context<'_>, v: Node<'_>) -> bool {
    let v = unparen(v);
    match v.kind() {
        "int_literal" | "float_literal" => true,
        "selector_expression" | "identifier" => [
            "Nanosecond",
            "Microsecond",
            "Millisecond",
            "Second",
            "Minute",
            "Hour",
        ]
        .iter()
        .any(|unit| cx.index.refers_to(v, "time", unit)),
        _ => false,
    }
}

/// The expression a server is stored into (`srv := &http.Server{}` →
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

/// Records the fields set by `target.Field = <not zero>` in `scope` after
/// byte `after`.
fn assigned_later(
    cx: &Context<'_>,
    scope: Node<'_>,
    target: &str,
    after: usize,
    s: &mut Server<'_>,
) {
    let mut cursor = scope.walk();
    let mut stack = vec![scope];
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
                    && cx.text(op) == target
                    && rights.get(i).is_none_or(|r| !is_zero(cx, *r))
                {
                    s.set(cx.text(f));
                }
            }
        }
        for child in node.named_children(&mut cursor) {
            stack.push(child);
        }
    }
}
