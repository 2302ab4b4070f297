//! A forward data-flow interpreter over the statements of one Go function
//! body, parameterised by an abstract [`Domain`].
//!
//! The interpreter owns what every flow analysis needs and no rule should
//! write twice: the order of evaluation of Go statements, the lexical
//! scopes of the names they declare ([`Env`]), `if`/`else`, `switch`, type
//! switches and `select` (with `fallthrough` and `break`), `for` and
//! `range` loops iterated to a fixpoint, `return`/`break`/`continue` with
//! and without labels, and calls that never return (`never_returns`).
//! A domain says what is known at a program point ([`Domain::State`]), how
//! two paths meet ([`Domain::join`]), what a condition teaches
//! ([`Domain::refine`]), and what declarations, assignments and uses do.
//!
//! A path that cannot continue (after `return`, `panic(...)`, `break`) has
//! no state: the interpreter carries `Option<Domain::State>`, `None` for
//! unreachable, and joins `None` with a state as that state.
//!
//! # Bounds
//!
//! The analysis gives up — [`Interpreter::run`] returns `false` and the
//! domain's results must be discarded — rather than be slow, overflow the
//! stack or guess:
//!
//! - on code nested deeper than [`MAX_DEPTH`] statements (or conditions
//!   nested deeper than that): statements are interpreted recursively,
//!   one stack frame group per nesting level, so the depth is bounded;
//! - after [`BUDGET`] statements visited in one function (loops are
//!   visited several times, nested loops multiply);
//! - on a loop whose state does not converge in [`MAX_LOOP_ITERATIONS`];
//! - on `goto`, and on `break`/`continue` without a matching statement.
//!
//! # Closures, `go` and `defer`
//!
//! A function literal is not interpreted: it may run at any later time, or
//! never. Evaluating an expression reports every identifier inside it to
//! [`Domain::identifier`], the ones inside function literals included, so
//! a domain treats a use in a closure as a use now. `go` and `defer`
//! statements are evaluated the same way, where they stand.
//!
//! # Scopes
//!
//! [`Env`] keeps its own stack of scopes instead of asking
//! [`crate::local_declaration`]: the interpreter meets declarations in
//! execution order and needs the answer for every identifier it evaluates,
//! which a stack gives without re-walking the ancestors each time. It
//! also answers differently on purpose inside function literals: their
//! parameters are not pushed, so a closure parameter named like a tracked
//! variable counts as a use of that variable (the cautious answer for a
//! domain that forgets what it cannot see).

mod never_returns;

pub use never_returns::NeverReturns;

pub use crate::unparen;
use crate::{Node, Package, node_text};

/// Fixed-point iterations allowed for one loop before giving up.
pub const MAX_LOOP_ITERATIONS: usize = 12;
/// Statements visited per function before giving up (deeply nested loops).
pub const BUDGET: usize = 200_000;
/// Statement nesting and condition depth before giving up. Statements and
/// conditions are interpreted recursively; this bounds the recursion.
pub const MAX_DEPTH: usize = 400;

