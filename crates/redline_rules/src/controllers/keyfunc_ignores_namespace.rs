use crate::{Context, Findings, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_go::{Node, unparen_type};
use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};

declare_rule! {
    /// ## What it does
    /// Finds client-go key functions whose key is built from the object's
    /// name (`GetName()`, `.Name`) without its namespace (`GetNamespace()`,
    /// `.Namespace`, `cache.MetaNamespaceKeyFunc`, `cache.ObjectToName`) or
    /// its UID (`GetUID()`, `.UID`). A key function is a function passed to
    /// `cache.NewStore`, `cache.NewIndexer`, `cache.NewFIFO`,
    /// `cache.NewDeltaFIFO` or `cache.NewDeltaFIFOWithOptions`
    /// (`KeyFunction:`) — a literal, a local variable holding one, or a
    /// function of the same file — or a function declared with signature
    /// `func(obj interface{}) (string, error)` (or `any`) whose name ends in
    /// `KeyFunc` (`keyFunc` included).
    ///
    /// Not reported when the function only handles cluster-scoped kinds it
    /// names in type assertions or type switches (Node, Namespace,
    /// PersistentVolume, ClusterRole, ClusterRoleBinding, StorageClass,
    /// CustomResourceDefinition, PriorityClass).
    ///
    /// ## Why is this bad?
    /// Two objects with the same name in different namespaces get the same
    /// key: in the store one silently overwrites the other, and the
    /// controller acts on the wrong object or never sees one of them.
    ///
    /// ## Example
    /// ```go
    /// store := cache.NewStore(func(obj interface{}) (string, error) {
    ///     return obj.(*corev1.Pod).Name, nil
    /// })
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// store := cache.NewStore(cache.MetaNamespaceKeyFunc)
    /// ```
    ///
    /// ## Fix
    /// None automatic: use `cache.MetaNamespaceKeyFunc`, or build the key
    /// from the namespace and the name (or the UID).
    pub struct KeyfuncIgnoresNamespace {
        id: "RL201",
        name: "keyfunc-ignores-namespace",
        severity: Error,
        fix: None,
        kind: Go,
        finds: "a client-go key function builds keys from the name without the namespace",
    }
}

const CACHE: &str = "k8s.io/client-go/tools/cache";

const CONSTRUCTORS: &[(&str, &str)] = &[
    (CACHE, "NewStore"),
    (CACHE, "NewIndexer"),
    (CACHE, "NewFIFO"),
    (CACHE, "NewDeltaFIFO"),
];

const CLUSTER_SCOPED: &[&str] = &[
    "Node",
    "Namespace",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "CustomResourceDefinition",
    "PriorityClass",
];

impl GoRule for KeyfuncIgnoresNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        // tree-sitter's `Node::parent` searches down from the root, so a
        // parent costs the depth: with it, 10,000 nested function literals
        // took 22 s. The parents this rule needs come from one walk, made
        // only when a candidate needs one.
        let parents = Parents::default();
        // Key functions found, by the start of their `func` keyword.
        let mut found: BTreeMap<usize, Node<'_>> = BTreeMap::new();
        if cx.file.imports_path(CACHE) {
            for &call in &cx.index.calls {
                let Some(arg_list) = call.child_by_field_name("arguments") else {
                    continue;
                };
                let arguments = args(arg_list);
                if cx.index.callee(call, CONSTRUCTORS).is_some() {
                    if let Some(first) = arguments.first()
                        && let Some(f) = key_function(cx, &parents, *first)
                    {
                        found.insert(f.start_byte(), f);
                    }
                } else if cx
                    .index
                    .callee(call, &[(CACHE, "NewDeltaFIFOWithOptions")])
                    .is_some()
                    && let Some(first) = arguments.first()
                    && let Some(value) = keyed_value(cx, *first, "KeyFunction")
                    && let Some(f) = key_function(cx, &parents, value)
                {
                    found.insert(f.start_byte(), f);
                }
            }
        }
        for &f in &cx.index.functions {
            // The signature first: it needs no parent.
            if has_key_signature(cx, f)
                && let Some(name) = declared_name(cx, &parents, f)
                && (name == "keyFunc" || name.ends_with("KeyFunc"))
            {
                found.insert(f.start_byte(), f);
            }
        }
        let all_uses = uses_of(cx, &found);
        for f in found.into_values() {
            let Some(uses) = all_uses.get(&f.id()) else {
                continue;
            };
            if !uses.name || uses.namespace_or_uid {
                continue;
            }
            if !uses.kinds.is_empty() && uses.kinds.iter().all(|k| CLUSTER_SCOPED.contains(k)) {
                continue;
            }
            let func_kw = f.child(0).filter(|c| c.kind() == "func").unwrap_or(f);
            let what = declared_name(cx, &parents, f)
                .map(|n| format!("key function `{n}`"))
                .unwrap_or_else(|| "this key function".to_string());
            out.report_span(cx.file.span(func_kw), format!(
                        "{what} builds the key from the object's name without its namespace or UID; objects with the same name in different namespaces overwrite each other"
                    )).help("use `cache.MetaNamespaceKeyFunc`, or include `GetNamespace()` (or the UID) in the key");
        }
    }
}

