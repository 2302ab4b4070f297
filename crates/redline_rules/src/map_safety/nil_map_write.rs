use crate::{Context, Findings, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_go::flow::{Domain, Env, Interpreter};
use redline_go::{Node, TypeDecl, TypeKind, unparen_type};
use std::collections::{BTreeMap, HashMap};

declare_rule! {
    /// ## What it does
    /// Finds writes to a map (`m[k] = v`, `m[k] += v`, `m[k]++`) that is
    /// nil on at least one path reaching the write inside one function
    /// body:
    ///
    /// - a local declared `var m map[K]V` (or `= nil`) and not assigned
    ///   before the write on that path;
    /// - a dereferenced `new` map: `p := new(map[K]V); (*p)[k] = v`;
    /// - a map field of a struct value built in the same function without
    ///   that field: `c := &Cache{}` or `var c Cache`, then `c.items[k] = v`;
    /// - a named map result never assigned before the write.
    ///
    /// The analysis follows `if`/`else`, `switch` and `select` cases, `for`
    /// loops, early `return`/`continue`/`break`/`panic` (and calls of local
    /// closures or functions of the file that always panic or exit), and
    /// understands `if m == nil { m = make(...) }` and `len(m) > 0` guards,
    /// and that a map made under `if X != nil` is made inside
    /// `for ... range X`. Maps that arrive as
    /// parameters, receivers' fields, globals and results of calls are
    /// never reported, and neither is a map whose address is taken, that a
    /// closure assigns, or (for structs and `new` pointers) that is handed
    /// to other code before the write: when it cannot be sure, the rule is
    /// silent. `delete` and reads on a nil map are legal and not reported.
    ///
    /// ## Why is this bad?
    /// Reading a nil map works, so the code passes casual tests; the first
    /// write panics with `assignment to entry in nil map` — in a controller
    /// that is a crash loop, in a handler an HTTP 500.
    ///
    /// ## Example
    /// ```go
    /// func labelsFor(pods []*Pod) map[string]string {
    ///     var labels map[string]string
    ///     for _, p := range pods {
    ///         labels[p.Name] = p.Labels["app"] // panics
    ///     }
    ///     return labels
    /// }
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// func labelsFor(pods []*Pod) map[string]string {
    ///     labels := make(map[string]string, len(pods))
    ///     for _, p := range pods {
    ///         labels[p.Name] = p.Labels["app"]
    ///     }
    ///     return labels
    /// }
    /// ```
    ///
    /// ## Fix
    /// None automatic: initialise the map with `make` (or a literal) where
    /// it is declared, or guard the write with `if m == nil { m = make(...) }`.
    pub struct NilMapWrite {
        id: "RL102",
        name: "nil-map-write",
        severity: Error,
        fix: None,
        kind: Go,
        finds: "a write to a map that is nil on some path panics",
    }
}

impl GoRule for NilMapWrite {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        // Only functions that write a map element can panic on one.
        let mut seen = std::collections::HashSet::new();
        let functions = cx
            .index
            .index_writes
            .iter()
            .filter_map(|w| cx.index.enclosing_function(*w))
            .filter(|f| seen.insert(f.id()));
        for func in functions {
            let Some(body) = func.child_by_field_name("body") else {
                continue;
            };
            if !worth_analysing(cx, func, body) {
                continue;
            }
            let env = Env::new(&cx.file.source, cx.file.tree.root_node(), cx.package);
            let mut flow = Interpreter::new(env, NilMaps::default());
            if !flow.run(func, body, HashMap::new()) {
                // The analysis gave up (see `redline_go::flow`'s bounds):
                // when it cannot be sure, the rule is silent.
                continue;
            }
            for (_, r) in flow.domain.reports {
                let what = match r.nil {
                    Nullness::Nil if r.dead => {
                        "is nil on every path (the nil check before this write can never pass: the map is never initialised)"
                    }
                    Nullness::Nil => "is nil here",
                    _ => "is nil on at least one path to this write",
                };
                let origin = match r.origin {
                    Origin::Var => format!("`{}` {what}", r.subject),
                    Origin::Deref => format!(
                        "`{}` {what} (`new` of a map type points to a nil map)",
                        r.subject
                    ),
                    Origin::Field => format!(
                        "`{}` {what} (the struct was built without this field)",
                        r.subject
                    ),
                };
                out.report(r.node, format!("{origin}: assignment to entry in nil map panics")).help(format!(
                        "initialise `{}` with `make(...)` or a literal before writing, or guard the write with `if {} == nil {{ {} = make(...) }}`",
                        r.subject, r.subject, r.subject
                    ));
            }
        }
    }
}

