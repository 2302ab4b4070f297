use crate::{Context, DiagnosticExt, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_diagnostics::Diagnostic;
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
        target: Go,
        summary: "a write to a map that is nil on some path panics",
    }
}

impl GoRule for NilMapWrite {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
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
            let mut flow = Flow::new(cx);
            let reports = flow.run(func, body);
            for (_, r) in reports {
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
                out.push(
                    cx.node_diagnostic(
                        &Self::META,
                        r.node,
                        format!("{origin}: assignment to entry in nil map panics"),
                    )
                    .with_help(format!(
                        "initialise `{}` with `make(...)` or a literal before writing, or guard the write with `if {} == nil {{ {} = make(...) }}`",
                        r.subject, r.subject, r.subject
                    )),
                );
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

/// `None`: unreachable.
type State<'a> = Option<HashMap<Key<'a>, Nullness>>;

fn join<'a>(a: State<'a>, b: State<'a>) -> State<'a> {
    match (a, b) {
        (None, s) | (s, None) => s,
        (Some(a), Some(b)) if a.contains_key(&Key::Dead) != b.contains_key(&Key::Dead) => {
            if a.contains_key(&Key::Dead) {
                Some(b)
            } else {
                Some(a)
            }
        }
        (Some(mut a), Some(b)) => {
            for (k, v) in b {
                let e = a.entry(k).or_insert(v);
                *e = join_nil(*e, v);
            }
            Some(a)
        }
    }
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

struct Target<'a> {
    label: Option<&'a str>,
    is_loop: bool,
    breaks: State<'a>,
    continues: State<'a>,
}

/// Fixed-point iterations allowed for one loop before giving up.
const MAX_LOOP_ITERATIONS: usize = 12;
/// Statements visited per function before giving up (deeply nested loops).
const BUDGET: usize = 200_000;
/// Statement nesting and condition depth before giving up.
const MAX_DEPTH: usize = 400;

struct Flow<'a, 'c> {
    cx: &'c Context<'a>,
    /// Lexical scopes: a name and, when it is tracked, its variable id.
    scopes: Vec<Vec<(&'a str, Option<usize>)>>,
    kinds: HashMap<usize, VarKind<'a>>,
    targets: Vec<Target<'a>>,
    reporting: bool,
    reports: BTreeMap<usize, Report<'a>>,
    budget: usize,
    aborted: bool,
    /// Statement nesting, to give up on absurdly deep code instead of
    /// exhausting the stack.
    depth: usize,
    /// Maps made non-nil under `if X != nil` / `if len(X) > 0`, with the
    /// text of `X`: inside `for ... range X` the branch was taken.
    guards: HashMap<Key<'a>, &'a str>,
    /// Locals bound to closures that never return (`bad := func() {
    /// t.Fatalf(...) }`), by declaring identifier.
    noreturn: std::collections::HashSet<usize>,
    /// Package functions of this file that never return, by name.
    noreturn_functions: HashMap<&'a str, bool>,
}

impl<'a, 'c> Flow<'a, 'c> {
    fn new(cx: &'c Context<'a>) -> Self {
        Flow {
            cx,
            scopes: Vec::new(),
            kinds: HashMap::new(),
            targets: Vec::new(),
            reporting: true,
            reports: BTreeMap::new(),
            budget: BUDGET,
            aborted: false,
            depth: 0,
            guards: HashMap::new(),
            noreturn: std::collections::HashSet::new(),
            noreturn_functions: HashMap::new(),
        }
    }

    fn run(&mut self, func: Node<'a>, body: Node<'a>) -> BTreeMap<usize, Report<'a>> {
        let mut st: HashMap<Key<'a>, Nullness> = HashMap::new();
        self.scopes.push(Vec::new());
        for field in ["receiver", "type_parameters", "parameters"] {
            if let Some(list) = func.child_by_field_name(field) {
                for n in param_names(list) {
                    self.declare(self.cx.text(n), None);
                }
            }
        }
        if let Some(result) = func.child_by_field_name("result")
            && result.kind() == "parameter_list"
        {
            let mut c = result.walk();
            for decl in result.named_children(&mut c) {
                let is_map = decl
                    .child_by_field_name("type")
                    .is_some_and(|t| self.is_map_type(t));
                let mut c2 = decl.walk();
                for n in decl.children_by_field_name("name", &mut c2) {
                    let name = self.cx.text(n);
                    if is_map && name != "_" {
                        let id = n.start_byte();
                        self.kinds.insert(id, VarKind::Map);
                        st.insert(Key::Var(id), Nullness::Nil);
                        self.declare(name, Some(id));
                    } else {
                        self.declare(name, None);
                    }
                }
            }
        }
        self.block(body, Some(st));
        if self.aborted {
            return BTreeMap::new();
        }
        std::mem::take(&mut self.reports)
    }

    // ---- scopes ----

    fn declare(&mut self, name: &'a str, id: Option<usize>) {
        if let Some(s) = self.scopes.last_mut() {
            s.push((name, id));
        }
    }

    /// `Some(Some(id))` tracked local, `Some(None)` other local, `None`
    /// not declared in the function (package level, import, builtin).
    fn lookup(&self, name: &str) -> Option<Option<usize>> {
        for scope in self.scopes.iter().rev() {
            if let Some((_, id)) = scope.iter().rev().find(|(n, _)| *n == name) {
                return Some(*id);
            }
        }
        None
    }

    fn declared_in_current_scope(&self, name: &str) -> Option<Option<usize>> {
        self.scopes
            .last()
            .and_then(|s| s.iter().rev().find(|(n, _)| *n == name))
            .map(|(_, id)| *id)
    }

    fn tracked(&self, ident: Node<'a>) -> Option<(usize, VarKind<'a>)> {
        if ident.kind() != "identifier" {
            return None;
        }
        let id = self.lookup(self.cx.text(ident))??;
        Some((id, *self.kinds.get(&id)?))
    }

    /// Whether `name` is the predeclared identifier (not shadowed).
    fn is_builtin(&self, node: Node<'a>, name: &str) -> bool {
        node.kind() == "identifier"
            && self.cx.text(node) == name
            && self.lookup(name).is_none()
            && !self.cx.package.values.contains(name)
            && !self.cx.package.types.contains_key(name)
    }

    // ---- types ----

    /// A map type: a literal map type or a package type whose underlying
    /// type is a map, not shadowed by a local declaration.
    fn is_map_type(&self, ty: Node<'a>) -> bool {
        let ty = unparen_type(ty);
        match ty.kind() {
            "map_type" => true,
            "type_identifier" | "identifier" => {
                let name = self.cx.text(ty);
                self.lookup(name).is_none() && self.cx.package.is_map_type(name)
            }
            "generic_type" => ty.child_by_field_name("type").is_some_and(|b| {
                let name = self.cx.text(b);
                b.kind() == "type_identifier"
                    && self.lookup(name).is_none()
                    && self.cx.package.is_map_type(name)
            }),
            _ => false,
        }
    }

    /// A package struct type with at least one map field, named by `ty`.
    fn struct_with_maps(&self, ty: Node<'a>) -> Option<&'a TypeDecl> {
        let mut ty = unparen_type(ty);
        if ty.kind() == "generic_type" {
            ty = ty.child_by_field_name("type")?;
        }
        if !matches!(ty.kind(), "type_identifier" | "identifier") {
            return None;
        }
        let name = self.cx.text(ty);
        if self.lookup(name).is_some() {
            return None;
        }
        let package: &'a redline_go::Package = self.cx.package;
        let decl = package.types.get(name)?;
        if decl.kind != TypeKind::Struct || decl.alias {
            return None;
        }
        decl.fields
            .iter()
            .any(|f| !f.embedded && package.is_map_type_text(&f.type_text))
            .then_some(decl)
    }

    fn map_fields(&self, decl: &'a TypeDecl) -> impl Iterator<Item = &'a str> + 'a {
        let package: &'a redline_go::Package = self.cx.package;
        decl.fields
            .iter()
            .filter(move |f| !f.embedded && package.is_map_type_text(&f.type_text))
            .map(|f| f.name.as_str())
    }

    // ---- values ----

    /// What assigning `value` makes a map.
    fn map_value(&self, value: Option<Node<'a>>, st: &HashMap<Key<'a>, Nullness>) -> Nullness {
        let Some(v) = value else {
            return Nullness::Unknown;
        };
        let v = unparen(v);
        match v.kind() {
            "nil" => return Nullness::Nil,
            "identifier" if self.is_builtin(v, "nil") => return Nullness::Nil,
            "identifier" => {
                if let Some((id, VarKind::Map)) = self.tracked(v) {
                    return st.get(&Key::Var(id)).copied().unwrap_or(Nullness::Unknown);
                }
                return Nullness::Unknown;
            }
            "composite_literal"
                if v.child_by_field_name("type")
                    .is_some_and(|t| self.is_map_type(t)) =>
            {
                return Nullness::NonNil;
            }
            "call_expression" => {
                if let Some(f) = v.child_by_field_name("function")
                    && self.is_builtin(unparen(f), "make")
                {
                    return Nullness::NonNil;
                }
            }
            _ => {}
        }
        Nullness::Unknown
    }

    /// `new(T)` with a map type `T`.
    fn is_new_map(&self, value: Node<'a>) -> bool {
        let v = unparen(value);
        if v.kind() != "call_expression" {
            return false;
        }
        let Some(f) = v.child_by_field_name("function") else {
            return false;
        };
        if !self.is_builtin(unparen(f), "new") {
            return false;
        }
        let Some(list) = v.child_by_field_name("arguments") else {
            return false;
        };
        matches!(args(list).as_slice(), [t] if self.is_map_type(*t))
    }

    /// A struct built here: `T{...}`, `&T{...}` or `new(T)` of a package
    /// struct with map fields. Returns the type and the state of each map
    /// field.
    fn struct_value(
        &self,
        value: Node<'a>,
        st: &HashMap<Key<'a>, Nullness>,
    ) -> Option<(&'a TypeDecl, Vec<(&'a str, Nullness)>)> {
        let mut v = unparen(value);
        if v.kind() == "unary_expression"
            && v.child_by_field_name("operator")
                .is_some_and(|o| self.cx.text(o) == "&")
        {
            v = unparen(v.child_by_field_name("operand")?);
        }
        match v.kind() {
            "composite_literal" => {
                let decl = self.struct_with_maps(v.child_by_field_name("type")?)?;
                let body = v.child_by_field_name("body")?;
                let elements = args(body);
                if elements.iter().any(|e| e.kind() != "keyed_element") {
                    // Positional: every field is given, values unknown.
                    return Some((
                        decl,
                        self.map_fields(decl)
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
                        Some((self.cx.text(key).trim(), val))
                    })
                    .collect();
                let fields = self
                    .map_fields(decl)
                    .map(|f| {
                        let nil = match given.iter().find(|(k, _)| *k == f) {
                            None => Nullness::Nil,
                            Some((_, val)) => self.map_value(Some(*val), st),
                        };
                        (f, nil)
                    })
                    .collect();
                Some((decl, fields))
            }
            "call_expression" => {
                let f = v.child_by_field_name("function")?;
                if !self.is_builtin(unparen(f), "new") {
                    return None;
                }
                let list = v.child_by_field_name("arguments")?;
                let [t] = args(list)[..] else {
                    return None;
                };
                let decl = self.struct_with_maps(t)?;
                Some((
                    decl,
                    self.map_fields(decl).map(|f| (f, Nullness::Nil)).collect(),
                ))
            }
            _ => None,
        }
    }

    /// The tracked map an expression denotes, with a display name.
    fn key_of(&self, expr: Node<'a>) -> Option<(Key<'a>, Origin)> {
        let e = unparen(expr);
        match e.kind() {
            "identifier" => match self.tracked(e)? {
                (id, VarKind::Map) => Some((Key::Var(id), Origin::Var)),
                _ => None,
            },
            "unary_expression" => {
                let op = e.child_by_field_name("operator")?;
                if self.cx.text(op) != "*" {
                    return None;
                }
                match self.tracked(unparen(e.child_by_field_name("operand")?))? {
                    (id, VarKind::NewPtr) => Some((Key::Deref(id), Origin::Deref)),
                    _ => None,
                }
            }
            "selector_expression" => {
                let operand = e.child_by_field_name("operand")?;
                let field = self.cx.text(e.child_by_field_name("field")?);
                match self.tracked(operand)? {
                    (id, VarKind::Struct(decl)) => {
                        let f = self.map_fields(decl).find(|f| *f == field)?;
                        Some((Key::Field(id, f), Origin::Field))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn set_unknown(st: &mut State<'a>, id: usize) {
        if let Some(s) = st {
            for (k, v) in s.iter_mut() {
                if k.var() == id {
                    *v = Nullness::Unknown;
                }
            }
        }
    }

    // ---- expressions ----

    /// Whether a use of a tracked variable leaves its map(s) as they are.
    fn harmless_use(&self, ident: Node<'a>, kind: VarKind<'a>) -> bool {
        let Some(parent) = ident.parent() else {
            return true;
        };
        if is_assignment_target(ident) {
            return false;
        }
        match kind {
            VarKind::Map => match parent.kind() {
                "unary_expression" => !is_address_of(self, parent),
                // A method call on a named map type may take `&m`.
                "selector_expression" => false,
                _ => true,
            },
            VarKind::NewPtr => {
                // Only `*p` reads and element writes.
                parent.kind() == "unary_expression"
                    && parent
                        .child_by_field_name("operator")
                        .is_some_and(|o| self.cx.text(o) == "*")
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
                let field = self.cx.text(field);
                if !decl.fields.iter().any(|f| !f.embedded && f.name == field) {
                    // A method or a promoted field.
                    return false;
                }
                let sel = climb_parens(parent);
                if is_assignment_target(sel) {
                    return false;
                }
                match sel.parent() {
                    Some(p) if p.kind() == "unary_expression" => !is_address_of(self, p),
                    Some(p) if p.kind() == "call_expression" => {
                        p.child_by_field_name("function").map(|f| f.id()) != Some(sel.id())
                    }
                    _ => true,
                }
            }
        }
    }

    /// Applies the effects of evaluating `node` on the tracked maps.
    fn expr(&mut self, node: Node<'a>, st: &mut State<'a>) {
        if st.is_none() {
            return;
        }
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match n.kind() {
                "func_literal" => {
                    self.closure(n, st);
                    continue;
                }
                "identifier" => {
                    if let Some((id, kind)) = self.tracked(n)
                        && !self.harmless_use(n, kind)
                    {
                        Self::set_unknown(st, id);
                    }
                }
                _ => {}
            }
            let mut c = n.walk();
            for child in n.named_children(&mut c) {
                stack.push(child);
            }
        }
    }

    /// A closure may run at any later time: every tracked variable it could
    /// assign or hand on becomes unknown from here on.
    fn closure(&mut self, lit: Node<'a>, st: &mut State<'a>) {
        let mut stack = vec![lit];
        while let Some(n) = stack.pop() {
            if n.kind() == "identifier"
                && let Some((id, kind)) = self.tracked(n)
                && !self.harmless_use(n, kind)
            {
                Self::set_unknown(st, id);
            }
            let mut c = n.walk();
            for child in n.named_children(&mut c) {
                stack.push(child);
            }
        }
    }

    fn check_write(&mut self, target: Node<'a>, st: &State<'a>) {
        let target = unparen(target);
        if target.kind() != "index_expression" || !self.reporting {
            return;
        }
        let (Some(s), Some(operand)) = (st, target.child_by_field_name("operand")) else {
            return;
        };
        let Some((key, origin)) = self.key_of(operand) else {
            return;
        };
        let nil = s.get(&key).copied().unwrap_or(Nullness::Unknown);
        let dead = s.contains_key(&Key::Dead);
        if nil == Nullness::Nil || (nil == Nullness::Maybe && !dead) {
            let subject = self.cx.text(unparen(operand));
            self.reports.entry(target.start_byte()).or_insert(Report {
                node: target,
                nil,
                dead,
                subject,
                origin,
            });
        }
    }

    // ---- statements ----

    fn block(&mut self, block: Node<'a>, st: State<'a>) -> State<'a> {
        self.scopes.push(Vec::new());
        let mut st = st;
        let mut c = block.walk();
        let children: Vec<Node<'a>> = block.named_children(&mut c).collect();
        for child in children {
            if child.kind() == "statement_list" {
                st = self.statements(child, st);
            } else {
                st = self.stmt(child, st);
            }
        }
        self.scopes.pop();
        st
    }

    fn statements(&mut self, list: Node<'a>, mut st: State<'a>) -> State<'a> {
        let mut c = list.walk();
        let children: Vec<Node<'a>> = list.named_children(&mut c).collect();
        for s in children {
            if st.is_none() || self.aborted {
                break;
            }
            st = self.stmt(s, st);
        }
        st
    }

    fn stmt(&mut self, s: Node<'a>, st: State<'a>) -> State<'a> {
        if st.is_none() || self.aborted {
            return st;
        }
        if self.budget == 0 || self.depth > MAX_DEPTH {
            self.aborted = true;
            return None;
        }
        self.budget -= 1;
        self.depth += 1;
        let out = self.stmt_inner(s, st);
        self.depth -= 1;
        out
    }

    fn stmt_inner(&mut self, s: Node<'a>, mut st: State<'a>) -> State<'a> {
        match s.kind() {
            "comment" | "empty_statement" | "fallthrough_statement" => st,
            "block" => self.block(s, st),
            "statement_list" => self.statements(s, st),
            "expression_statement" => {
                if let Some(e) = s.named_child(0) {
                    self.expr(e, &mut st);
                    if self.is_terminating(e) {
                        return None;
                    }
                }
                st
            }
            "short_var_declaration" => self.short_var(s, st),
            "var_declaration" => self.var_declaration(s, st),
            "const_declaration" | "type_declaration" => {
                for n in declared_names(s) {
                    self.declare(self.cx.text(n), None);
                }
                st
            }
            "assignment_statement" => self.assignment(s, st),
            "inc_statement" | "dec_statement" => {
                if let Some(o) = s.named_child(0) {
                    self.check_write(o, &st);
                    self.expr(o, &mut st);
                }
                st
            }
            "return_statement" => {
                self.expr(s, &mut st);
                None
            }
            "go_statement" | "defer_statement" | "send_statement" => {
                self.expr(s, &mut st);
                st
            }
            "if_statement" => self.if_statement(s, st),
            "expression_switch_statement" | "type_switch_statement" => self.switch(s, None, st),
            "select_statement" => self.select(s, None, st),
            "for_statement" => self.for_statement(s, None, st),
            "labeled_statement" => {
                let label = s.child_by_field_name("label").map(|l| self.cx.text(l));
                let mut c = s.walk();
                let inner = s
                    .named_children(&mut c)
                    .find(|n| n.kind() != "label_name" && n.kind() != "comment");
                match inner {
                    None => st,
                    Some(i) => match i.kind() {
                        "for_statement" => self.for_statement(i, label, st),
                        "expression_switch_statement" | "type_switch_statement" => {
                            self.switch(i, label, st)
                        }
                        "select_statement" => self.select(i, label, st),
                        _ => self.stmt(i, st),
                    },
                }
            }
            "break_statement" => {
                let label = s.named_child(0).map(|l| self.cx.text(l));
                let target = self.targets.iter_mut().rev().find(|t| match label {
                    Some(l) => t.label == Some(l),
                    None => true,
                });
                match target {
                    Some(t) => t.breaks = join(t.breaks.take(), st),
                    None => self.aborted = true,
                }
                None
            }
            "continue_statement" => {
                let label = s.named_child(0).map(|l| self.cx.text(l));
                let target = self.targets.iter_mut().rev().find(|t| {
                    t.is_loop
                        && match label {
                            Some(l) => t.label == Some(l),
                            None => true,
                        }
                });
                match target {
                    Some(t) => t.continues = join(t.continues.take(), st),
                    None => self.aborted = true,
                }
                None
            }
            "goto_statement" => {
                // Jumps are not modelled: say nothing about this function.
                self.aborted = true;
                None
            }
            _ => {
                self.expr(s, &mut st);
                st
            }
        }
    }

    /// `panic(...)`, `os.Exit`, `log.Fatal*`, `t.Fatal*`, `t.Skip*`,
    /// `runtime.Goexit`: the path ends.
    fn is_terminating(&mut self, e: Node<'a>) -> bool {
        let e = unparen(e);
        if e.kind() != "call_expression" {
            return false;
        }
        let Some(f) = e.child_by_field_name("function").map(unparen) else {
            return false;
        };
        if f.kind() == "identifier" && !self.is_builtin(f, "panic") {
            let name = self.cx.text(f);
            return match self.lookup(name) {
                Some(Some(id)) => self.noreturn.contains(&id),
                Some(None) => false,
                None => self.function_never_returns(name),
            };
        }
        self.is_terminating_call(e)
    }

    /// A call that ends the path by itself (no look-up of local helpers).
    fn is_terminating_call(&self, e: Node<'a>) -> bool {
        let e = unparen(e);
        if e.kind() != "call_expression" {
            return false;
        }
        let Some(f) = e.child_by_field_name("function").map(unparen) else {
            return false;
        };
        match f.kind() {
            "identifier" => self.is_builtin(f, "panic"),
            "selector_expression" => f.child_by_field_name("field").is_some_and(|n| {
                matches!(
                    self.cx.text(n),
                    "Exit"
                        | "Fatal"
                        | "Fatalf"
                        | "Fatalln"
                        | "FailNow"
                        | "Skip"
                        | "Skipf"
                        | "SkipNow"
                        | "Goexit"
                        | "Panic"
                        | "Panicf"
                        | "Panicln"
                )
            }),
            _ => false,
        }
    }

    /// Whether a function body's last statement ends the path
    /// (`panic(...)`, `t.Fatalf(...)`, `os.Exit(...)`).
    fn body_never_returns(&self, body: Node<'a>) -> bool {
        let mut node = body;
        if let Some(list) = body.named_child(0).filter(|n| n.kind() == "statement_list") {
            node = list;
        }
        let mut c = node.walk();
        let last = node
            .named_children(&mut c)
            .filter(|n| n.kind() != "comment")
            .last();
        last.is_some_and(|l| {
            l.kind() == "expression_statement"
                && l.named_child(0)
                    .is_some_and(|e| self.is_terminating_call(e))
        })
    }

    /// A function declared at the top of this file whose body never returns.
    fn function_never_returns(&mut self, name: &'a str) -> bool {
        if let Some(known) = self.noreturn_functions.get(name) {
            return *known;
        }
        let root = self.cx.file.tree.root_node();
        let mut c = root.walk();
        let decl = root.named_children(&mut c).find(|d| {
            d.kind() == "function_declaration"
                && d.child_by_field_name("name")
                    .is_some_and(|n| self.cx.text(n) == name)
        });
        let never = decl
            .and_then(|d| d.child_by_field_name("body"))
            .is_some_and(|b| self.body_never_returns(b));
        self.noreturn_functions.insert(name, never);
        never
    }

    fn short_var(&mut self, s: Node<'a>, mut st: State<'a>) -> State<'a> {
        let lefts = s.child_by_field_name("left").map(args).unwrap_or_default();
        let rights = s.child_by_field_name("right").map(args).unwrap_or_default();
        for r in &rights {
            self.expr(*r, &mut st);
        }
        let paired = lefts.len() == rights.len();
        let mut new_names = Vec::new();
        for (i, l) in lefts.iter().enumerate() {
            if l.kind() != "identifier" {
                continue;
            }
            let name = self.cx.text(*l);
            if name == "_" {
                continue;
            }
            let value = if paired { Some(rights[i]) } else { None };
            if self.declared_in_current_scope(name).is_some() {
                self.assign_target(*l, value, &mut st);
            } else {
                new_names.push((*l, name, value));
            }
        }
        for (l, name, value) in new_names {
            let id = self.new_variable(l, None, value, &mut st);
            if id.is_none()
                && let Some(lit) = value.map(unparen).filter(|v| v.kind() == "func_literal")
                && lit
                    .child_by_field_name("body")
                    .is_some_and(|b| self.body_never_returns(b))
            {
                // Declared, not tracked (no kind): only `is_terminating`
                // looks at it.
                self.noreturn.insert(l.start_byte());
                self.declare(name, Some(l.start_byte()));
                continue;
            }
            self.declare(name, id);
        }
        st
    }

    /// Starts tracking a new variable declared at `ident` with optional
    /// type and value; returns its id when it is tracked.
    fn new_variable(
        &mut self,
        ident: Node<'a>,
        ty: Option<Node<'a>>,
        value: Option<Node<'a>>,
        st: &mut State<'a>,
    ) -> Option<usize> {
        let id = ident.start_byte();
        let s = st.as_mut()?;
        if let Some(ty) = ty {
            if self.is_map_type(ty) {
                let nil = match value {
                    None => Nullness::Nil,
                    Some(v) => self.map_value(Some(v), s),
                };
                self.kinds.insert(id, VarKind::Map);
                s.insert(Key::Var(id), nil);
                return Some(id);
            }
            if value.is_none()
                && let Some(decl) = self.struct_with_maps(ty)
            {
                self.kinds.insert(id, VarKind::Struct(decl));
                s.retain(|k, _| k.var() != id);
                for f in self.map_fields(decl) {
                    s.insert(Key::Field(id, f), Nullness::Nil);
                }
                return Some(id);
            }
        }
        let value = value?;
        if self.is_new_map(value) {
            self.kinds.insert(id, VarKind::NewPtr);
            s.insert(Key::Deref(id), Nullness::Nil);
            return Some(id);
        }
        if let Some((decl, fields)) = self.struct_value(value, s) {
            self.kinds.insert(id, VarKind::Struct(decl));
            s.retain(|k, _| k.var() != id);
            for (f, nil) in fields {
                s.insert(Key::Field(id, f), nil);
            }
            return Some(id);
        }
        let nil = self.map_value(Some(value), s);
        if nil == Nullness::NonNil {
            self.kinds.insert(id, VarKind::Map);
            s.insert(Key::Var(id), nil);
            return Some(id);
        }
        None
    }

    fn var_declaration(&mut self, s: Node<'a>, mut st: State<'a>) -> State<'a> {
        let mut specs = Vec::new();
        let mut c = s.walk();
        for child in s.named_children(&mut c) {
            match child.kind() {
                "var_spec" => specs.push(child),
                "var_spec_list" => {
                    let mut c2 = child.walk();
                    specs.extend(
                        child
                            .named_children(&mut c2)
                            .filter(|n| n.kind() == "var_spec"),
                    );
                }
                _ => {}
            }
        }
        for spec in specs {
            let ty = spec.child_by_field_name("type");
            let values = spec
                .child_by_field_name("value")
                .map(args)
                .unwrap_or_default();
            for v in &values {
                self.expr(*v, &mut st);
            }
            let mut c2 = spec.walk();
            let names: Vec<Node<'a>> = spec.children_by_field_name("name", &mut c2).collect();
            let paired = names.len() == values.len();
            let mut declared = Vec::new();
            for (i, n) in names.iter().enumerate() {
                let name = self.cx.text(*n);
                if name == "_" {
                    continue;
                }
                let value = if paired { values.get(i).copied() } else { None };
                let id = if !values.is_empty() && !paired {
                    None
                } else {
                    self.new_variable(*n, ty, value, &mut st)
                };
                declared.push((name, id));
            }
            for (name, id) in declared {
                self.declare(name, id);
            }
        }
        st
    }

    fn assignment(&mut self, s: Node<'a>, mut st: State<'a>) -> State<'a> {
        let lefts = s.child_by_field_name("left").map(args).unwrap_or_default();
        let rights = s.child_by_field_name("right").map(args).unwrap_or_default();
        let plain = s
            .child_by_field_name("operator")
            .is_some_and(|o| self.cx.text(o) == "=");
        for l in &lefts {
            self.check_write(*l, &st);
        }
        for r in &rights {
            self.expr(*r, &mut st);
        }
        for l in &lefts {
            if self.assignable_target(*l).is_none() {
                self.expr(*l, &mut st);
            }
        }
        let paired = lefts.len() == rights.len();
        for (i, l) in lefts.iter().enumerate() {
            let value = if paired && plain {
                Some(rights[i])
            } else {
                None
            };
            self.assign_target(*l, value, &mut st);
        }
        st
    }