/// The parent of every node of the file, from one walk of the tree, made
/// the first time a parent is asked for.
#[derive(Default)]
struct Parents<'a> {
    map: OnceCell<HashMap<usize, Node<'a>>>,
}

impl<'a> Parents<'a> {
    fn of(&self, cx: &Context<'a>, node: Node<'a>) -> Option<Node<'a>> {
        self.map
            .get_or_init(|| {
                let mut map = HashMap::new();
                let mut stack = vec![cx.file.tree.root_node()];
                while let Some(n) = stack.pop() {
                    let mut c = n.walk();
                    for child in n.children(&mut c) {
                        map.insert(child.id(), n);
                        stack.push(child);
                    }
                }
                map
            })
            .get(&node.id())
            .copied()
    }
}

/// The function node behind a key-function argument: a literal, a local
/// variable initialised with a literal, or a function declared in this file.
fn key_function<'a>(cx: &Context<'a>, parents: &Parents<'a>, arg: Node<'a>) -> Option<Node<'a>> {
    let arg = unparen(arg);
    match arg.kind() {
        "func_literal" => Some(arg),
        "identifier" => {
            let name = cx.text(arg);
            if let Some(decl) = cx.index.local_declaration(name, arg) {
                return initial_func_literal(cx, parents, decl);
            }
            let root = cx.file.tree.root_node();
            let mut c = root.walk();
            let mut decls = root.named_children(&mut c);
            decls.find(|d| {
                d.kind() == "function_declaration"
                    && d.child_by_field_name("name")
                        .is_some_and(|n| cx.text(n) == name)
            })
        }
        _ => None,
    }
}

/// For a declaring identifier (`f := func...`, `var f = func...`), the
/// literal it is initialised with.
fn initial_func_literal<'a>(
    cx: &Context<'a>,
    parents: &Parents<'a>,
    ident: Node<'a>,
) -> Option<Node<'a>> {
    let parent = parents.of(cx, ident)?;
    let (names, values) = match parent.kind() {
        "var_spec" => {
            let mut c = parent.walk();
            let names: Vec<Node<'a>> = parent.children_by_field_name("name", &mut c).collect();
            (names, args(parent.child_by_field_name("value")?))
        }
        "expression_list" => {
            let stmt = parents.of(cx, parent)?;
            if stmt.kind() != "short_var_declaration" {
                return None;
            }
            (args(parent), args(stmt.child_by_field_name("right")?))
        }
        _ => return None,
    };
    if names.len() != values.len() {
        return None;
    }
    let i = names.iter().position(|n| n.id() == ident.id())?;
    let v = unparen(values[i]);
    (v.kind() == "func_literal").then_some(v)
}

/// `KeyFunction: f` in a `cache.DeltaFIFOOptions{...}` literal (or `&`).
fn keyed_value<'a>(cx: &Context<'a>, arg: Node<'a>, field: &str) -> Option<Node<'a>> {
    let mut lit = unparen(arg);
    if lit.kind() == "unary_expression" {
        lit = unparen(lit.child_by_field_name("operand")?);
    }
    if lit.kind() != "composite_literal" {
        return None;
    }
    let body = lit.child_by_field_name("body")?;
    for el in args(body) {
        if el.kind() != "keyed_element" {
            continue;
        }
        let key = el
            .child_by_field_name("key")
            .or_else(|| el.named_child(0))?;
        if cx.text(key).trim() != field {
            continue;
        }
        let value = el
            .child_by_field_name("value")
            .or_else(|| el.named_child(1))?;
        return if value.kind() == "literal_element" {
            value.named_child(0)
        } else {
            Some(value)
        };
    }
    None
}