/// A cheap pre-pass: whether a function body (not counting nested function
/// literals, which are analysed on their own) both writes to an index
/// expression and has something that could make a map nil (a `var`, a
/// `new`, a `nil` assigned, a literal of a package struct with map fields,
/// or a named map result). Most functions have not, and are skipped.
fn worth_analysing(cx: &Context<'_>, func: Node<'_>, body: Node<'_>) -> bool {
    let mut write = false;
    let mut source = func
        .child_by_field_name("result")
        .is_some_and(|r| r.kind() == "parameter_list" && named_map_result(cx, r));
    // One cursor for the whole walk: this runs on every function.
    let mut cursor = body.walk();
    loop {
        let n = cursor.node();
        let mut descend = true;
        match n.kind() {
            "func_literal" => descend = false,
            "assignment_statement" => {
                if let Some(left) = n.child_by_field_name("left")
                    && args(left)
                        .iter()
                        .any(|l| unparen(*l).kind() == "index_expression")
                {
                    write = true;
                }
                if !source
                    && let Some(right) = n.child_by_field_name("right")
                    && args(right).iter().any(|r| unparen(*r).kind() == "nil")
                {
                    source = true;
                }
            }
            "inc_statement" | "dec_statement"
                if n.named_child(0)
                    .is_some_and(|o| unparen(o).kind() == "index_expression") =>
            {
                write = true;
            }
            // `var m map[K]V`, `var c Cache` (a struct with map fields);
            // `var x = new(...)` and literals are found below.
            "var_spec" if !source => {
                if let Some(t) = n.child_by_field_name("type") {
                    let mut t = unparen_type(t);
                    if t.kind() == "generic_type"
                        && let Some(base) = t.child_by_field_name("type")
                    {
                        t = base;
                    }
                    source = t.kind() == "map_type"
                        || (t.kind() == "type_identifier"
                            && (cx.package.is_map_type(cx.text(t))
                                || struct_has_map_field(cx, cx.text(t))));
                }
            }
            "call_expression"
                if !source
                    && n.child_by_field_name("function")
                        .is_some_and(|f| f.kind() == "identifier" && cx.text(f) == "new") =>
            {
                source = true;
            }
            "composite_literal" if !source => {
                if let Some(mut t) = n.child_by_field_name("type") {
                    if t.kind() == "generic_type"
                        && let Some(base) = t.child_by_field_name("type")
                    {
                        t = base;
                    }
                    if t.kind() == "type_identifier" && struct_has_map_field(cx, cx.text(t)) {
                        source = true;
                    }
                }
            }
            _ => {}
        }
        if write && source {
            return true;
        }
        if descend && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node().id() == body.id() {
                return false;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return false;
            }
        }
    }
}

fn struct_has_map_field(cx: &Context<'_>, name: &str) -> bool {
    cx.package.types.get(name).is_some_and(|decl| {
        decl.kind == TypeKind::Struct
            && decl
                .fields
                .iter()
                .any(|f| !f.embedded && cx.package.is_map_type_text(&f.type_text))
    })
}

fn named_map_result(cx: &Context<'_>, result: Node<'_>) -> bool {
    let mut c = result.walk();
    let mut decls = result.named_children(&mut c);
    decls.any(|d| {
        let mut c2 = d.walk();
        d.children_by_field_name("name", &mut c2).next().is_some()
            && d.child_by_field_name("type").is_some_and(|t| {
                let t = unparen_type(t);
                t.kind() == "map_type"
                    || (t.kind() == "type_identifier" && cx.package.is_map_type(cx.text(t)))
            })
    })
}

/// What is known about a tracked map at a program point.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Nullness {
    /// Nil on every path.
    Nil,
    /// Nil on some paths, not on others.
    Maybe,
    NonNil,
    /// Handed to code we do not see (address taken, assigned from a call,
    /// assigned in a closure): never reported.
    Unknown,
}

fn join_nil(a: Nullness, b: Nullness) -> Nullness {
    match (a, b) {
        (x, y) if x == y => x,
        (Nullness::Unknown, _) | (_, Nullness::Unknown) => Nullness::Unknown,
        _ => Nullness::Maybe,
    }
}

/// A tracked map: a local map variable, the map behind a `new` pointer, or
/// a map field of a local struct value. Variables are identified by the
/// byte offset of their declaring identifier.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
enum Key<'a> {
    Var(usize),
    Deref(usize),
    Field(usize, &'a str),
    /// Present in a state only reachable through a nil check that
    /// contradicts a map that is nil on every path (`var m ...; if m != nil
    /// { m[k] = v }`): the code is dead, and only writes to maps that are
    /// nil on every path are reported there. Dead states never weaken live
    /// ones at a join.
    Dead,
}

impl Key<'_> {
    fn var(&self) -> usize {
        match self {
            Key::Var(v) | Key::Deref(v) | Key::Field(v, _) => *v,
            Key::Dead => usize::MAX,
        }
    }
}

/// What is known on one path: the nullness of each tracked map.
type Facts<'a> = HashMap<Key<'a>, Nullness>;
/// `None`: unreachable.
type State<'a> = Option<Facts<'a>>;

/// Where two reachable paths meet: each map is joined with [`join_nil`]
/// (a map tracked on one side only keeps its state), and a dead state
/// (see [`Key::Dead`]) gives way to a live one.
fn join_facts<'a>(mut a: Facts<'a>, b: Facts<'a>) -> Facts<'a> {
    if a.contains_key(&Key::Dead) != b.contains_key(&Key::Dead) {
        return if a.contains_key(&Key::Dead) { b } else { a };
    }
    for (k, v) in b {
        let e = a.entry(k).or_insert(v);
        *e = join_nil(*e, v);
    }
    a
}

#[derive(Clone, Copy)]
enum VarKind<'a> {
    /// A local of map type.
    Map,
    /// A pointer from `new(map...)`.
    NewPtr,
    /// A local struct (value or pointer) of a package type with map fields.
    Struct(&'a TypeDecl),
}

