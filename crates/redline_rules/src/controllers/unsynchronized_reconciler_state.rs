use crate::{Context, Findings, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_go::{GoFile, Node, Package, TypeKind, node_text, unparen_type};
use std::collections::{HashMap, HashSet};

declare_rule! {
    /// ## What it does
    /// Finds map state of a reconciler that is written while other
    /// reconciles can run. A reconciler is a struct type with a method
    /// `Reconcile` whose first parameter is a `context.Context`; its map
    /// fields are those of a map type literal or a map type of the same
    /// package. A field is reported when some method of the type — or a
    /// function literal inside one, including literals inside setup
    /// methods, which run later as event handlers — writes it
    /// (`r.m[k] = v`, `op=`, `++`/`--`, `delete(r.m, k)`, or assigns the
    /// field itself) without first calling `Lock()` on a `sync.Mutex` /
    /// `sync.RWMutex` field of the receiver (named or embedded) in that
    /// method or literal.
    ///
    /// Not counted: methods named `SetupWithManager` or starting with
    /// `Setup`, `Init` or `New` (they run once, before the workers start),
    /// plain functions that build the struct, and helper methods that only
    /// those call (an unexported `setup()` called from
    /// `SetupWithManager`), so a map that is only filled at construction
    /// and read afterwards is not reported. A write
    /// is guarded when its method locks a receiver mutex before it, when
    /// the method's name ends in `Locked` (the Go convention for "the
    /// caller holds the lock"), or when every call of the method inside
    /// the package comes after a `Lock()` in its caller. A mutex that
    /// exists but is not locked before the write does not silence the
    /// rule. One finding per map field; the message names the first
    /// unguarded write.
    ///
    /// ## Why is this bad?
    /// Controller workers reconcile concurrently (`MaxConcurrentReconciles`),
    /// and event handlers and other callbacks run beside them: a write to
    /// a shared map while another goroutine reads or writes it kills the
    /// process with `fatal error: concurrent map writes` — not a panic that
    /// `recover` stops, and typically under load, right after a restart.
    ///
    /// ## Example
    /// ```go
    /// type PodReconciler struct {
    ///     client.Client
    ///     lastSeen map[types.NamespacedName]time.Time
    /// }
    ///
    /// func (r *PodReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
    ///     r.lastSeen[req.NamespacedName] = time.Now()
    ///     ...
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// type PodReconciler struct {
    ///     client.Client
    ///     mu       sync.Mutex
    ///     lastSeen map[types.NamespacedName]time.Time
    /// }
    ///
    /// func (r *PodReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
    ///     r.mu.Lock()
    ///     r.lastSeen[req.NamespacedName] = time.Now()
    ///     r.mu.Unlock()
    ///     ...
    /// }
    /// ```
    ///
    /// ## Fix
    /// None automatic: keep maps local to one `Reconcile` call, use
    /// `sync.Map`, or lock a mutex of the reconciler around every write.
    pub struct UnsynchronizedReconcilerState {
        id: "RL202",
        name: "unsynchronized-reconciler-state",
        severity: Error,
        fix: None,
        kind: Go,
        finds: "a reconciler's map is written without a lock while other reconciles can run",
    }
}

/// A write to a map field, found in some file of the package.
struct FieldWrite {
    file: usize,
    pos: usize,
}

impl GoRule for UnsynchronizedReconcilerState {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        let mut facts = None;
        for &spec in &cx.index.type_specs {
            if spec.kind() != "type_spec" {
                continue;
            }
            // Only package-level types have methods.
            if !is_top_level(spec) {
                continue;
            }
            let (Some(name), Some(ty)) = (
                spec.child_by_field_name("name"),
                spec.child_by_field_name("type"),
            ) else {
                continue;
            };
            let ty = unparen_type(ty);
            if ty.kind() != "struct_type" {
                continue;
            }
            let type_name = cx.text(name);
            if !has_reconcile(cx, type_name) {
                continue;
            }
            let fields = field_declarations(ty);
            let mut map_fields: Vec<Node<'_>> = Vec::new();
            let mut locks = Locks::default();
            for &f in &fields {
                if is_embedded(f) {
                    if is_lock_field(cx, f) || embeds_lock(cx, f, 0) {
                        locks.promoted = true;
                        if let Some(t) = f.child_by_field_name("type") {
                            locks.fields.insert(embedded_name(cx.text(t)).to_string());
                        }
                    }
                    continue;
                }
                let mut c = f.walk();
                let names: Vec<Node<'_>> = f.children_by_field_name("name", &mut c).collect();
                if is_lock_field(cx, f) {
                    locks
                        .fields
                        .extend(names.iter().map(|n| cx.text(*n).to_string()));
                    continue;
                }
                if f.child_by_field_name("type")
                    .is_some_and(|t| is_map_type(cx, t))
                {
                    map_fields.extend(names);
                }
            }
            if map_fields.is_empty() {
                continue;
            }
            let facts = facts.get_or_insert_with(|| cx.package.memo(CallFacts::build));
            let Some(facts) = facts.as_deref() else {
                continue;
            };
            let names: HashSet<&str> = map_fields.iter().map(|n| cx.text(*n)).collect();
            let writes = unguarded_writes(cx.package, type_name, &names, &locks, facts);
            for field in map_fields {
                let fname = cx.text(field);
                let Some(first) = writes.get(fname).and_then(|w| {
                    w.iter().min_by_key(|w| {
                        (
                            cx.package.files.get(w.file).map(|f| f.display.as_str()),
                            w.pos,
                        )
                    })
                }) else {
                    continue;
                };
                let Some(file) = cx.package.files.get(first.file) else {
                    continue;
                };
                let line = file.lines.span(first.pos, first.pos).line;
                let at = format!("{}:{line}", file.display);
                out.report(field, format!(
                            "map `{fname}` of reconciler `{type_name}` is written at {at} without a lock on the reconciler; reconciles and event handlers run concurrently, and a write during another access kills the process (`fatal error: concurrent map writes`)"
                        )).help(format!(
                        "lock a `sync.Mutex` field of `{type_name}` before every write of `{fname}` (and around its reads), use `sync.Map`, or keep the map local to one Reconcile call"
                    ));
            }
        }
    }
}