/// The name a function is declared under: its own name, or the variable
/// a literal initialises.
fn declared_name<'a>(cx: &Context<'a>, parents: &Parents<'a>, f: Node<'a>) -> Option<&'a str> {
    match f.kind() {
        "function_declaration" | "method_declaration" => {
            f.child_by_field_name("name").map(|n| cx.text(n))
        }
        "func_literal" => {
            let list = parents.of(cx, f)?;
            let owner = parents.of(cx, list)?;
            let values = args(list);
            let i = values.iter().position(|v| v.id() == f.id())?;
            let names: Vec<Node<'a>> = match owner.kind() {
                "var_spec"
                    if owner.child_by_field_name("value").map(|v| v.id()) == Some(list.id()) =>
                {
                    let mut c = owner.walk();
                    owner.children_by_field_name("name", &mut c).collect()
                }
                "short_var_declaration" | "assignment_statement"
                    if owner.child_by_field_name("right").map(|v| v.id()) == Some(list.id()) =>
                {
                    args(owner.child_by_field_name("left")?)
                }
                _ => return None,
            };
            if names.len() != values.len() {
                return None;
            }
            let n = names.get(i)?;
            (n.kind() == "identifier").then(|| cx.text(*n))
        }
        _ => None,
    }
}

/// `func(obj interface{}) (string, error)` or with `any`.
fn has_key_signature(cx: &Context<'_>, f: Node<'_>) -> bool {
    let (Some(params), Some(result)) = (
        f.child_by_field_name("parameters"),
        f.child_by_field_name("result"),
    ) else {
        return false;
    };
    let ps = args(params);
    let [p] = ps.as_slice() else {
        return false;
    };
    if p.kind() != "parameter_declaration" {
        return false;
    }
    let mut c = p.walk();
    if p.children_by_field_name("name", &mut c).count() > 1 {
        return false;
    }
    let Some(ty) = p.child_by_field_name("type").map(unparen_type) else {
        return false;
    };
    let is_any = match ty.kind() {
        "interface_type" => ty.named_child_count() == 0,
        "type_identifier" => cx.text(ty) == "any" && !cx.package.types.contains_key("any"),
        _ => false,
    };
    if !is_any || result.kind() != "parameter_list" {
        return false;
    }
    let rs = args(result);
    let types: Vec<&str> = rs
        .iter()
        .filter_map(|r| r.child_by_field_name("type").map(|t| cx.text(t)))
        .collect();
    rs.len() == 2 && types == ["string", "error"]
}

#[derive(Default)]
struct Uses<'a> {
    name: bool,
    namespace_or_uid: bool,
    /// Kinds named in type assertions and type-switch cases.
    kinds: Vec<&'a str>,
}

/// What each key function's body uses, for all of them in one walk: a
/// function's uses are those of its own nodes plus those of the key
/// functions nested in it, so every node is visited once however deep the
/// key functions nest (a walk per function took time quadratic in the
/// nesting).
fn uses_of<'a>(cx: &Context<'a>, found: &BTreeMap<usize, Node<'a>>) -> HashMap<usize, Uses<'a>> {
    let mut out: HashMap<usize, Uses<'a>> = HashMap::new();
    let ids: std::collections::HashSet<usize> = found.values().map(|f| f.id()).collect();
    // Outermost key functions only; the nested ones are reached inside.
    let mut outer: Vec<Node<'a>> = Vec::new();
    for f in found.values() {
        if outer.last().is_some_and(|o| f.end_byte() <= o.end_byte()) {
            continue;
        }
        outer.push(*f);
    }
    for f in outer {
        let Some(body) = f.child_by_field_name("body") else {
            continue;
        };
        // Depth-first, with the open key functions on a stack. An entry:
        // the node, whether it is the `function` of its parent call, the
        // index into `open` of the key function it belongs to, and (for a
        // nested key function's body) that function, opened there.
        let mut open: Vec<(Node<'a>, Uses<'a>)> = vec![(f, Uses::default())];
        let mut stack: Vec<(Node<'a>, bool, usize, Option<Node<'a>>)> =
            vec![(body, false, 0, None)];
        while let Some((n, called, mut owner, opens)) = stack.pop() {
            // Close the key functions this node is not inside.
            while open.len() > owner + 1 {
                let (done, u) = open.pop().expect("more than one open");
                if let Some(parent) = open.last_mut() {
                    merge(&mut parent.1, &u);
                }
                out.insert(done.id(), u);
            }
            if let Some(inner) = opens {
                open.push((inner, Uses::default()));
                owner = open.len() - 1;
            }
            note(cx, n, called, &mut open[owner].1);
            let callee = (n.kind() == "call_expression")
                .then(|| n.child_by_field_name("function").map(|c| c.id()))
                .flatten();
            let inner_body = ids
                .contains(&n.id())
                .then(|| n.child_by_field_name("body").map(|b| b.id()))
                .flatten();
            let mut c = n.walk();
            let children: Vec<Node<'a>> = n.named_children(&mut c).collect();
            for child in children.into_iter().rev() {
                let is_callee = callee == Some(child.id());
                let opens = (inner_body == Some(child.id())).then_some(n);
                stack.push((child, is_callee, owner, opens));
            }
        }
        while let Some((done, u)) = open.pop() {
            if let Some(parent) = open.last_mut() {
                merge(&mut parent.1, &u);
            }
            out.insert(done.id(), u);
        }
    }
    for u in out.values_mut() {
        // A type switch's `(type)` assertion names no kind.
        u.kinds.retain(|k| !k.is_empty());
    }
    out
}