    /// The tracked variable an assignment target changes: `m`, `p`, `*p`,
    /// `c`, `c.items`.
    fn assignable_target(&self, l: Node<'a>) -> Option<usize> {
        let l = unparen(l);
        match l.kind() {
            "identifier" => self.tracked(l).map(|(id, _)| id),
            "unary_expression" | "selector_expression" => {
                let inner = if l.kind() == "unary_expression" {
                    unparen(l.child_by_field_name("operand")?)
                } else {
                    l.child_by_field_name("operand")?
                };
                let (id, kind) = self.tracked(inner)?;
                match (l.kind(), kind) {
                    ("unary_expression", VarKind::NewPtr) => Some(id),
                    ("selector_expression", VarKind::Struct(decl)) => {
                        let field = self.cx.text(l.child_by_field_name("field")?);
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

    fn assign_target(&mut self, l: Node<'a>, value: Option<Node<'a>>, st: &mut State<'a>) {
        let l = unparen(l);
        let Some(s) = st.as_mut() else {
            return;
        };
        match l.kind() {
            "identifier" => {
                let Some((id, kind)) = self.tracked(l) else {
                    return;
                };
                match kind {
                    VarKind::Map => {
                        let nil = self.map_value(value, s);
                        s.insert(Key::Var(id), nil);
                    }
                    VarKind::NewPtr => {
                        let nil = if value.is_some_and(|v| self.is_new_map(v)) {
                            Nullness::Nil
                        } else {
                            Nullness::Unknown
                        };
                        s.insert(Key::Deref(id), nil);
                    }
                    VarKind::Struct(decl) => {
                        let fields = value
                            .and_then(|v| self.struct_value(v, s))
                            .filter(|(d, _)| std::ptr::eq(*d, decl));
                        match fields {
                            Some((_, fields)) => {
                                for (f, nil) in fields {
                                    s.insert(Key::Field(id, f), nil);
                                }
                            }
                            None => Self::set_unknown(st, id),
                        }
                    }
                }
            }
            "unary_expression" | "selector_expression" => {
                if let Some((key, _)) = self.key_of(l) {
                    let nil = self.map_value(value, s);
                    s.insert(key, nil);
                } else if l.kind() == "unary_expression"
                    && let Some(o) = l.child_by_field_name("operand")
                    && let Some((id, VarKind::Struct(_))) = self.tracked(unparen(o))
                {
                    // `*c = Cache{...}`
                    Self::set_unknown(st, id);
                }
            }
            _ => {}
        }
    }

    fn if_statement(&mut self, s: Node<'a>, mut st: State<'a>) -> State<'a> {
        self.scopes.push(Vec::new());
        if let Some(init) = s.child_by_field_name("initializer") {
            st = self.stmt(init, st);
        }
        if let Some(cond) = s.child_by_field_name("condition") {
            self.expr(cond, &mut st);
        }
        let (t, f) = match s.child_by_field_name("condition") {
            Some(cond) => self.refine(cond, st),
            None => (st.clone(), st),
        };
        let guard = s
            .child_by_field_name("condition")
            .and_then(|c| self.non_empty_operand(c));
        let before = t.clone();
        let a = match s.child_by_field_name("consequence") {
            Some(b) => self.block(b, t),
            None => t,
        };
        if let (Some(g), Some(before), Some(after)) = (guard, &before, &a) {
            for (k, v) in after {
                if *v == Nullness::NonNil
                    && matches!(before.get(k), Some(Nullness::Nil | Nullness::Maybe))
                {
                    self.guards.insert(k.clone(), g);
                }
            }
        }
        let b = match s.child_by_field_name("alternative") {
            Some(alt) => self.stmt(alt, f),
            None => f,
        };
        self.scopes.pop();
        join(a, b)
    }

    /// `X` in `X != nil`, `len(X) > 0`, `len(X) != 0`, `len(X) >= 1`.
    fn non_empty_operand(&self, cond: Node<'a>) -> Option<&'a str> {
        let cond = unparen(cond);
        if cond.kind() != "binary_expression" {
            return None;
        }
        let l = unparen(cond.child_by_field_name("left")?);
        let r = unparen(cond.child_by_field_name("right")?);
        let op = self.cx.text(cond.child_by_field_name("operator")?);
        if op == "!=" && self.is_nil(r) && !self.is_nil(l) {
            return Some(self.cx.text(l));
        }
        if l.kind() == "call_expression"
            && r.kind() == "int_literal"
            && matches!(
                (op, self.cx.text(r)),
                ("!=", "0") | (">", "0") | (">=", "1")
            )
            && self.is_builtin(unparen(l.child_by_field_name("function")?), "len")
        {
            let [arg] = args(l.child_by_field_name("arguments")?)[..] else {
                return None;
            };
            return Some(self.cx.text(unparen(arg)));
        }
        None
    }

    /// The states when `cond` is true and when it is false.
    fn refine(&self, cond: Node<'a>, st: State<'a>) -> (State<'a>, State<'a>) {
        self.refine_at(cond, st, 0)
    }

    fn refine_at(&self, cond: Node<'a>, st: State<'a>, depth: usize) -> (State<'a>, State<'a>) {
        if depth > MAX_DEPTH {
            return (st.clone(), st);
        }
        let cond = unparen(cond);
        match cond.kind() {
            "unary_expression"
                if cond
                    .child_by_field_name("operator")
                    .is_some_and(|o| self.cx.text(o) == "!") =>
            {
                match cond.child_by_field_name("operand") {
                    Some(o) => {
                        let (t, f) = self.refine_at(o, st, depth + 1);
                        (f, t)
                    }
                    None => (st.clone(), st),
                }
            }
            "binary_expression" => {
                let (Some(l), Some(r), Some(op)) = (
                    cond.child_by_field_name("left"),
                    cond.child_by_field_name("right"),
                    cond.child_by_field_name("operator"),
                ) else {
                    return (st.clone(), st);
                };
                match self.cx.text(op) {
                    "&&" => {
                        let (t1, f1) = self.refine_at(l, st, depth + 1);
                        let (t2, f2) = self.refine_at(r, t1, depth + 1);
                        (t2, join(f1, f2))
                    }
                    "||" => {
                        let (t1, f1) = self.refine_at(l, st, depth + 1);
                        let (t2, f2) = self.refine_at(r, f1, depth + 1);
                        (join(t1, t2), f2)
                    }
                    op @ ("==" | "!=") => {
                        let key = if self.is_nil(r) {
                            self.key_of(l)
                        } else if self.is_nil(l) {
                            self.key_of(r)
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
                        self.refine_len(l, r, op, st)
                    }
                    op @ (">" | ">=") => self.refine_len(l, r, op, st),
                    _ => (st.clone(), st),
                }
            }
            _ => (st.clone(), st),
        }
    }

    /// `len(m) == 0`, `len(m) != 0`, `len(m) > 0`, `len(m) >= 1`: a map
    /// with elements is not nil.
    fn refine_len(
        &self,
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
            if !self.is_builtin(unparen(l.child_by_field_name("function")?), "len") {
                return None;
            }
            let [arg] = args(l.child_by_field_name("arguments")?)[..] else {
                return None;
            };
            self.key_of(arg).map(|(k, _)| k)
        })();
        let Some(key) = key else {
            return (st.clone(), st);
        };
        let nonnil = with(&st, &key, Some(Nullness::NonNil));
        match (op, self.cx.text(r)) {
            ("==", "0") => (st, nonnil),
            ("!=", "0") | (">", "0") | (">=", "1") => (nonnil, st),
            _ => (st.clone(), st),
        }
    }

    fn is_nil(&self, n: Node<'a>) -> bool {
        let n = unparen(n);
        n.kind() == "nil" || self.is_builtin(n, "nil")
    }

    fn switch(&mut self, s: Node<'a>, label: Option<&'a str>, mut st: State<'a>) -> State<'a> {
        self.scopes.push(Vec::new());
        if let Some(init) = s.child_by_field_name("initializer") {
            st = self.stmt(init, st);
        }
        if let Some(v) = s.child_by_field_name("value") {
            self.expr(v, &mut st);
        }
        let alias: Vec<Node<'a>> = s.child_by_field_name("alias").map(args).unwrap_or_default();
        self.targets.push(Target {
            label,
            is_loop: false,
            breaks: None,
            continues: None,
        });
        let mut out: State<'a> = None;
        let mut carry: State<'a> = None;
        let mut has_default = false;
        let mut c = s.walk();
        let cases: Vec<Node<'a>> = s
            .named_children(&mut c)
            .filter(|n| matches!(n.kind(), "expression_case" | "default_case" | "type_case"))
            .collect();
        for case in cases {
            if case.kind() == "default_case" {
                has_default = true;
            }
            let mut case_st = join(st.clone(), carry.take());
            if case.kind() == "expression_case"
                && let Some(v) = case.child_by_field_name("value")
            {
                self.expr(v, &mut case_st);
            }
            self.scopes.push(Vec::new());
            for a in &alias {
                self.declare(self.cx.text(*a), None);
            }
            let mut c2 = case.walk();
            let list = case
                .named_children(&mut c2)
                .find(|n| n.kind() == "statement_list");
            let falls = list.is_some_and(|l| {
                let mut c3 = l.walk();
                let last = l
                    .named_children(&mut c3)
                    .filter(|n| n.kind() != "comment")
                    .last();
                last.is_some_and(|n| n.kind() == "fallthrough_statement")
            });
            let r = match list {
                Some(l) => self.statements(l, case_st),
                None => case_st,
            };
            self.scopes.pop();
            if falls {
                carry = r;
            } else {
                out = join(out, r);
            }
        }
        out = join(out, carry);
        let t = self.targets.pop();
        if let Some(t) = t {
            out = join(out, t.breaks);
        }
        if !has_default {
            out = join(out, st);
        }
        self.scopes.pop();
        out
    }

    fn select(&mut self, s: Node<'a>, label: Option<&'a str>, st: State<'a>) -> State<'a> {
        self.targets.push(Target {
            label,
            is_loop: false,
            breaks: None,
            continues: None,
        });
        let mut out: State<'a> = None;
        let mut c = s.walk();
        let cases: Vec<Node<'a>> = s
            .named_children(&mut c)
            .filter(|n| matches!(n.kind(), "communication_case" | "default_case"))
            .collect();
        for case in cases {
            self.scopes.push(Vec::new());
            let mut case_st = st.clone();
            if let Some(comm) = case.child_by_field_name("communication") {
                case_st = self.communication(comm, case_st);
            }
            let mut c2 = case.walk();
            let list = case
                .named_children(&mut c2)
                .find(|n| n.kind() == "statement_list");
            let r = match list {
                Some(l) => self.statements(l, case_st),
                None => case_st,
            };
            self.scopes.pop();
            out = join(out, r);
        }
        if let Some(t) = self.targets.pop() {
            out = join(out, t.breaks);
        }
        out
    }

    fn communication(&mut self, comm: Node<'a>, mut st: State<'a>) -> State<'a> {
        if comm.kind() != "receive_statement" {
            self.expr(comm, &mut st);
            return st;
        }
        if let Some(r) = comm.child_by_field_name("right") {
            self.expr(r, &mut st);
        }
        let lefts = comm
            .child_by_field_name("left")
            .map(args)
            .unwrap_or_default();
        if has_token(comm, ":=") {
            for l in lefts {
                self.declare(self.cx.text(l), None);
            }
        } else {
            for l in lefts {
                self.check_write(l, &st);
                self.assign_target(l, None, &mut st);
            }
        }
        st
    }

    fn for_statement(
        &mut self,
        s: Node<'a>,
        label: Option<&'a str>,
        mut st: State<'a>,
    ) -> State<'a> {
        self.scopes.push(Vec::new());
        let mut c = s.walk();
        let header = s
            .named_children(&mut c)
            .find(|n| n.kind() != "block" && n.kind() != "comment");
        let body = s.child_by_field_name("body");
        let mut condition = None;
        let mut update = None;
        let mut ranged: Option<&'a str> = None;
        match header {
            None => {}
            Some(h) if h.kind() == "for_clause" => {
                if let Some(init) = h.child_by_field_name("initializer") {
                    st = self.stmt(init, st);
                }
                condition = h.child_by_field_name("condition");
                update = h.child_by_field_name("update");
            }
            Some(h) if h.kind() == "range_clause" => {
                if let Some(r) = h.child_by_field_name("right") {
                    self.expr(r, &mut st);
                    ranged = Some(self.cx.text(unparen(r)));
                }
                let lefts = h.child_by_field_name("left").map(args).unwrap_or_default();
                if has_token(h, ":=") {
                    for l in lefts {
                        self.declare(self.cx.text(l), None);
                    }
                } else {
                    for l in lefts {
                        self.expr(l, &mut st);
                        self.assign_target(l, None, &mut st);
                    }
                }
            }
            Some(h) => condition = Some(h),
        }
        let entry = st;
        let reporting = self.reporting;
        self.reporting = false;
        let mut head = entry.clone();
        let mut converged = false;
        for _ in 0..MAX_LOOP_ITERATIONS {
            let (back, _) = self.loop_once(label, condition, ranged, body, update, head.clone());
            let next = join(entry.clone(), back);
            if next == head {
                converged = true;
                break;
            }
            head = next;
            if self.aborted {
                break;
            }
        }
        self.reporting = reporting;
        if !converged {
            self.aborted = true;
            self.scopes.pop();
            return None;
        }
        let (_, exit) = self.loop_once(label, condition, ranged, body, update, head);
        self.scopes.pop();
        exit
    }

    /// One trip around a loop from `head`: the state flowing back to the
    /// head and the state leaving the loop.
    fn loop_once(
        &mut self,
        label: Option<&'a str>,
        condition: Option<Node<'a>>,
        ranged: Option<&'a str>,
        body: Option<Node<'a>>,
        update: Option<Node<'a>>,
        mut head: State<'a>,
    ) -> (State<'a>, State<'a>) {
        if let Some(cond) = condition {
            self.expr(cond, &mut head);
        }
        // The body of `for ... range X` runs only when X is not empty, so a
        // map made under `if X != nil` / `if len(X) > 0` is made there.
        let mut entry = head.clone();
        if let (Some(r), Some(s)) = (ranged, entry.as_mut()) {
            for (k, v) in s.iter_mut() {
                if *v == Nullness::Maybe && self.guards.get(k).is_some_and(|g| *g == r) {
                    *v = Nullness::NonNil;
                }
            }
        }
        self.targets.push(Target {
            label,
            is_loop: true,
            breaks: None,
            continues: None,
        });
        let b = match body {
            Some(b) => self.block(b, entry),
            None => entry,
        };
        let t = self.targets.pop();
        let (breaks, continues) = t.map(|t| (t.breaks, t.continues)).unwrap_or((None, None));
        let mut back = join(b, continues);
        if let Some(u) = update {
            back = self.stmt(u, back);
        }
        // A loop without a condition leaves only by `break` (or `return`);
        // a range or conditional loop may also run zero or more times.
        let exit = if condition.is_some() || is_range_or_bounded(body) {
            join(head, breaks)
        } else {
            breaks
        };
        (back, exit)
    }
}

/// Whether the `for` statement owning `body` has a range clause, which
/// (like a condition) lets it finish without `break`.
fn is_range_or_bounded(body: Option<Node<'_>>) -> bool {
    let Some(s) = body.and_then(|b| b.parent()) else {
        return false;
    };
    let mut c = s.walk();
    s.named_children(&mut c).any(|n| n.kind() == "range_clause")
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

fn is_address_of(flow: &Flow<'_, '_>, unary: Node<'_>) -> bool {
    unary
        .child_by_field_name("operator")
        .is_some_and(|o| flow.cx.text(o) == "&")
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

fn has_token(node: Node<'_>, token: &str) -> bool {
    let mut c = node.walk();
    node.children(&mut c).any(|n| n.kind() == token)
}

fn param_names(list: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut c = list.walk();
    for decl in list.named_children(&mut c) {
        let mut c2 = decl.walk();
        out.extend(decl.children_by_field_name("name", &mut c2));
    }
    out
}

/// Names declared by a `const`/`type` declaration statement.
fn declared_names(decl: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut stack = vec![decl];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "const_spec" | "type_spec" | "type_alias" => {
                let mut c = n.walk();
                out.extend(n.children_by_field_name("name", &mut c));
            }
            _ => {
                let mut c = n.walk();
                for child in n.named_children(&mut c) {
                    if matches!(
                        child.kind(),
                        "const_spec"
                            | "type_spec"
                            | "type_alias"
                            | "const_spec_list"
                            | "type_spec_list"
                    ) {
                        stack.push(child);
                    }
                }
            }
        }
    }
    out
}