/// The receiver mutexes of a reconciler: fields whose `Lock()` guards it.
#[derive(Default)]
struct Locks {
    /// Named mutex fields, and embedded mutexes or lock-holding structs
    /// by their type name (`r.mu.Lock()`, `r.RWMutex.Lock()`).
    fields: HashSet<String>,
    /// A mutex is promoted to the receiver (`r.Lock()`).
    promoted: bool,
}

impl Locks {
    fn guards(&self, recv: &str, locked: &[(&str, usize)]) -> bool {
        locked.iter().any(|(l, _)| {
            (self.promoted && *l == recv)
                || l.strip_prefix(recv)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|f| self.fields.contains(f))
        })
    }
}

fn embedded_name(type_text: &str) -> &str {
    let t = type_text.trim_start_matches('*');
    t.rsplit('.').next().unwrap_or(t)
}

/// Methods that run once before the workers start. Unexported helpers
/// (`setup`, `initCache`) are not judged by name — `initDataPath` may run
/// in every reconcile — but by their callers (see [`CallSite`]).
fn is_setup(name: &str) -> bool {
    name == "SetupWithManager"
        || name.starts_with("Setup")
        || name.starts_with("Init")
        || name.starts_with("New")
}

/// Unguarded writes to the map fields `names` of type `type_name`, by
/// field, over every method of the type in the package.
fn unguarded_writes(
    pkg: &Package,
    type_name: &str,
    names: &HashSet<&str>,
    locks: &Locks,
    facts: &CallFacts,
) -> HashMap<String, Vec<FieldWrite>> {
    let mut out: HashMap<String, Vec<FieldWrite>> = HashMap::new();
    for m in pkg.methods_of(type_name) {
        let (Some(decl), Some(file)) = (pkg.method_node(m), pkg.files.get(m.file)) else {
            continue;
        };
        let Some(recv) = receiver_name(decl, file) else {
            continue;
        };
        let Some(body) = decl.child_by_field_name("body") else {
            continue;
        };
        let calls = facts.calls.get(&m.name).filter(|c| !c.is_empty());
        // A setup method, or a helper only setup code and constructors
        // call.
        let setup = is_setup(&m.name) || calls.is_some_and(|c| c.iter().all(|c| c.from_setup));
        // Callers hold the lock: by name, or at every call in the package.
        let callers_lock =
            m.name.ends_with("Locked") || calls.is_some_and(|c| c.iter().all(|c| c.locked));
        let delete_is_builtin = !pkg.values.contains("delete");
        walk_units(body, &file.source, &mut |node, unit| {
            let in_body = !unit.literal;
            if in_body && (setup || callers_lock) {
                return;
            }
            let Some(field) = written_field(node, recv, &file.source, delete_is_builtin) else {
                return;
            };
            if !names.contains(field) || locks.guards(recv, &unit.locks) {
                return;
            }
            out.entry(field.to_string()).or_default().push(FieldWrite {
                file: m.file,
                pos: node.start_byte(),
            });
        });
    }
    out
}