/// An abstract domain: what is known at a program point, and how Go
/// statements change it. Hooks that may see an unreachable path take
/// `Option<State>` (`None`: unreachable).
pub trait Domain<'a> {
    type State: Clone + PartialEq;

    /// Where two reachable paths meet.
    fn join(&self, a: Self::State, b: Self::State) -> Self::State;

    /// An identifier is evaluated (read, passed, captured by a closure,
    /// or named in an assignment target the domain does not track).
    fn identifier(&mut self, env: &Env<'a>, ident: Node<'a>, st: &mut Self::State);

    /// The states where `cond` is true and false. Called for conditions
    /// other than `!x`, `x && y` and `x || y` (which the interpreter
    /// splits); `cond` is not parenthesised.
    fn refine(
        &self,
        env: &Env<'a>,
        cond: Node<'a>,
        st: Option<Self::State>,
    ) -> (Option<Self::State>, Option<Self::State>);

    /// A new variable is declared at `ident` (by `var` or `:=`), with its
    /// type and value when written. Returns `Some(ident.start_byte())` to
    /// track it (lookups of the name then answer with that id).
    fn declare(
        &mut self,
        env: &Env<'a>,
        ident: Node<'a>,
        ty: Option<Node<'a>>,
        value: Option<Node<'a>>,
        st: &mut Option<Self::State>,
    ) -> Option<usize>;

    /// Whether named results of type `ty` are tracked.
    fn tracks_result(&self, env: &Env<'a>, ty: Node<'a>) -> bool;

    /// A tracked named result, declared at `ident`, at function entry.
    fn enter_result(&mut self, env: &Env<'a>, ident: Node<'a>, st: &mut Self::State);

    /// `target` is assigned `value` (`None`: a value the interpreter cannot
    /// pair with the target, as in `a, b = f()`, `x += 1`, a `range` or
    /// receive with `=`).
    fn assign(
        &mut self,
        env: &Env<'a>,
        target: Node<'a>,
        value: Option<Node<'a>>,
        st: &mut Option<Self::State>,
    );

    /// `target` of an assignment, an inc/dec or a receive with `=` is about
    /// to be written, before the right-hand side is evaluated.
    fn write(&mut self, env: &Env<'a>, target: Node<'a>, st: &Option<Self::State>);

    /// Whether [`Domain::assign`] handles `target` fully; when not, the
    /// target is also evaluated as an expression.
    fn assigns(&self, env: &Env<'a>, target: Node<'a>) -> bool;

    /// After the consequence of `if cond { ... }`: `before` is the state
    /// entering the consequence, `after` the state leaving it.
    fn after_consequence(
        &mut self,
        _env: &Env<'a>,
        _cond: Node<'a>,
        _before: &Option<Self::State>,
        _after: &Option<Self::State>,
    ) {
    }

    /// Entering the body of `for ... range X`, with `X`'s text: the body
    /// runs only when `X` is not empty.
    fn enter_range_body(&self, _env: &Env<'a>, _ranged: &'a str, _st: &mut Option<Self::State>) {}
}

/// Where two possibly unreachable paths meet.
pub fn join<'a, D: Domain<'a>>(
    d: &D,
    a: Option<D::State>,
    b: Option<D::State>,
) -> Option<D::State> {
    match (a, b) {
        (None, s) | (s, None) => s,
        (Some(a), Some(b)) => Some(d.join(a, b)),
    }
}

/// The file being analysed and the lexical scopes at the current point.
pub struct Env<'a> {
    pub source: &'a [u8],
    pub root: Node<'a>,
    pub package: &'a Package,
    /// Lexical scopes: a name and, when it is tracked, its variable id.
    scopes: Vec<Vec<(&'a str, Option<usize>)>>,
    /// False while a loop is iterated to its fixpoint: domains report only
    /// on the final pass.
    pub reporting: bool,
}

