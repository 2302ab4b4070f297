use crate::{Context, DiagnosticExt, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_diagnostics::Diagnostic;
use redline_go::Node;

declare_rule! {
    /// ## What it does
    /// Finds an `http.Server` whose read side is unbounded: neither
    /// `ReadHeaderTimeout` nor `ReadTimeout` is set to a non-zero value.
    /// Servers are composite literals of `http.Server` (value or `&`),
    /// `new(http.Server)` and `var s http.Server`. A field counts as set
    /// when the literal sets it or the same variable is assigned it later
    /// in the same function (`srv.ReadHeaderTimeout = ...`); any value
    /// that is not a constant zero (`0`, `0 * time.Second`,
    /// `time.Duration(0)`) counts as set.
    ///
    /// ## Why is this bad?
    /// A zero timeout means none. A client that sends its request headers
    /// one byte at a time (slowloris) holds a connection and a goroutine
    /// forever; a few hundred such clients exhaust the server's file
    /// descriptors or memory.
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
    /// }
    /// ```
    /// `ReadHeaderTimeout` bounds only the headers, so it is safe for
    /// handlers that stream large request bodies; `ReadTimeout` bounds the
    /// whole request. The write and idle side is RL503.
    ///
    /// ## Fix
    /// None: the right timeout depends on the service.
    pub struct HttpServerTimeouts {
        id: "RL502",
        name: "http-server-timeouts",
        severity: Error,
        fix: None,
        target: Go,
        summary: "an `http.Server` sets neither `ReadHeaderTimeout` nor `ReadTimeout` (slowloris)",
    }
}

declare_rule! {
    /// ## What it does
    /// Finds an `http.Server` (as in RL502) whose read side is bounded but
    /// which leaves `WriteTimeout` zero, or has no effective idle timeout:
    /// `IdleTimeout` zero and `ReadTimeout` zero (net/http uses
    /// `ReadTimeout` for idle keep-alive connections when `IdleTimeout`
    /// is 0). The message names the missing field.
    ///
    /// ## Why is this bad?
    /// A client that stops reading a response, or a keep-alive connection
    /// left idle, then holds a goroutine and a file descriptor without
    /// limit.
    ///
    /// Leaving `WriteTimeout` unset is right for servers that stream
    /// responses (server-sent events, watch APIs, large downloads) or serve
    /// `net/http/pprof`: a `WriteTimeout` cuts off
    /// `/debug/pprof/profile?seconds=N` when N outlasts it. Then suppress
    /// the finding with a reason, or bound each other handler with
    /// `http.TimeoutHandler` or `http.ResponseController.SetWriteDeadline`.
    ///
    /// ## Example
    /// ```go
    /// srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
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
    pub struct HttpServerWriteIdleTimeouts {
        id: "RL503",
        name: "http-server-write-idle-timeouts",
        severity: Warning,
        fix: None,
        target: Go,
        summary: "an `http.Server` leaves `WriteTimeout` zero or has no idle timeout",
    }
}

const HTTP: &str = "net/http";

/// An `http.Server` and which of its timeouts are set non-zero.
struct Server<'t> {
    /// The composite literal, `new(...)` call or `var` spec.
    node: Node<'t>,
    read_header: bool,
    read: bool,
    write: bool,
    idle: bool,
}

impl GoRule for HttpServerTimeouts {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for s in servers(cx) {
            if s.read_header || s.read {
                continue;
            }
            out.push(
                cx.node_diagnostic(
                    &Self::META,
                    s.node,
                    "`http.Server` sets neither ReadHeaderTimeout nor ReadTimeout: a client that sends its headers slowly (slowloris) holds a connection and a goroutine forever".to_string(),
                )
                .with_help(
                    "set `ReadHeaderTimeout: 5 * time.Second` (it bounds only the headers, so streaming request bodies still work), or `ReadTimeout` to bound the whole request",
                ),
            );
        }
    }
}

impl GoRule for HttpServerWriteIdleTimeouts {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for s in servers(cx) {
            if !(s.read_header || s.read) {
                continue; // RL502
            }
            let no_write = !s.write;
            let no_idle = !s.idle && !s.read;
            let (message, help) = match (no_write, no_idle) {
                (false, false) => continue,
                (true, false) => (
                    "`http.Server` leaves WriteTimeout zero: a client that stops reading a response holds a goroutine and a file descriptor without limit".to_string(),
                    WRITE_HELP.to_string(),
                ),
                (false, true) => (
                    IDLE_MESSAGE.to_string(),
                    "set `IdleTimeout` (e.g. `120 * time.Second`) so that idle keep-alive connections are closed".to_string(),
                ),
                (true, true) => (
                    format!("{IDLE_MESSAGE}; it also leaves WriteTimeout zero, so a client that stops reading a response holds one too"),
                    format!("set `IdleTimeout` (e.g. `120 * time.Second`); {WRITE_HELP}"),
                ),
            };
            out.push(
                cx.node_diagnostic(&Self::META, s.node, message)
                    .with_help(help),
            );
        }
    }
}

const IDLE_MESSAGE: &str = "`http.Server` has no idle timeout: IdleTimeout is zero and so is ReadTimeout (which net/http uses for idle keep-alive connections when IdleTimeout is 0), so an idle keep-alive connection holds a goroutine and a file descriptor without limit";

const WRITE_HELP: &str = "set `WriteTimeout` (e.g. `30 * time.Second`); leaving it unset is right when the server streams responses or serves net/http/pprof (`/debug/pprof/profile?seconds=N` outlasts a short WriteTimeout): then suppress this finding with a reason, or bound the other handlers with `http.TimeoutHandler` or `http.ResponseController.SetWriteDeadline`";

/// Every `http.Server` of the file with its timeouts.
fn servers<'a>(cx: &Context<'a>) -> Vec<Server<'a>> {
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