fn receiver_name<'s>(decl: Node<'_>, file: &'s GoFile) -> Option<&'s str> {
    let param = decl.child_by_field_name("receiver")?.named_child(0)?;
    let name = node_text(param.child_by_field_name("name")?, &file.source);
    (name != "_").then_some(name)
}

/// The field of `recv` that `node` writes, if it is a write: an
/// assignment or inc/dec of `recv.f[k]`, an assignment of `recv.f`, or
/// `delete(recv.f, k)`.
fn written_field<'s>(
    node: Node<'_>,
    recv: &str,
    src: &'s [u8],
    delete_is_builtin: bool,
) -> Option<&'s str> {
    let field_of = |e: Node<'_>| -> Option<&'s str> {
        let e = unparen(e);
        if e.kind() != "selector_expression" {
            return None;
        }
        let operand = e.child_by_field_name("operand").map(unparen)?;
        (operand.kind() == "identifier" && node_text(operand, src) == recv)
            .then(|| e.child_by_field_name("field").map(|f| node_text(f, src)))
            .flatten()
    };
    let element_of = |t: Node<'_>| -> Option<&'s str> {
        let t = unparen(t);
        match t.kind() {
            "index_expression" => field_of(t.child_by_field_name("operand")?),
            _ => None,
        }
    };
    match node.kind() {
        "assignment_statement" => {
            let left = node.child_by_field_name("left")?;
            args(left)
                .into_iter()
                .find_map(|t| element_of(t).or_else(|| field_of(t)))
        }
        "inc_statement" | "dec_statement" => element_of(node.named_child(0)?),
        "call_expression" => {
            let f = node.child_by_field_name("function").map(unparen)?;
            if !delete_is_builtin || f.kind() != "identifier" || node_text(f, src) != "delete" {
                return None;
            }
            let first = args(node.child_by_field_name("arguments")?)
                .first()
                .copied()?;
            field_of(first)
        }
        _ => None,
    }
}

/// Where one piece of code runs: a function's body, or a function literal
/// that runs later (not called on the spot), with the `X.Lock()` calls
/// seen so far in it (the text of `X`).
struct Unit<'s> {
    literal: bool,
    /// Held locks, with the depth of the `Lock()` call: an `Unlock()` at
    /// that depth or shallower (not in a nested branch, not deferred)
    /// releases it.
    locks: Vec<(&'s str, usize)>,
}

/// Visits every node of `body` in source order with the unit it runs in.
/// A literal called on the spot (`func() {...}()`, also deferred) is part
/// of its function's unit; any other literal (a `go` statement's, an
/// event handler) is a unit of its own, which the enclosing function's
/// locks do not guard.
fn walk_units<'t, 's>(body: Node<'t>, src: &'s [u8], visit: &mut dyn FnMut(Node<'t>, &Unit<'s>)) {
    let mut units = vec![(
        body.start_byte(),
        body.end_byte(),
        Unit {
            literal: false,
            locks: Vec::new(),
        },
    )];
    let mut cursor = body.walk();
    let mut parents: Vec<Node<'t>> = Vec::new();
    loop {
        let node = cursor.node();
        if node.kind() == "func_literal" && !called_on_the_spot(node, &parents) {
            units.push((
                node.start_byte(),
                node.end_byte(),
                Unit {
                    literal: true,
                    locks: Vec::new(),
                },
            ));
        }
        if let Some((_, _, unit)) = units.last_mut() {
            if node.kind() == "call_expression" {
                let depth = parents.len();
                match lock_operand(node, src) {
                    Some((x, true)) => unit.locks.push((x, depth)),
                    Some((x, false))
                        if parents.last().is_none_or(|p| p.kind() != "defer_statement") =>
                    {
                        if let Some(i) = unit.locks.iter().rposition(|&(l, d)| l == x && depth <= d)
                        {
                            unit.locks.remove(i);
                        }
                    }
                    _ => {}
                }
            }
            visit(node, unit);
        }
        if cursor.goto_first_child() {
            parents.push(node);
            continue;
        }
        loop {
            let left = cursor.node();
            if left.kind() == "func_literal"
                && units.len() > 1
                && units
                    .last()
                    .is_some_and(|(s, e, _)| (*s, *e) == (left.start_byte(), left.end_byte()))
            {
                units.pop();
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
            parents.pop();
            if parents.is_empty() && cursor.node().id() == body.id() {
                return;
            }
        }
    }
}

fn called_on_the_spot(lit: Node<'_>, parents: &[Node<'_>]) -> bool {
    let mut up = parents.iter().rev();
    let mut parent = up.next();
    while let Some(p) = parent.filter(|p| p.kind() == "parenthesized_expression") {
        let _ = p;
        parent = up.next();
    }
    let Some(call) = parent.filter(|p| p.kind() == "call_expression") else {
        return false;
    };
    let is_callee = call
        .child_by_field_name("function")
        .map(unparen)
        .is_some_and(|f| f.id() == lit.id());
    let in_go = up
        .find(|n| n.kind() != "parenthesized_expression")
        .is_some_and(|n| n.kind() == "go_statement");
    is_callee && !in_go
}

