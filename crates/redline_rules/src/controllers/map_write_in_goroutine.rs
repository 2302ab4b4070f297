use crate::{Context, DiagnosticExt, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_diagnostics::Diagnostic;
use redline_go::{Node, unparen_type};

declare_rule! {
    /// ## What it does
    /// Inside the function literal of a `go` statement, finds writes
    /// (`m[k] = v`, `m[k] += v`, `m[k]++`) to a map variable captured from
    /// the enclosing function — a local or parameter declared there, not
    /// inside the literal — when the literal calls no `Lock()` before the
    /// write. Only variables whose declaration shows a map (a map type, or
    /// `make`/a literal of one) are considered, so slices are never
    /// reported.
    ///
    /// ## Why is this bad?
    /// Go maps are not safe for concurrent use: the goroutine races with
    /// its siblings and with the enclosing function, and the runtime kills
    /// the process with `fatal error: concurrent map writes` (or `concurrent
    /// map read and map write`). A goroutine that is the map's only writer,
    /// read by its parent only after a handshake, is correct only as long
    /// as the handshake really orders every write before every read: the
    /// rule asks for the lock (or a channel of results) that makes it
    /// obvious. Where a handshake is the design, say so with
    /// `//redline:ignore RL203 -- <why the reads are ordered>`.
    ///
    /// ## Example
    /// ```go
    /// sizes := make(map[string]int)
    /// for _, ns := range namespaces {
    ///     wg.Add(1)
    ///     go func(ns string) {
    ///         defer wg.Done()
    ///         sizes[ns] = countPods(ns)
    ///     }(ns)
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// var mu sync.Mutex
    /// sizes := make(map[string]int)
    /// for _, ns := range namespaces {
    ///     wg.Add(1)
    ///     go func(ns string) {
    ///         defer wg.Done()
    ///         n := countPods(ns)
    ///         mu.Lock()
    ///         sizes[ns] = n
    ///         mu.Unlock()
    ///     }(ns)
    /// }
    /// ```
    ///
    /// ## Fix
    /// None automatic: guard the map with a mutex, send results over a
    /// channel, or give each goroutine its own slot (a slice index).
    pub struct MapWriteInGoroutine {
        id: "RL203",
        name: "map-write-in-goroutine",
        severity: Warning,
        fix: None,
        target: Go,
        summary: "a goroutine writes a captured map without locking",
    }
}

impl GoRule for MapWriteInGoroutine {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for &go in &cx.index.go_statements {
            let Some(call) = go.named_child(0).map(unparen) else {
                continue;
            };
            if call.kind() != "call_expression" {
                continue;
            }
            let Some(lit) = call.child_by_field_name("function").map(unparen) else {
                continue;
            };
            if lit.kind() != "func_literal" {
                continue;
            }
            let Some(body) = lit.child_by_field_name("body") else {
                continue;
            };
            let (writes, locks) = writes_and_locks(cx, body);
            for w in writes {
                if locks.iter().any(|&l| l < w.start_byte()) {
                    continue;
                }
                let Some(operand) = w.child_by_field_name("operand").map(unparen) else {
                    continue;
                };
                if operand.kind() != "identifier" {
                    continue;
                }
                let name = cx.text(operand);
                let Some(decl) = cx.index.local_declaration(name, operand) else {
                    continue;
                };
                // Declared inside the literal: not shared.
                if decl.start_byte() >= lit.start_byte() && decl.end_byte() <= lit.end_byte() {
                    continue;
                }
                if !declares_map(cx, decl) {
                    continue;
                }
                out.push(
                    cx.node_diagnostic(
                        &Self::META,
                        w,
                        format!(
                            "goroutine writes to map `{name}` of the enclosing function without holding a lock; a concurrent write or read crashes the process"
                        ),
                    )
                    .with_help("guard the map with a `sync.Mutex` (Lock before the write), or send results over a channel"),
                );
            }
        }
    }
}