impl<'a> Env<'a> {
    pub fn new(source: &'a [u8], root: Node<'a>, package: &'a Package) -> Env<'a> {
        Env {
            source,
            root,
            package,
            scopes: Vec::new(),
            reporting: true,
        }
    }

    pub fn text(&self, node: Node<'_>) -> &'a str {
        node_text(node, self.source)
    }

    fn push(&mut self) {
        self.scopes.push(Vec::new());
    }

    fn pop(&mut self) {
        self.scopes.pop();
    }

    /// Declares `name` in the innermost scope.
    pub fn declare(&mut self, name: &'a str, id: Option<usize>) {
        if let Some(s) = self.scopes.last_mut() {
            s.push((name, id));
        }
    }

    /// `Some(Some(id))` tracked local, `Some(None)` other local, `None`
    /// not declared in the function (package level, import, builtin).
    pub fn lookup(&self, name: &str) -> Option<Option<usize>> {
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

    /// Whether `node` is the predeclared identifier `name` (not shadowed
    /// locally nor by the package).
    pub fn is_builtin(&self, node: Node<'_>, name: &str) -> bool {
        node.kind() == "identifier"
            && self.text(node) == name
            && self.lookup(name).is_none()
            && !self.package.values.contains(name)
            && !self.package.types.contains_key(name)
    }
}

struct Target<'a, S> {
    label: Option<&'a str>,
    is_loop: bool,
    breaks: Option<S>,
    continues: Option<S>,
}

/// Interprets one function body over a domain `D`.
pub struct Interpreter<'a, D: Domain<'a>> {
    pub env: Env<'a>,
    pub domain: D,
    never: NeverReturns<'a>,
    targets: Vec<Target<'a, D::State>>,
    budget: usize,
    aborted: bool,
    depth: usize,
}

impl<'a, D: Domain<'a>> Interpreter<'a, D> {
    pub fn new(env: Env<'a>, domain: D) -> Self {
        Interpreter {
            env,
            domain,
            never: NeverReturns::default(),
            targets: Vec::new(),
            budget: BUDGET,
            aborted: false,
            depth: 0,
        }
    }

    /// Interprets `body` of `func` (a function or method declaration or a
    /// function literal) from `entry`. Returns `false` when the analysis
    /// gave up (see the module's bounds): the domain's findings are then
    /// not to be trusted.
    pub fn run(&mut self, func: Node<'a>, body: Node<'a>, entry: D::State) -> bool {
        let mut st = entry;
        self.env.push();
        for field in ["receiver", "type_parameters", "parameters"] {
            if let Some(list) = func.child_by_field_name(field) {
                for n in param_names(list) {
                    let name = self.env.text(n);
                    self.env.declare(name, None);
                }
            }
        }
        if let Some(result) = func.child_by_field_name("result")
            && result.kind() == "parameter_list"
        {
            let mut c = result.walk();
            for decl in result.named_children(&mut c) {
                let tracked = decl
                    .child_by_field_name("type")
                    .is_some_and(|t| self.domain.tracks_result(&self.env, t));
                let mut c2 = decl.walk();
                for n in decl.children_by_field_name("name", &mut c2) {
                    let name = self.env.text(n);
                    if tracked && name != "_" {
                        self.domain.enter_result(&self.env, n, &mut st);
                        self.env.declare(name, Some(n.start_byte()));
                    } else {
                        self.env.declare(name, None);
                    }
                }
            }
        }
        self.block(body, Some(st));
        !self.aborted
    }

    fn join(&self, a: Option<D::State>, b: Option<D::State>) -> Option<D::State> {
        join(&self.domain, a, b)
    }

    /// Evaluates an expression (or the expressions of a statement): every
    /// identifier inside, function literals included, is a use now.
    fn eval(&mut self, node: Node<'a>, st: &mut Option<D::State>) {
        let Some(s) = st.as_mut() else {
            return;
        };
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if n.kind() == "identifier" {
                self.domain.identifier(&self.env, n, s);
            }
            let mut c = n.walk();
            for child in n.named_children(&mut c) {
                stack.push(child);
            }
        }
    }

    fn block(&mut self, block: Node<'a>, st: Option<D::State>) -> Option<D::State> {
        self.env.push();
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
        self.env.pop();
        st
    }