fn merge<'a>(into: &mut Uses<'a>, from: &Uses<'a>) {
    into.name |= from.name;
    into.namespace_or_uid |= from.namespace_or_uid;
    for k in &from.kinds {
        if !into.kinds.contains(k) {
            into.kinds.push(k);
        }
    }
}

/// What one node contributes. `called`: the node is the function of its
/// parent call (`x.GetName()` rather than `x.Name`).
fn note<'a>(cx: &Context<'a>, n: Node<'a>, called: bool, u: &mut Uses<'a>) {
    match n.kind() {
        "selector_expression" => {
            if let Some(field) = n.child_by_field_name("field") {
                match (cx.text(field), called) {
                    ("GetName", true) | ("Name", false) => u.name = true,
                    ("GetNamespace", true)
                    | ("Namespace", false)
                    | ("GetUID", true)
                    | ("UID", false) => u.namespace_or_uid = true,
                    // Helpers that put the namespace in the key.
                    (
                        "MetaNamespaceKeyFunc"
                        | "DeletionHandlingMetaNamespaceKeyFunc"
                        | "ObjectToName"
                        | "MetaObjectToName"
                        | "ObjectKeyFromObject"
                        | "NamespacedName"
                        | "SplitMetaNamespaceKey",
                        _,
                    ) => u.namespace_or_uid = true,
                    _ => {}
                }
            }
        }
        "qualified_type" => {
            if let Some(name) = n.child_by_field_name("name")
                && cx.text(name) == "NamespacedName"
            {
                u.namespace_or_uid = true;
            }
        }
        "keyed_element" => {
            if let Some(k) = n.child_by_field_name("key").or_else(|| n.named_child(0))
                && matches!(cx.text(k).trim(), "Namespace" | "UID")
            {
                u.namespace_or_uid = true;
            }
        }
        "type_assertion_expression" => {
            if let Some(t) = n.child_by_field_name("type") {
                let k = kind_name(cx, t);
                if !u.kinds.contains(&k) {
                    u.kinds.push(k);
                }
            }
        }
        "type_case" => {
            let mut c = n.walk();
            for t in n.children_by_field_name("type", &mut c) {
                if t.is_named() {
                    let k = kind_name(cx, t);
                    if !u.kinds.contains(&k) {
                        u.kinds.push(k);
                    }
                }
            }
        }
        _ => {}
    }
}

/// `*corev1.Node` → `Node`; empty for `(type)` and other shapes.
fn kind_name<'a>(cx: &Context<'a>, ty: Node<'a>) -> &'a str {
    let mut t = unparen_type(ty);
    while t.kind() == "pointer_type" {
        match t.named_child(0) {
            Some(inner) => t = unparen_type(inner),
            None => return "",
        }
    }
    match t.kind() {
        "qualified_type" => t
            .child_by_field_name("name")
            .map(|n| cx.text(n))
            .unwrap_or(""),
        "type_identifier" => cx.text(t),
        _ => "",
    }
}