/// Index expressions written in `body` (nested literals included) and the
/// start of every `X.Lock()` call.
fn writes_and_locks<'a>(cx: &Context<'a>, body: Node<'a>) -> (Vec<Node<'a>>, Vec<usize>) {
    let mut writes = Vec::new();
    let mut locks = Vec::new();
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "assignment_statement" => {
                if let Some(left) = n.child_by_field_name("left") {
                    writes.extend(
                        args(left)
                            .into_iter()
                            .map(unparen)
                            .filter(|l| l.kind() == "index_expression"),
                    );
                }
            }
            "inc_statement" | "dec_statement" => {
                if let Some(o) = n.named_child(0).map(unparen)
                    && o.kind() == "index_expression"
                {
                    writes.push(o);
                }
            }
            "call_expression" => {
                if let Some(f) = n.child_by_field_name("function").map(unparen)
                    && f.kind() == "selector_expression"
                    && f.child_by_field_name("field")
                        .is_some_and(|x| cx.text(x) == "Lock")
                    && n.child_by_field_name("arguments")
                        .is_some_and(|a| args(a).is_empty())
                {
                    locks.push(n.start_byte());
                }
            }
            _ => {}
        }
        let mut c = n.walk();
        for child in n.named_children(&mut c) {
            stack.push(child);
        }
    }
    writes.sort_by_key(|w| w.start_byte());
    (writes, locks)
}

/// Whether the declaration at `ident` shows a map: a map type, or a value
/// made with `make` or a literal of a map type.
fn declares_map(cx: &Context<'_>, ident: Node<'_>) -> bool {
    let Some(parent) = ident.parent() else {
        return false;
    };
    match parent.kind() {
        "parameter_declaration" | "variadic_parameter_declaration" => {
            parent.kind() == "parameter_declaration"
                && parent
                    .child_by_field_name("type")
                    .is_some_and(|t| is_map_type(cx, t))
        }
        "var_spec" => {
            if let Some(t) = parent.child_by_field_name("type") {
                return is_map_type(cx, t);
            }
            let mut c = parent.walk();
            let names: Vec<Node<'_>> = parent.children_by_field_name("name", &mut c).collect();
            let values = parent
                .child_by_field_name("value")
                .map(args)
                .unwrap_or_default();
            paired_value(&names, &values, ident).is_some_and(|v| is_map_value(cx, v))
        }
        "expression_list" => {
            let Some(stmt) = parent.parent() else {
                return false;
            };
            if stmt.kind() != "short_var_declaration" {
                return false;
            }
            let names = args(parent);
            let values = stmt
                .child_by_field_name("right")
                .map(args)
                .unwrap_or_default();
            paired_value(&names, &values, ident).is_some_and(|v| is_map_value(cx, v))
        }
        _ => false,
    }
}

fn paired_value<'t>(names: &[Node<'t>], values: &[Node<'t>], ident: Node<'t>) -> Option<Node<'t>> {
    if names.len() != values.len() {
        return None;
    }
    let i = names.iter().position(|n| n.id() == ident.id())?;
    values.get(i).copied()
}

fn is_map_type(cx: &Context<'_>, ty: Node<'_>) -> bool {
    let t = unparen_type(ty);
    match t.kind() {
        "map_type" => true,
        "type_identifier" => cx.package.is_map_type(cx.text(t)),
        "generic_type" => t
            .child_by_field_name("type")
            .is_some_and(|b| b.kind() == "type_identifier" && cx.package.is_map_type(cx.text(b))),
        _ => false,
    }
}

fn is_map_value(cx: &Context<'_>, v: Node<'_>) -> bool {
    let v = unparen(v);
    match v.kind() {
        "composite_literal" => v
            .child_by_field_name("type")
            .is_some_and(|t| is_map_type(cx, t)),
        "call_expression" => {
            let Some(f) = v.child_by_field_name("function").map(unparen) else {
                return false;
            };
            if f.kind() != "identifier" || cx.text(f) != "make" {
                return false;
            }
            if cx.index.is_local_binding("make", f) || cx.package.values.contains("make") {
                return false;
            }
            v.child_by_field_name("arguments")
                .and_then(|a| args(a).first().copied())
                .is_some_and(|t| is_map_type(cx, t))
        }
        _ => false,
    }
}
