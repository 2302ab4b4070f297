use crate::{Context, DiagnosticExt, GoRule, RuleMeta, declare_rule};
use redline_diagnostics::Diagnostic;
use redline_go::{Node, TypeKind, unparen_type};

declare_rule! {
    /// ## What it does
    /// Finds reconciler structs that keep state in a map without a lock: a
    /// struct type with a method `Reconcile` whose first parameter is a
    /// `context.Context`, holding a field of map type (a map type literal or
    /// a map type of the same package), when the struct has no
    /// `sync.Mutex` / `sync.RWMutex` field (named or embedded, directly or
    /// through an embedded struct of the same package). A field typed as
    /// another package's `Mutex`/`RWMutex` (for example a deadlock-detecting
    /// drop-in) counts as a lock too.
    ///
    /// ## Why is this bad?
    /// Controller workers reconcile concurrently (`MaxConcurrentReconciles`),
    /// so a map on the reconciler is shared by several goroutines at once:
    /// one write while another worker reads or writes it, and the process
    /// dies with `fatal error: concurrent map writes` — not a recoverable
    /// panic. A map filled before the manager starts and only read by
    /// `Reconcile` is safe today, but nothing in the type keeps it that
    /// way: the red line is that reconciler state is visibly synchronized.
    /// Where a map is immutable by design, say so with
    /// `//redline:ignore RL202 -- <filled in SetupWithManager, read-only after>`.
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
    /// ```
    ///
    /// ## Fix
    /// None automatic: keep maps local to one `Reconcile` call, use
    /// `sync.Map`, or guard the map with a mutex.
    pub struct UnsynchronizedReconcilerState {
        id: "RL202",
        name: "unsynchronized-reconciler-state",
        severity: Error,
        fix: None,
        target: Go,
        summary: "a reconciler holds a map without a mutex; concurrent reconciles crash the process",
    }
}

impl GoRule for UnsynchronizedReconcilerState {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
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
            if fields.iter().any(|f| is_lock_field(cx, *f)) {
                continue;
            }
            if fields
                .iter()
                .any(|f| is_embedded(*f) && embeds_lock(cx, *f, 0))
            {
                continue;
            }
            for f in fields {
                if is_embedded(f) {
                    continue;
                }
                let Some(fty) = f.child_by_field_name("type") else {
                    continue;
                };
                if !is_map_type(cx, fty) {
                    continue;
                }
                let mut c = f.walk();
                for n in f.children_by_field_name("name", &mut c) {
                    let field = cx.text(n);
                    out.push(
                        cx.node_diagnostic(
                            &Self::META,
                            n,
                            format!(
                                "reconciler `{type_name}` keeps map `{field}` without a mutex; reconciles run concurrently, and a write during one crashes the process (`fatal error: concurrent map writes`)"
                            ),
                        )
                        .with_help("keep the map local to one Reconcile call, use `sync.Map`, or add a `sync.Mutex` that guards it"),
                    );
                }
            }
        }
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