#[derive(Clone, Copy)]
enum Origin {
    Var,
    Deref,
    Field,
}

struct Report<'a> {
    node: Node<'a>,
    nil: Nullness,
    /// Behind a nil check that can never pass.
    dead: bool,
    subject: &'a str,
    origin: Origin,
}
/// The nullness domain of RL102: which tracked maps are nil, with the
/// writes found on the final pass.
#[derive(Default)]
struct NilMaps<'a> {
    kinds: HashMap<usize, VarKind<'a>>,
    reports: BTreeMap<usize, Report<'a>>,
    /// Maps made non-nil under `if X != nil` / `if len(X) > 0`, with the
    /// text of `X`: inside `for ... range X` the branch was taken.
    guards: HashMap<Key<'a>, &'a str>,
}

impl<'a> Domain<'a> for NilMaps<'a> {
    type State = Facts<'a>;

    fn join(&self, a: Facts<'a>, b: Facts<'a>) -> Facts<'a> {
        join_facts(a, b)
    }

    /// A use of a tracked variable that may change its map(s) (address
    /// taken, passed on, captured by a closure that may run later, ...)
    /// makes them unknown from here on.
    fn identifier(&mut self, env: &Env<'a>, ident: Node<'a>, st: &mut Facts<'a>) {
        if let Some((id, kind)) = self.tracked(env, ident)
            && !self.harmless_use(env, ident, kind)
        {
            set_unknown(st, id);
        }
    }

    fn refine(&self, env: &Env<'a>, cond: Node<'a>, st: State<'a>) -> (State<'a>, State<'a>) {
        if cond.kind() != "binary_expression" {
            return (st.clone(), st);
        }
        let (Some(l), Some(r), Some(op)) = (
            cond.child_by_field_name("left"),
            cond.child_by_field_name("right"),
            cond.child_by_field_name("operator"),
        ) else {
            return (st.clone(), st);
        };
        match env.text(op) {
            op @ ("==" | "!=") => {
                let key = if self.is_nil(env, r) {
                    self.key_of(env, l)
                } else if self.is_nil(env, l) {
                    self.key_of(env, r)
                } else {
                    None
                };
                if let Some((key, _)) = key {
                    let (is_nil, not_nil) = (
                        with(&st, &key, Some(Nullness::Nil)),
                        with(&st, &key, Some(Nullness::NonNil)),
                    );
                    return if op == "==" {
                        (is_nil, not_nil)
                    } else {
                        (not_nil, is_nil)
                    };
                }
                self.refine_len(env, l, r, op, st)
            }
            op @ (">" | ">=") => self.refine_len(env, l, r, op, st),
            _ => (st.clone(), st),
        }
    }

    fn declare(
        &mut self,
        env: &Env<'a>,
        ident: Node<'a>,
        ty: Option<Node<'a>>,
        value: Option<Node<'a>>,
        st: &mut State<'a>,
    ) -> Option<usize> {
        self.new_variable(env, ident, ty, value, st)
    }

    fn tracks_result(&self, env: &Env<'a>, ty: Node<'a>) -> bool {
        self.is_map_type(env, ty)
    }

    /// A named map result starts nil.
    fn enter_result(&mut self, _env: &Env<'a>, ident: Node<'a>, st: &mut Facts<'a>) {
        let id = ident.start_byte();
        self.kinds.insert(id, VarKind::Map);
        st.insert(Key::Var(id), Nullness::Nil);
    }

    fn assign(
        &mut self,
        env: &Env<'a>,
        target: Node<'a>,
        value: Option<Node<'a>>,
        st: &mut State<'a>,
    ) {
        self.assign_target(env, target, value, st);
    }

    fn write(&mut self, env: &Env<'a>, target: Node<'a>, st: &State<'a>) {
        self.check_write(env, target, st);
    }

    fn assigns(&self, env: &Env<'a>, target: Node<'a>) -> bool {
        self.assignable_target(env, target).is_some()
    }

    /// Remembers maps made non-nil under `if X != nil` / `if len(X) > 0`.
    fn after_consequence(
        &mut self,
        env: &Env<'a>,
        cond: Node<'a>,
        before: &State<'a>,
        after: &State<'a>,
    ) {
        let Some(g) = self.non_empty_operand(env, cond) else {
            return;
        };
        if let (Some(before), Some(after)) = (before, after) {
            for (k, v) in after {
                if *v == Nullness::NonNil
                    && matches!(before.get(k), Some(Nullness::Nil | Nullness::Maybe))
                {
                    self.guards.insert(k.clone(), g);
                }
            }
        }
    }

    /// The body of `for ... range X` runs only when X is not empty, so a
    /// map made under `if X != nil` / `if len(X) > 0` is made there.
    fn enter_range_body(&self, _env: &Env<'a>, ranged: &'a str, st: &mut State<'a>) {
        if let Some(s) = st.as_mut() {
            for (k, v) in s.iter_mut() {
                if *v == Nullness::Maybe && self.guards.get(k).is_some_and(|g| *g == ranged) {
                    *v = Nullness::NonNil;
                }
            }
        }
    }
}