    fn statements(&mut self, list: Node<'a>, mut st: Option<D::State>) -> Option<D::State> {
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

    fn stmt(&mut self, s: Node<'a>, st: Option<D::State>) -> Option<D::State> {
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

    fn stmt_inner(&mut self, s: Node<'a>, mut st: Option<D::State>) -> Option<D::State> {
        match s.kind() {
            "comment" | "empty_statement" | "fallthrough_statement" => st,
            "block" => self.block(s, st),
            "statement_list" => self.statements(s, st),
            "expression_statement" => {
                if let Some(e) = s.named_child(0) {
                    self.eval(e, &mut st);
                    if self.never.is_terminating(&self.env, e) {
                        return None;
                    }
                }
                st
            }
            "short_var_declaration" => self.short_var(s, st),
            "var_declaration" => self.var_declaration(s, st),
            "const_declaration" | "type_declaration" => {
                for n in declared_names(s) {
                    let name = self.env.text(n);
                    self.env.declare(name, None);
                }
                st
            }
            "assignment_statement" => self.assignment(s, st),
            "inc_statement" | "dec_statement" => {
                if let Some(o) = s.named_child(0) {
                    self.domain.write(&self.env, o, &st);
                    self.eval(o, &mut st);
                }
                st
            }
            "return_statement" => {
                self.eval(s, &mut st);
                None
            }
            "go_statement" | "defer_statement" | "send_statement" => {
                self.eval(s, &mut st);
                st
            }
            "if_statement" => self.if_statement(s, st),
            "expression_switch_statement" | "type_switch_statement" => self.switch(s, None, st),
            "select_statement" => self.select(s, None, st),
            "for_statement" => self.for_statement(s, None, st),
            "labeled_statement" => {
                let label = s.child_by_field_name("label").map(|l| self.env.text(l));
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
                let label = s.named_child(0).map(|l| self.env.text(l));
                let domain = &self.domain;
                let target = self.targets.iter_mut().rev().find(|t| match label {
                    Some(l) => t.label == Some(l),
                    None => true,
                });
                match target {
                    Some(t) => t.breaks = join(domain, t.breaks.take(), st),
                    None => self.aborted = true,
                }
                None
            }
            "continue_statement" => {
                let label = s.named_child(0).map(|l| self.env.text(l));
                let domain = &self.domain;
                let target = self.targets.iter_mut().rev().find(|t| {
                    t.is_loop
                        && match label {
                            Some(l) => t.label == Some(l),
                            None => true,
                        }
                });
                match target {
                    Some(t) => t.continues = join(domain, t.continues.take(), st),
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
                self.eval(s, &mut st);
                st
            }
        }
    }

    fn short_var(&mut self, s: Node<'a>, mut st: Option<D::State>) -> Option<D::State> {
        let lefts = s.child_by_field_name("left").map(args).unwrap_or_default();
        let rights = s.child_by_field_name("right").map(args).unwrap_or_default();
        for r in &rights {
            self.eval(*r, &mut st);
        }
        let paired = lefts.len() == rights.len();
        let mut new_names = Vec::new();
        for (i, l) in lefts.iter().enumerate() {
            if l.kind() != "identifier" {
                continue;
            }
            let name = self.env.text(*l);
            if name == "_" {
                continue;
            }
            let value = if paired { Some(rights[i]) } else { None };
            if self.env.declared_in_current_scope(name).is_some() {
                self.domain.assign(&self.env, *l, value, &mut st);
            } else {
                new_names.push((*l, name, value));
            }
        }
        for (l, name, value) in new_names {
            let id = self.domain.declare(&self.env, l, None, value, &mut st);
            if id.is_none()
                && let Some(lit) = value.map(unparen).filter(|v| v.kind() == "func_literal")
                && lit
                    .child_by_field_name("body")
                    .is_some_and(|b| NeverReturns::body_never_returns(&self.env, b))
            {
                // Declared with an id the domain does not track: only the
                // never-returns analysis looks at it.
                self.never.add_closure(l.start_byte());
                self.env.declare(name, Some(l.start_byte()));
                continue;
            }
            self.env.declare(name, id);
        }
        st
    }

    fn var_declaration(&mut self, s: Node<'a>, mut st: Option<D::State>) -> Option<D::State> {
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
                self.eval(*v, &mut st);
            }
            let mut c2 = spec.walk();
            let names: Vec<Node<'a>> = spec.children_by_field_name("name", &mut c2).collect();
            let paired = names.len() == values.len();
            let mut declared = Vec::new();
            for (i, n) in names.iter().enumerate() {
                let name = self.env.text(*n);
                if name == "_" {
                    continue;
                }
                let value = if paired { values.get(i).copied() } else { None };
                let id = if !values.is_empty() && !paired {
                    None
                } else {
                    self.domain.declare(&self.env, *n, ty, value, &mut st)
                };
                declared.push((name, id));
            }
            for (name, id) in declared {
                self.env.declare(name, id);
            }
        }
        st
    }

    fn assignment(&mut self, s: Node<'a>, mut st: Option<D::State>) -> Option<D::State> {
        let lefts = s.child_by_field_name("left").map(args).unwrap_or_default();
        let rights = s.child_by_field_name("right").map(args).unwrap_or_default();
        let plain = s
            .child_by_field_name("operator")
            .is_some_and(|o| self.env.text(o) == "=");
        for l in &lefts {
            self.domain.write(&self.env, *l, &st);
        }
        for r in &rights {
            self.eval(*r, &mut st);
        }
        for l in &lefts {
            if !self.domain.assigns(&self.env, *l) {
                self.eval(*l, &mut st);
            }
        }
        let paired = lefts.len() == rights.len();
        for (i, l) in lefts.iter().enumerate() {
            let value = if paired && plain {
                Some(rights[i])
            } else {
                None
            };
            self.domain.assign(&self.env, *l, value, &mut st);
        }
        st
    }

    fn if_statement(&mut self, s: Node<'a>, mut st: Option<D::State>) -> Option<D::State> {
        self.env.push();
        if let Some(init) = s.child_by_field_name("initializer") {
            st = self.stmt(init, st);
        }
        let cond = s.child_by_field_name("condition");
        if let Some(cond) = cond {
            self.eval(cond, &mut st);
        }
        let (t, f) = match cond {
            Some(cond) => self.refine(cond, st),
            None => (st.clone(), st),
        };
        let before = t.clone();
        let a = match s.child_by_field_name("consequence") {
            Some(b) => self.block(b, t),
            None => t,
        };
        if let Some(cond) = cond {
            self.domain.after_consequence(&self.env, cond, &before, &a);
        }
        let b = match s.child_by_field_name("alternative") {
            Some(alt) => self.stmt(alt, f),
            None => f,
        };
        self.env.pop();
        self.join(a, b)
    }

    /// The states when `cond` is true and when it is false.
    pub fn refine(
        &self,
        cond: Node<'a>,
        st: Option<D::State>,
    ) -> (Option<D::State>, Option<D::State>) {
        self.refine_at(cond, st, 0)
    }

    fn refine_at(
        &self,
        cond: Node<'a>,
        st: Option<D::State>,
        depth: usize,
    ) -> (Option<D::State>, Option<D::State>) {
        if depth > MAX_DEPTH {
            return (st.clone(), st);
        }
        let cond = unparen(cond);
        match cond.kind() {
            "unary_expression"
                if cond
                    .child_by_field_name("operator")
                    .is_some_and(|o| self.env.text(o) == "!") =>
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
                match self.env.text(op) {
                    "&&" => {
                        let (t1, f1) = self.refine_at(l, st, depth + 1);
                        let (t2, f2) = self.refine_at(r, t1, depth + 1);
                        (t2, self.join(f1, f2))
                    }
                    "||" => {
                        let (t1, f1) = self.refine_at(l, st, depth + 1);
                        let (t2, f2) = self.refine_at(r, f1, depth + 1);
                        (self.join(t1, t2), f2)
                    }
                    _ => self.domain.refine(&self.env, cond, st),
                }
            }
            _ => self.domain.refine(&self.env, cond, st),
        }
    }