/// For `X.Lock()`, the text of `X` and `true`; for `X.Unlock()`, `false`.
fn lock_operand<'s>(call: Node<'_>, src: &'s [u8]) -> Option<(&'s str, bool)> {
    let f = call.child_by_field_name("function").map(unparen)?;
    if f.kind() != "selector_expression" || !args(call.child_by_field_name("arguments")?).is_empty()
    {
        return None;
    }
    let lock = match f.child_by_field_name("field").map(|x| node_text(x, src)) {
        Some("Lock") => true,
        Some("Unlock") => false,
        _ => return None,
    };
    Some((node_text(f.child_by_field_name("operand")?, src), lock))
}

/// For every method name of a reconciler type of the package, whether
/// each of its calls in the package (`X.name(...)`) comes after a
/// `Lock()` of `X` or one of its fields in the calling unit, or sits in a
/// method whose name ends in `Locked`.
struct CallFacts {
    calls: HashMap<String, Vec<CallSite>>,
}

struct CallSite {
    locked: bool,
    /// In the body of a setup method or of a plain function (a
    /// constructor), not in a literal that runs later.
    from_setup: bool,
}

impl CallFacts {
    fn build(pkg: &Package) -> CallFacts {
        let mut wanted: HashSet<&str> = HashSet::new();
        for methods in pkg.methods.values() {
            if methods.iter().any(|m| m.name == "Reconcile") {
                wanted.extend(methods.iter().map(|m| m.name.as_str()));
            }
        }
        let mut calls: HashMap<String, Vec<CallSite>> = HashMap::new();
        if wanted.is_empty() {
            return CallFacts { calls };
        }
        for file in &pkg.files {
            let root = file.tree.root_node();
            let mut c = root.walk();
            for decl in root.named_children(&mut c) {
                if !matches!(decl.kind(), "function_declaration" | "method_declaration") {
                    continue;
                }
                let Some(body) = decl.child_by_field_name("body") else {
                    continue;
                };
                let caller = decl
                    .child_by_field_name("name")
                    .map(|n| node_text(n, &file.source))
                    .unwrap_or("");
                let locked_by_name = caller.ends_with("Locked");
                let setup_caller = decl.kind() == "function_declaration" || is_setup(caller);
                walk_units(body, &file.source, &mut |node, unit| {
                    if node.kind() != "call_expression" {
                        return;
                    }
                    let Some(f) = node.child_by_field_name("function").map(unparen) else {
                        return;
                    };
                    if f.kind() != "selector_expression" {
                        return;
                    }
                    let (Some(operand), Some(name)) = (
                        f.child_by_field_name("operand"),
                        f.child_by_field_name("field"),
                    ) else {
                        return;
                    };
                    let name = node_text(name, &file.source);
                    if !wanted.contains(name) {
                        return;
                    }
                    let x = node_text(operand, &file.source);
                    let locked = (locked_by_name && !unit.literal)
                        || unit.locks.iter().any(|(l, _)| {
                            *l == x || l.strip_prefix(x).is_some_and(|rest| rest.starts_with('.'))
                        });
                    calls.entry(name.to_string()).or_default().push(CallSite {
                        locked,
                        from_setup: setup_caller && !unit.literal,
                    });
                });
            }
        }
        CallFacts { calls }
    }
}