impl<'a> NilMaps<'a> {
    fn tracked(&self, env: &Env<'a>, ident: Node<'a>) -> Option<(usize, VarKind<'a>)> {
        if ident.kind() != "identifier" {
            return None;
        }
        let id = env.lookup(env.text(ident))??;
        Some((id, *self.kinds.get(&id)?))
    }

    // ---- types ----

    /// A map type: a literal map type or a package type whose underlying
    /// type is a map, not shadowed by a local declaration.
    fn is_map_type(&self, env: &Env<'a>, ty: Node<'a>) -> bool {
        let ty = unparen_type(ty);
        match ty.kind() {
            "map_type" => true,
            "type_identifier" | "identifier" => {
                let name = env.text(ty);
                env.lookup(name).is_none() && env.package.is_map_type(name)
            }
            "generic_type" => ty.child_by_field_name("type").is_some_and(|b| {
                let name = env.text(b);
                b.kind() == "type_identifier"
                    && env.lookup(name).is_none()
                    && env.package.is_map_type(name)
            }),
            _ => false,
        }
    }

    /// A package struct type with at least one map field, named by `ty`.
    fn struct_with_maps(&self, env: &Env<'a>, ty: Node<'a>) -> Option<&'a TypeDecl> {
        let mut ty = unparen_type(ty);
        if ty.kind() == "generic_type" {
            ty = ty.child_by_field_name("type")?;
        }
        if !matches!(ty.kind(), "type_identifier" | "identifier") {
            return None;
        }
        let name = env.text(ty);
        if env.lookup(name).is_some() {
            return None;
        }
        let package: &'a redline_go::Package = env.package;
        let decl = package.types.get(name)?;
        if decl.kind != TypeKind::Struct || decl.alias {
            return None;
        }
        decl.fields
            .iter()
            .any(|f| !f.embedded && package.is_map_type_text(&f.type_text))
            .then_some(decl)
    }

    fn map_fields(&self, env: &Env<'a>, decl: &'a TypeDecl) -> impl Iterator<Item = &'a str> + 'a {
        let package: &'a redline_go::Package = env.package;
        decl.fields
            .iter()
            .filter(move |f| !f.embedded && package.is_map_type_text(&f.type_text))
            .map(|f| f.name.as_str())
    }

    // ---- values ----

    /// What assigning `value` makes a map.
    fn map_value(
        &self,
        env: &Env<'a>,
        value: Option<Node<'a>>,
        st: &HashMap<Key<'a>, Nullness>,
    ) -> Nullness {
        let Some(v) = value else {
            return Nullness::Unknown;
        };
        let v = unparen(v);
        match v.kind() {
            "nil" => return Nullness::Nil,
            "identifier" if env.is_builtin(v, "nil") => return Nullness::Nil,
            "identifier" => {
                if let Some((id, VarKind::Map)) = self.tracked(env, v) {
                    return st.get(&Key::Var(id)).copied().unwrap_or(Nullness::Unknown);
                }
                return Nullness::Unknown;
            }
            "composite_literal"
                if v.child_by_field_name("type")
                    .is_some_and(|t| self.is_map_type(env, t)) =>
            {
                return Nullness::NonNil;
            }
            "call_expression" => {
                if let Some(f) = v.child_by_field_name("function")
                    && env.is_builtin(unparen(f), "make")
                {
                    return Nullness::NonNil;
                }
            }
            _ => {}
        }
        Nullness::Unknown
    }

    /// `new(T)` with a map type `T`.
    fn is_new_map(&self, env: &Env<'a>, value: Node<'a>) -> bool {
        let v = unparen(value);
        if v.kind() != "call_expression" {
            return false;
        }
        let Some(f) = v.child_by_field_name("function") else {
            return false;
        };
        if !env.is_builtin(unparen(f), "new") {
            return false;
        }
        let Some(list) = v.child_by_field_name("arguments") else {
            return false;
        };
        matches!(args(list).as_slice(), [t] if self.is_map_type(env, *t))
    }

    /// A struct built here: `T{...}`, `&T{...}` or `new(T)` of a package
    /// struct with map fields. Returns the type and the state of each map
    /// field.
    fn struct_value(
        &self,
        env: &Env<'a>,
        value: Node<'a>,
        st: &HashMap<Key<'a>, Nullness>,
    ) -> Option<(&'a TypeDecl, Vec<(&'a str, Nullness)>)> {
        let mut v = unparen(value);
        if v.kind() == "unary_expression"
            && v.child_by_field_name("operator")
                .is_some_and(|o| env.text(o) == "&")
        {
            v = unparen(v.child_by_field_name("operand")?);
        }
        match v.kind() {
            "composite_literal" => {
                let decl = self.struct_with_maps(env, v.child_by_field_name("type")?)?;
                let body = v.child_by_field_name("body")?;
                let elements = args(body);
                if elements.iter().any(|e| e.kind() != "keyed_element") {
                    // Positional: every field is given, values unknown.
                    return Some((
                        decl,
                        self.map_fields(env, decl)
                            .map(|f| (f, Nullness::Unknown))
                            .collect(),
                    ));
                }
                let given: Vec<(&'a str, Node<'a>)> = elements
                    .iter()
                    .filter_map(|e| {
                        let key = e.child_by_field_name("key").or_else(|| e.named_child(0))?;
                        let val = e
                            .child_by_field_name("value")
                            .or_else(|| e.named_child(1))?;
                        let val = if val.kind() == "literal_element" {
                            val.named_child(0)?
                        } else {
                            val
                        };
                        Some((env.text(key).trim(), val))
                    })
                    .collect();
                let fields = self
                    .map_fields(env, decl)
                    .map(|f| {
                        let nil = match given.iter().find(|(k, _)| *k == f) {
                            None => Nullness::Nil,
                            Some((_, val)) => self.map_value(env, Some(*val), st),
                        };
                        (f, nil)
                    })
                    .collect();
                Some((decl, fields))
            }
            "call_expression" => {
                let f = v.child_by_field_name("function")?;
                if !env.is_builtin(unparen(f), "new") {
                    return None;
                }
                let list = v.child_by_field_name("arguments")?;
                let [t] = args(list)[..] else {
                    return None;
                };
                let decl = self.struct_with_maps(env, t)?;
                Some((
                    decl,
                    self.map_fields(env, decl)
                        .map(|f| (f, Nullness::Nil))
                        .collect(),
                ))
            }
            _ => None,
        }
    }

    /// The tracked map an expression denotes, with a display name.
    fn key_of(&self, env: &Env<'a>, expr: Node<'a>) -> Option<(Key<'a>, Origin)> {
        let e = unparen(expr);
        match e.kind() {
            "identifier" => match self.tracked(env, e)? {
                (id, VarKind::Map) => Some((Key::Var(id), Origin::Var)),
                _ => None,
            },
            "unary_expression" => {
                let op = e.child_by_field_name("operator")?;
                if env.text(op) != "*" {
                    return None;
                }
                match self.tracked(env, unparen(e.child_by_field_name("operand")?))? {
                    (id, VarKind::NewPtr) => Some((Key::Deref(id), Origin::Deref)),
                    _ => None,
                }
            }
            "selector_expression" => {
                let operand = e.child_by_field_name("operand")?;
                let field = env.text(e.child_by_field_name("field")?);
                match self.tracked(env, operand)? {
                    (id, VarKind::Struct(decl)) => {
                        let f = self.map_fields(env, decl).find(|f| *f == field)?;
                        Some((Key::Field(id, f), Origin::Field))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    // ---- expressions ----

    /// Whether a use of a tracked variable leaves its map(s) as they are.
    fn harmless_use(&self, env: &Env<'a>, ident: Node<'a>, kind: VarKind<'a>) -> bool {
        let Some(parent) = ident.parent() else {
            return true;
        };
        if is_assignment_target(ident) {
            return false;
        }
        match kind {
            VarKind::Map => match parent.kind() {
                "unary_expression" => !is_address_of(env, parent),
                // A method call on a named map type may take `&m`.
                "selector_expression" => false,
                _ => true,
            },
            VarKind::NewPtr => {
                // Only `*p` reads and element writes.
                parent.kind() == "unary_expression"
                    && parent
                        .child_by_field_name("operator")
                        .is_some_and(|o| env.text(o) == "*")
                    && !is_assignment_target(climb_parens(parent))
            }
            VarKind::Struct(decl) => {
                if parent.kind() != "selector_expression"
                    || parent.child_by_field_name("operand").map(|o| o.id()) != Some(ident.id())
                {
                    return false;
                }
                let Some(field) = parent.child_by_field_name("field") else {
                    return false;
                };
                let field = env.text(field);
                if !decl.fields.iter().any(|f| !f.embedded && f.name == field) {
                    // A method or a promoted field.
                    return false;
                }
                let sel = climb_parens(parent);
                if is_assignment_target(sel) {
                    return false;
                }
                match sel.parent() {
                    Some(p) if p.kind() == "unary_expression" => !is_address_of(env, p),
                    Some(p) if p.kind() == "call_expression" => {
                        p.child_by_field_name("function").map(|f| f.id()) != Some(sel.id())
                    }
                    _ => true,
                }
            }
        }
    }

    fn check_write(&mut self, env: &Env<'a>, target: Node<'a>, st: &State<'a>) {
        let target = unparen(target);
        if target.kind() != "index_expression" || !env.reporting {
            return;
        }
        let (Some(s), Some(operand)) = (st, target.child_by_field_name("operand")) else {
            return;
        };
        let Some((key, origin)) = self.key_of(env, operand) else {
            return;
        };
        let nil = s.get(&key).copied().unwrap_or(Nullness::Unknown);
        let dead = s.contains_key(&Key::Dead);
        if nil == Nullness::Nil || (nil == Nullness::Maybe && !dead) {
            let subject = env.text(unparen(operand));
            self.reports.entry(target.start_byte()).or_insert(Report {
                node: target,
                nil,
                dead,
                subject,
                origin,
            });
        }
    }

    /// Starts tracking a new variable declared at `ident` with optional
    /// type and value; returns its id when it is tracked.
    fn new_variable(
        &mut self,
        env: &Env<'a>,
        ident: Node<'a>,
        ty: Option<Node<'a>>,
        value: Option<Node<'a>>,
        st: &mut State<'a>,
    ) -> Option<usize> {
        let id = ident.start_byte();
        let s = st.as_mut()?;
        if let Some(ty) = ty {
            if self.is_map_type(env, ty) {
                let nil = match value {
                    None => Nullness::Nil,
                    Some(v) => self.map_value(env, Some(v), s),
                };
                self.kinds.insert(id, VarKind::Map);
                s.insert(Key::Var(id), nil);
                return Some(id);
            }
            if value.is_none()
                && let Some(decl) = self.struct_with_maps(env, ty)
            {
                self.kinds.insert(id, VarKind::Struct(decl));
                s.retain(|k, _| k.var() != id);
                for f in self.map_fields(env, decl) {
                    s.insert(Key::Field(id, f), Nullness::Nil);
                }
                return Some(id);
            }
        }
        let value = value?;
        if self.is_new_map(env, value) {
            self.kinds.insert(id, VarKind::NewPtr);
            s.insert(Key::Deref(id), Nullness::Nil);
            return Some(id);
        }
        if let Some((decl, fields)) = self.struct_value(env, value, s) {
            self.kinds.insert(id, VarKind::Struct(decl));
            s.retain(|k, _| k.var() != id);
            for (f, nil) in fields {
                s.insert(Key::Field(id, f), nil);
            }
            return Some(id);
        }
        let nil = self.map_value(env, Some(value), s);
        if nil == Nullness::NonNil {
            self.kinds.insert(id, VarKind::Map);
            s.insert(Key::Var(id), nil);
            return Some(id);
        }
        None
    }

    /// The tracked variable an assignment target changes: `m`, `p`, `*p`,
    /// `c`, `c.items`.
    fn assignable_target(&self, env: &Env<'a>, l: Node<'a>) -> Option<usize> {
        let l = unparen(l);
        match l.kind() {
            "identifier" => self.tracked(env, l).map(|(id, _)| id),
            "unary_expression" | "selector_expression" => {
                let inner = if l.kind() == "unary_expression" {
                    unparen(l.child_by_field_name("operand")?)
                } else {
                    l.child_by_field_name("operand")?
                };
                let (id, kind) = self.tracked(env, inner)?;
                match (l.kind(), kind) {
                    ("unary_expression", VarKind::NewPtr) => Some(id),
                    ("selector_expression", VarKind::Struct(decl)) => {
                        let field = env.text(l.child_by_field_name("field")?);
                        decl.fields
                            .iter()
                            .any(|f| !f.embedded && f.name == field)
                            .then_some(id)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn assign_target(
        &mut self,
        env: &Env<'a>,
        l: Node<'a>,
        value: Option<Node<'a>>,
        st: &mut State<'a>,
    ) {
        let l = unparen(l);
        let Some(s) = st.as_mut() else {
            return;
        };
        match l.kind() {
            "identifier" => {
                let Some((id, kind)) = self.tracked(env, l) else {
                    return;
                };
                match kind {
                    VarKind::Map => {
                        let nil = self.map_value(env, value, s);
                        s.insert(Key::Var(id), nil);
                    }
                    VarKind::NewPtr => {
                        let nil = if value.is_some_and(|v| self.is_new_map(env, v)) {
                            Nullness::Nil
                        } else {
                            Nullness::Unknown
                        };
                        s.insert(Key::Deref(id), nil);
                    }
                    VarKind::Struct(decl) => {
                        let fields = value
                            .and_then(|v| self.struct_value(env, v, s))
                            .filter(|(d, _)| std::ptr::eq(*d, decl));
                        match fields {
                            Some((_, fields)) => {
                                for (f, nil) in fields {
                                    s.insert(Key::Field(id, f), nil);
                                }
                            }
                            None => set_unknown_state(st, id),
                        }
                    }
                }
            }
            "unary_expression" | "selector_expression" => {
                if let Some((key, _)) = self.key_of(env, l) {
                    let nil = self.map_value(env, value, s);
                    s.insert(key, nil);
                } else if l.kind() == "unary_expression"
                    && let Some(o) = l.child_by_field_name("operand")
                    && let Some((id, VarKind::Struct(_))) = self.tracked(env, unparen(o))
                {
                    // `*c = Cache{...}`
                    set_unknown_state(st, id);
                }
            }
            _ => {}
        }
    }

    /// `X` in `X != nil`, `len(X) > 0`, `len(X) != 0`, `len(X) >= 1`.
    fn non_empty_operand(&self, env: &Env<'a>, cond: Node<'a>) -> Option<&'a str> {
        let cond = unparen(cond);
        if cond.kind() != "binary_expression" {
            return None;
        }
        let l = unparen(cond.child_by_field_name("left")?);
        let r = unparen(cond.child_by_field_name("right")?);
        let op = env.text(cond.child_by_field_name("operator")?);
        if op == "!=" && self.is_nil(env, r) && !self.is_nil(env, l) {
            return Some(env.text(l));
        }
        if l.kind() == "call_expression"
            && r.kind() == "int_literal"
            && matches!((op, env.text(r)), ("!=", "0") | (">", "0") | (">=", "1"))
            && env.is_builtin(unparen(l.child_by_field_name("function")?), "len")
        {
            let [arg] = args(l.child_by_field_name("arguments")?)[..] else {
                return None;
            };
            return Some(env.text(unparen(arg)));
        }
        None
    }

    /// `len(m) == 0`, `len(m) != 0`, `len(m) > 0`, `len(m) >= 1`: a map
    /// with elements is not nil.
    fn refine_len(
        &self,
        env: &Env<'a>,
        l: Node<'a>,
        r: Node<'a>,
        op: &str,
        st: State<'a>,
    ) -> (State<'a>, State<'a>) {
        let l = unparen(l);
        let r = unparen(r);
        let key = (|| {
            if l.kind() != "call_expression" || r.kind() != "int_literal" {
                return None;
            }
            if !env.is_builtin(unparen(l.child_by_field_name("function")?), "len") {
                return None;
            }
            let [arg] = args(l.child_by_field_name("arguments")?)[..] else {
                return None;
            };
            self.key_of(env, arg).map(|(k, _)| k)
        })();
        let Some(key) = key else {
            return (st.clone(), st);
        };
        let nonnil = with(&st, &key, Some(Nullness::NonNil));
        match (op, env.text(r)) {
            ("==", "0") => (st, nonnil),
            ("!=", "0") | (">", "0") | (">=", "1") => (nonnil, st),
            _ => (st.clone(), st),
        }
    }

    fn is_nil(&self, env: &Env<'a>, n: Node<'a>) -> bool {
        let n = unparen(n);
        n.kind() == "nil" || env.is_builtin(n, "nil")
    }
}

fn with<'a>(st: &State<'a>, key: &Key<'a>, to: Option<Nullness>) -> State<'a> {
    let mut s = st.clone()?;
    if let (Some(v), Some(to)) = (s.get_mut(key), to) {
        match (*v, to) {
            (Nullness::Unknown, _) => {}
            // Contradicts what is known: the branch is never taken. Its
            // code is dead; writes there to maps nil on every path are
            // still reported (the check shows the author expected the map
            // to be initialised), but the state does not flow on.
            (Nullness::NonNil, Nullness::Nil) | (Nullness::Nil, Nullness::NonNil) => {
                s.insert(Key::Dead, Nullness::Unknown);
            }
            _ => *v = to,
        }
    }
    Some(s)
}

fn climb_parens(mut n: Node<'_>) -> Node<'_> {
    while let Some(p) = n.parent() {
        if p.kind() == "parenthesized_expression" {
            n = p;
        } else {
            break;
        }
    }
    n
}

fn is_address_of(env: &Env<'_>, unary: Node<'_>) -> bool {
    unary
        .child_by_field_name("operator")
        .is_some_and(|o| env.text(o) == "&")
}

/// Whether `n` is directly one of the targets of an assignment, a short
/// variable declaration, or a `range`/receive with `=`.
fn is_assignment_target(n: Node<'_>) -> bool {
    let n = climb_parens(n);
    let Some(list) = n.parent() else {
        return false;
    };
    if list.kind() == "inc_statement" || list.kind() == "dec_statement" {
        return false;
    }
    if list.kind() != "expression_list" {
        return false;
    }
    let Some(stmt) = list.parent() else {
        return false;
    };
    matches!(
        stmt.kind(),
        "assignment_statement" | "short_var_declaration" | "range_clause" | "receive_statement"
    ) && stmt.child_by_field_name("left").map(|l| l.id()) == Some(list.id())
}

fn set_unknown(st: &mut Facts<'_>, id: usize) {
    for (k, v) in st.iter_mut() {
        if k.var() == id {
            *v = Nullness::Unknown;
        }
    }
}

fn set_unknown_state(st: &mut State<'_>, id: usize) {
    if let Some(s) = st {
        set_unknown(s, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;
    use redline_go::{GoFile, Package};
    use std::path::PathBuf;
    use std::sync::Arc;

    /// RL102's messages on `src` (a whole file), with their 1-based lines.
    fn check(src: &str) -> Vec<(usize, String)> {
        let file = GoFile::parse(
            PathBuf::from("p.go"),
            "p.go".into(),
            Arc::from(src.as_bytes()),
        )
        .expect("parses");
        let index = file.index();
        let package = Package::build(&[&file]);
        let settings = Settings::default();
        let cx = Context {
            file: &file,
            index: &index,
            package: &package,
            settings: &settings,
        };
        let mut out = Vec::new();
        NilMapWrite.run(&cx, &mut out);
        out.into_iter().map(|d| (d.span.line, d.message)).collect()
    }

    #[test]
    fn join_of_nil_and_non_nil_is_maybe() {
        use Nullness::*;
        assert_eq!(join_nil(Nil, NonNil), Maybe);
        assert_eq!(join_nil(NonNil, Nil), Maybe);
        assert_eq!(join_nil(Nil, Nil), Nil);
        assert_eq!(join_nil(NonNil, NonNil), NonNil);
        assert_eq!(join_nil(Maybe, NonNil), Maybe);
        // What other code may change stays unknown.
        assert_eq!(join_nil(Unknown, Nil), Unknown);
        assert_eq!(join_nil(NonNil, Unknown), Unknown);
    }

    #[test]
    fn join_of_states_keeps_maps_of_one_side_and_drops_dead_paths() {
        let live: Facts<'_> = [
            (Key::Var(1), Nullness::Nil),
            (Key::Var(2), Nullness::NonNil),
        ]
        .into_iter()
        .collect();
        let other: Facts<'_> = [
            (Key::Var(1), Nullness::NonNil),
            (Key::Var(3), Nullness::Nil),
        ]
        .into_iter()
        .collect();
        let joined = join_facts(live.clone(), other);
        assert_eq!(joined.get(&Key::Var(1)), Some(&Nullness::Maybe));
        assert_eq!(joined.get(&Key::Var(2)), Some(&Nullness::NonNil));
        assert_eq!(joined.get(&Key::Var(3)), Some(&Nullness::Nil));
        // A dead path (behind a contradicting nil check) does not weaken a
        // live one, in either order.
        let dead: Facts<'_> = [
            (Key::Var(1), Nullness::NonNil),
            (Key::Dead, Nullness::Unknown),
        ]
        .into_iter()
        .collect();
        assert_eq!(join_facts(live.clone(), dead.clone()), live);
        assert_eq!(join_facts(dead, live.clone()), live);
        let domain = NilMaps::default();
        assert_eq!(
            redline_go::flow::join(&domain, None, Some(live.clone())),
            Some(live)
        );
    }

    #[test]
    fn a_contradicting_check_marks_the_state_dead() {
        let st: State<'_> = Some([(Key::Var(1), Nullness::Nil)].into_iter().collect());
        let dead = with(&st, &Key::Var(1), Some(Nullness::NonNil)).expect("reachable");
        assert!(dead.contains_key(&Key::Dead));
        assert_eq!(dead.get(&Key::Var(1)), Some(&Nullness::Nil));
        let maybe: State<'_> = Some([(Key::Var(1), Nullness::Maybe)].into_iter().collect());
        let nonnil = with(&maybe, &Key::Var(1), Some(Nullness::NonNil)).expect("reachable");
        assert_eq!(nonnil.get(&Key::Var(1)), Some(&Nullness::NonNil));
        assert!(!nonnil.contains_key(&Key::Dead));
        let unknown: State<'_> = Some([(Key::Var(1), Nullness::Unknown)].into_iter().collect());
        assert_eq!(with(&unknown, &Key::Var(1), Some(Nullness::Nil)), unknown);
    }

    #[test]
    fn a_nil_check_that_makes_the_map_refines() {
        let got = check(
            "package p\n\nfunc f(k string) {\n\tvar m map[string]int\n\tif m == nil {\n\t\tm = make(map[string]int)\n\t}\n\tm[k] = 1\n}\n",
        );
        assert_eq!(got, vec![]);
    }

    #[test]
    fn a_write_under_a_non_nil_check_is_safe() {
        let got = check(
            "package p\n\nfunc f(m map[string]int, k string) {\n\tvar n map[string]int\n\tif cond() {\n\t\tn = make(map[string]int)\n\t}\n\tif n != nil {\n\t\tn[k] = 1\n\t}\n\tif len(n) > 0 {\n\t\tn[k] = 2\n\t}\n}\n",
        );
        assert_eq!(got, vec![]);
    }

    #[test]
    fn nil_on_one_path_and_on_every_path() {
        let got = check(
            "package p\n\nfunc f(ok bool, k string) {\n\tvar m map[string]int\n\tif ok {\n\t\tm = map[string]int{}\n\t}\n\tm[k] = 1\n\tvar n map[string]int\n\tn[k] = 1\n\tvar d map[string]int\n\tif d != nil {\n\t\td[k] = 1\n\t}\n}\n",
        );
        let lines: Vec<usize> = got.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![8, 10, 13], "{got:?}");
        assert!(got[0].1.contains("is nil on at least one path"), "{got:?}");
        assert!(got[1].1.contains("`n` is nil here"), "{got:?}");
        assert!(got[2].1.contains("can never pass"), "{got:?}");
    }

    #[test]
    fn a_map_the_analysis_loses_is_not_reported() {
        let got = check(
            "package p\n\nfunc f(k string) {\n\tvar m map[string]int\n\tfill(&m)\n\tm[k] = 1\n\tvar n map[string]int\n\tgo func() { n = fill() }()\n\tn[k] = 1\n}\n\nfunc g(k string) {\n\tvar h map[string]int\n\tgoto end\nend:\n\th[k] = 1\n}\n",
        );
        assert_eq!(got, vec![]);
    }

    /// Beyond `redline_go::flow::MAX_DEPTH` nested statements the rule is
    /// silent instead of exhausting the stack; below it, it reports.
    #[test]
    fn deeply_nested_code_is_skipped_without_overflowing_the_stack() {
        let nested = |depth: usize| {
            format!(
                "package p\n\nfunc f(a bool, k string) {{\n\tvar m map[string]int\n{}m[k] = 1\n{}}}\n",
                "if a {\n".repeat(depth),
                "}\n".repeat(depth)
            )
        };
        let deep = nested(redline_go::flow::MAX_DEPTH * 3);
        let shallow = nested(30);
        let handle = std::thread::Builder::new()
            .stack_size(4 << 20)
            .spawn(move || (check(&deep), check(&shallow)))
            .expect("spawn");
        let (deep, shallow) = handle.join().expect("no stack overflow");
        assert_eq!(deep, vec![]);
        assert_eq!(shallow.len(), 1, "{shallow:?}");
        assert_eq!(shallow[0].0, 35);
    }
}