    fn push_target(&mut self, label: Option<&'a str>, is_loop: bool) {
        self.targets.push(Target {
            label,
            is_loop,
            breaks: None,
            continues: None,
        });
    }

    fn switch(
        &mut self,
        s: Node<'a>,
        label: Option<&'a str>,
        mut st: Option<D::State>,
    ) -> Option<D::State> {
        self.env.push();
        if let Some(init) = s.child_by_field_name("initializer") {
            st = self.stmt(init, st);
        }
        if let Some(v) = s.child_by_field_name("value") {
            self.eval(v, &mut st);
        }
        let alias: Vec<Node<'a>> = s.child_by_field_name("alias").map(args).unwrap_or_default();
        self.push_target(label, false);
        let mut out: Option<D::State> = None;
        let mut carry: Option<D::State> = None;
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
            let mut case_st = self.join(st.clone(), carry.take());
            if case.kind() == "expression_case"
                && let Some(v) = case.child_by_field_name("value")
            {
                self.eval(v, &mut case_st);
            }
            self.env.push();
            for a in &alias {
                let name = self.env.text(*a);
                self.env.declare(name, None);
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
            self.env.pop();
            if falls {
                carry = r;
            } else {
                out = self.join(out, r);
            }
        }
        out = self.join(out, carry);
        if let Some(t) = self.targets.pop() {
            out = self.join(out, t.breaks);
        }
        if !has_default {
            out = self.join(out, st);
        }
        self.env.pop();
        out
    }