/// Whether the package declares `Reconcile(ctx context.Context, ...)` on
/// the type.
fn has_reconcile(cx: &Context<'_>, type_name: &str) -> bool {
    let context_names: Vec<&str> = cx
        .file
        .imports_of("context")
        .filter_map(|i| i.local_name())
        .collect();
    cx.package.methods_of(type_name).iter().any(|m| {
        m.name == "Reconcile"
            && m.param_types.first().is_some_and(|t| {
                let t = t.trim();
                // The method may live in another file, whose imports this
                // file cannot see: a renamed `context` import is
                // recognised by its name.
                t == "context.Context"
                    || t.strip_suffix(".Context").is_some_and(|q| {
                        context_names.contains(&q)
                            || q.to_ascii_lowercase().contains("context")
                            || q.to_ascii_lowercase().contains("ctx")
                    })
            })
    })
}

fn is_top_level(spec: Node<'_>) -> bool {
    let mut n = spec.parent();
    while let Some(p) = n {
        match p.kind() {
            "type_spec_list" | "type_declaration" => n = p.parent(),
            "source_file" => return true,
            _ => return false,
        }
    }
    false
}

fn field_declarations(struct_type: Node<'_>) -> Vec<Node<'_>> {
    let Some(list) = struct_type
        .named_child(0)
        .filter(|n| n.kind() == "field_declaration_list")
    else {
        return Vec::new();
    };
    let mut c = list.walk();
    list.named_children(&mut c)
        .filter(|n| n.kind() == "field_declaration")
        .collect()
}

fn is_embedded(field: Node<'_>) -> bool {
    let mut c = field.walk();
    field
        .children_by_field_name("name", &mut c)
        .next()
        .is_none()
}

fn strip_pointer(ty: Node<'_>) -> Node<'_> {
    let mut t = unparen_type(ty);
    while t.kind() == "pointer_type" {
        match t.named_child(0) {
            Some(inner) => t = unparen_type(inner),
            None => break,
        }
    }
    t
}

/// A `sync.Mutex`/`sync.RWMutex` field (or pointer), or another package's
/// `Mutex`/`RWMutex`.
fn is_lock_field(cx: &Context<'_>, field: Node<'_>) -> bool {
    let Some(ty) = field.child_by_field_name("type") else {
        return false;
    };
    let t = strip_pointer(ty);
    if t.kind() != "qualified_type" {
        return false;
    }
    cx.index.refers_to(t, "sync", "Mutex")
        || cx.index.refers_to(t, "sync", "RWMutex")
        || t.child_by_field_name("name")
            .is_some_and(|n| matches!(cx.text(n), "Mutex" | "RWMutex"))
}

/// An embedded struct of the same package that holds a lock (its fields
/// are promoted, so `r.Lock()` works).
fn embeds_lock(cx: &Context<'_>, field: Node<'_>, depth: usize) -> bool {
    if depth > 4 {
        return false;
    }
    let Some(ty) = field.child_by_field_name("type") else {
        return false;
    };
    let t = strip_pointer(ty);
    if t.kind() != "type_identifier" {
        return false;
    }
    let Some(decl) = cx.package.types.get(cx.text(t)) else {
        return false;
    };
    if decl.kind != TypeKind::Struct {
        return false;
    }
    decl.fields.iter().any(|f| {
        let text = f.type_text.trim_start_matches('*');
        text.ends_with(".Mutex") || text.ends_with(".RWMutex")
    }) || decl.fields.iter().filter(|f| f.embedded).any(|f| {
        let inner = f.type_text.trim_start_matches('*');
        nested_lock(cx, inner, depth + 1)
    })
}

fn nested_lock(cx: &Context<'_>, type_name: &str, depth: usize) -> bool {
    if depth > 4 {
        return false;
    }
    let Some(decl) = cx.package.types.get(type_name) else {
        return false;
    };
    decl.kind == TypeKind::Struct
        && (decl.fields.iter().any(|f| {
            let text = f.type_text.trim_start_matches('*');
            text.ends_with(".Mutex") || text.ends_with(".RWMutex")
        }) || decl
            .fields
            .iter()
            .filter(|f| f.embedded)
            .any(|f| nested_lock(cx, f.type_text.trim_start_matches('*'), depth + 1)))
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