    fn select(
        &mut self,
        s: Node<'a>,
        label: Option<&'a str>,
        st: Option<D::State>,
    ) -> Option<D::State> {
        self.push_target(label, false);
        let mut out: Option<D::State> = None;
        let mut c = s.walk();
        let cases: Vec<Node<'a>> = s
            .named_children(&mut c)
            .filter(|n| matches!(n.kind(), "communication_case" | "default_case"))
            .collect();
        for case in cases {
            self.env.push();
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
            self.env.pop();
            out = self.join(out, r);
        }
        if let Some(t) = self.targets.pop() {
            out = self.join(out, t.breaks);
        }
        out
    }

    fn communication(&mut self, comm: Node<'a>, mut st: Option<D::State>) -> Option<D::State> {
        if comm.kind() != "receive_statement" {
            self.eval(comm, &mut st);
            return st;
        }
        if let Some(r) = comm.child_by_field_name("right") {
            self.eval(r, &mut st);
        }
        let lefts = comm
            .child_by_field_name("left")
            .map(args)
            .unwrap_or_default();
        if has_token(comm, ":=") {
            for l in lefts {
                let name = self.env.text(l);
                self.env.declare(name, None);
            }
        } else {
            for l in lefts {
                self.domain.write(&self.env, l, &st);
                self.domain.assign(&self.env, l, None, &mut st);
            }
        }
        st
    }

    fn for_statement(
        &mut self,
        s: Node<'a>,
        label: Option<&'a str>,
        mut st: Option<D::State>,
    ) -> Option<D::State> {
        self.env.push();
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
                    self.eval(r, &mut st);
                    ranged = Some(self.env.text(unparen(r)));
                }
                let lefts = h.child_by_field_name("left").map(args).unwrap_or_default();
                if has_token(h, ":=") {
                    for l in lefts {
                        let name = self.env.text(l);
                        self.env.declare(name, None);
                    }
                } else {
                    for l in lefts {
                        self.eval(l, &mut st);
                        self.domain.assign(&self.env, l, None, &mut st);
                    }
                }
            }
            Some(h) => condition = Some(h),
        }
        let lp = Loop {
            label,
            condition,
            ranged,
            body,
            update,
        };
        let entry = st;
        let reporting = self.env.reporting;
        self.env.reporting = false;
        let mut head = entry.clone();
        let mut converged = false;
        for _ in 0..MAX_LOOP_ITERATIONS {
            let (back, _) = self.loop_once(&lp, head.clone());
            let next = self.join(entry.clone(), back);
            if next == head {
                converged = true;
                break;
            }
            head = next;
            if self.aborted {
                break;
            }
        }
        self.env.reporting = reporting;
        if !converged {
            self.aborted = true;
            self.env.pop();
            return None;
        }
        let (_, exit) = self.loop_once(&lp, head);
        self.env.pop();
        exit
    }

    /// One trip around a loop from `head`: the state flowing back to the
    /// head and the state leaving the loop.
    fn loop_once(
        &mut self,
        lp: &Loop<'a>,
        mut head: Option<D::State>,
    ) -> (Option<D::State>, Option<D::State>) {
        if let Some(cond) = lp.condition {
            self.eval(cond, &mut head);
        }
        let mut entry = head.clone();
        if let Some(r) = lp.ranged {
            self.domain.enter_range_body(&self.env, r, &mut entry);
        }
        self.push_target(lp.label, true);
        let b = match lp.body {
            Some(b) => self.block(b, entry),
            None => entry,
        };
        let t = self.targets.pop();
        let (breaks, continues) = t.map(|t| (t.breaks, t.continues)).unwrap_or((None, None));
        let mut back = self.join(b, continues);
        if let Some(u) = lp.update {
            back = self.stmt(u, back);
        }
        // A loop without a condition leaves only by `break` (or `return`);
        // a range or conditional loop may also run zero or more times.
        let exit = if lp.condition.is_some() || is_range_or_bounded(lp.body) {
            self.join(head, breaks)
        } else {
            breaks
        };
        (back, exit)
    }
}

struct Loop<'a> {
    label: Option<&'a str>,
    condition: Option<Node<'a>>,
    ranged: Option<&'a str>,
    body: Option<Node<'a>>,
    update: Option<Node<'a>>,
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

/// The named, non-comment children of a node.
fn args<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect()
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

#[cfg(test)]
mod tests;
