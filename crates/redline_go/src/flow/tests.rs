//! The interpreter on small Go functions, over a test domain: variables
//! declared `var x *T` (no value) start `Zero`, any plain assignment makes
//! them `Set`, and `x == nil` / `x != nil` refine. Every write `x[k] = v`
//! records what is known about `x` there (on the final pass only).

use super::*;
use crate::{GoFile, Package};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Val {
    Zero,
    Set,
    Either,
    /// Used where the domain cannot see (address taken, captured).
    Lost,
}

#[derive(Default)]
struct Zeroes {
    tracked: Vec<usize>,
    /// Line of each write in the snippet (1-based) → what was known there.
    writes: BTreeMap<usize, Val>,
    identifiers_seen: usize,
}

type St = BTreeMap<usize, Val>;

impl Zeroes {
    fn key(&self, env: &Env<'_>, n: Node<'_>) -> Option<usize> {
        let n = unparen(n);
        if n.kind() != "identifier" {
            return None;
        }
        let id = env.lookup(env.text(n))??;
        self.tracked.contains(&id).then_some(id)
    }
}

impl<'a> Domain<'a> for Zeroes {
    type State = St;

    fn join(&self, mut a: St, b: St) -> St {
        for (k, v) in b {
            let e = a.entry(k).or_insert(v);
            *e = match (*e, v) {
                (x, y) if x == y => x,
                (Val::Lost, _) | (_, Val::Lost) => Val::Lost,
                _ => Val::Either,
            };
        }
        a
    }

    fn identifier(&mut self, env: &Env<'a>, ident: Node<'a>, st: &mut St) {
        self.identifiers_seen += 1;
        if let Some(id) = self.key(env, ident)
            && ident.parent().is_some_and(|p| {
                p.kind() == "unary_expression" && p.child(0).is_some_and(|o| o.kind() == "&")
            })
        {
            st.insert(id, Val::Lost);
        }
    }

    fn refine(&self, env: &Env<'a>, cond: Node<'a>, st: Option<St>) -> (Option<St>, Option<St>) {
        let (Some(l), Some(r), Some(op)) = (
            cond.child_by_field_name("left"),
            cond.child_by_field_name("right"),
            cond.child_by_field_name("operator"),
        ) else {
            return (st.clone(), st);
        };
        let (Some(id), "nil") = (self.key(env, l), r.kind()) else {
            return (st.clone(), st);
        };
        let set = |v: Val| {
            st.clone().map(|mut s| {
                s.insert(id, v);
                s
            })
        };
        match env.text(op) {
            "==" => (set(Val::Zero), set(Val::Set)),
            "!=" => (set(Val::Set), set(Val::Zero)),
            _ => (st.clone(), st),
        }
    }

    fn declare(
        &mut self,
        _env: &Env<'a>,
        ident: Node<'a>,
        ty: Option<Node<'a>>,
        value: Option<Node<'a>>,
        st: &mut Option<St>,
    ) -> Option<usize> {
        let s = st.as_mut()?;
        ty?;
        let id = ident.start_byte();
        self.tracked.push(id);
        s.insert(id, if value.is_some() { Val::Set } else { Val::Zero });
        Some(id)
    }

    fn tracks_result(&self, _env: &Env<'a>, ty: Node<'a>) -> bool {
        ty.kind() == "pointer_type"
    }

    fn enter_result(&mut self, _env: &Env<'a>, ident: Node<'a>, st: &mut St) {
        self.tracked.push(ident.start_byte());
        st.insert(ident.start_byte(), Val::Zero);
    }

    fn assign(
        &mut self,
        env: &Env<'a>,
        target: Node<'a>,
        value: Option<Node<'a>>,
        st: &mut Option<St>,
    ) {
        if let (Some(id), Some(s)) = (self.key(env, target), st.as_mut()) {
            let v = match value {
                Some(v) if v.kind() == "nil" => Val::Zero,
                Some(_) => Val::Set,
                None => Val::Lost,
            };
            s.insert(id, v);
        }
    }

    fn write(&mut self, env: &Env<'a>, target: Node<'a>, st: &Option<St>) {
        if !env.reporting || target.kind() != "index_expression" {
            return;
        }
        let (Some(s), Some(operand)) = (st, target.child_by_field_name("operand")) else {
            return;
        };
        if let Some(id) = self.key(env, operand)
            && let Some(v) = s.get(&id)
        {
            // The 0-based row in the file is the 1-based line in the
            // snippet, whose first line is the one after `package p`.
            self.writes.insert(target.start_position().row, *v);
        }
    }

    fn assigns(&self, env: &Env<'a>, target: Node<'a>) -> bool {
        self.key(env, target).is_some()
    }
}

/// Runs the test domain over the first function of `body_src` (a file
/// body after `package p`); `None` when the interpreter gave up.
fn run(body_src: &str) -> Option<BTreeMap<usize, Val>> {
    run_domain(body_src).map(|d| d.writes)
}

fn run_domain(body_src: &str) -> Option<Zeroes> {
    let src = format!("package p\n{body_src}");
    let file = GoFile::parse(
        PathBuf::from("p.go"),
        "p.go".into(),
        Arc::from(src.as_bytes()),
    )
    .expect("parses");
    let package = Package::build(&[&file]);
    let root = file.tree.root_node();
    let mut c = root.walk();
    let func = root
        .named_children(&mut c)
        .find(|n| n.kind() == "function_declaration")
        .expect("a function");
    let body = func.child_by_field_name("body").expect("a body");
    let env = Env::new(&file.source, root, &package);
    let mut interp = Interpreter::new(env, Zeroes::default());
    let ok = interp.run(func, body, St::new());
    ok.then_some(interp.domain)
}

fn writes(pairs: &[(usize, Val)]) -> Option<BTreeMap<usize, Val>> {
    Some(pairs.iter().copied().collect())
}

#[test]
fn if_else_joins_both_branches() {
    let got = run("
func f(a bool) {
	var x *T
	if a {
		x = &T{}
	}
	x[0] = 1
	if a {
		x = nil
	} else {
		x = g()
	}
	x[1] = 1
}
");
    assert_eq!(got, writes(&[(7, Val::Either), (13, Val::Either)]));
}

#[test]
fn a_return_or_panic_ends_the_path() {
    let got = run("
func f(a, b bool) {
	var x *T
	if a {
		return
	}
	x[0] = 1
	if b {
		x = g()
	} else {
		panic(\"no\")
	}
	x[1] = 1
}
");
    assert_eq!(got, writes(&[(7, Val::Zero), (13, Val::Set)]));
}

#[test]
fn conditions_refine_and_negations_swap() {
    let got = run("
func f(x *T, a bool) {
	var y *T
	if y == nil {
		y = g()
	}
	y[0] = 1
	var z *T
	if !(z != nil) || a {
		return
	}
	z[1] = 1
	var w *T
	if w != nil && a {
		w[2] = 1
	}
}
");
    assert_eq!(
        got,
        writes(&[(7, Val::Set), (12, Val::Set), (15, Val::Set)])
    );
}

#[test]
fn switch_with_and_without_default_and_fallthrough() {
    let got = run("
func f(n int) {
	var x *T
	switch n {
	case 1:
		x = g()
	default:
		x = g()
	}
	x[0] = 1
	var y *T
	switch n {
	case 1:
		y = g()
	}
	y[1] = 1
	var z *T
	switch {
	case n > 0:
		z = g()
		fallthrough
	case n > 1:
		z[2] = 1
	default:
		return
	}
}
");
    assert_eq!(
        got,
        writes(&[(10, Val::Set), (16, Val::Either), (23, Val::Either)])
    );
}

#[test]
fn loops_reach_a_fixpoint_and_report_on_the_final_pass() {
    let got = run("
func f(items []int) {
	var x *T
	for _, it := range items {
		x[it] = 1
		x = g()
	}
	var y *T
	for {
		if y != nil {
			break
		}
		y = g()
	}
	y[0] = 1
}
");
    // The write in the loop sees `Zero` on the first trip and `Set` after:
    // one report, with the joined state.
    assert_eq!(got, writes(&[(5, Val::Either), (15, Val::Set)]));
}

#[test]
fn labelled_break_and_continue_reach_their_loops() {
    let got = run("
func f(rows [][]int) {
	var x *T
outer:
	for _, r := range rows {
		for _, c := range r {
			if c == 0 {
				continue outer
			}
			if c < 0 {
				x = g()
				break outer
			}
		}
	}
	x[0] = 1
}
");
    assert_eq!(got, writes(&[(16, Val::Either)]));
}

#[test]
fn select_cases_and_receives() {
    let got = run("
func f(ch chan *T) {
	var x *T
	select {
	case x = <-ch:
	case <-ch:
		x = g()
	}
	x[0] = 1
}
");
    // A receive with `=` is an assignment the domain cannot pair.
    assert_eq!(got, writes(&[(9, Val::Lost)]));
}

#[test]
fn never_returning_helpers_end_the_path() {
    let got = run("
func f(a, b, c bool) {
	fail := func() { panic(\"x\") }
	var x *T
	if a {
		fail()
	}
	if b {
		die()
	}
	if c {
		os.Exit(1)
	}
	x[0] = 1
}

func die() {
	log.Fatalf(\"x\")
}
");
    assert_eq!(got, writes(&[(14, Val::Zero)]));
}

#[test]
fn named_results_are_entered_by_the_domain() {
    let got = run("
func f() (x *T, n int) {
	x[0] = 1
	return
}
");
    assert_eq!(got, writes(&[(3, Val::Zero)]));
}

#[test]
fn closures_go_and_defer_are_uses_where_they_stand() {
    let d = run_domain(
        "
func f() {
	var x *T
	defer func() { use(&x) }()
	x[0] = 1
}
",
    )
    .expect("completes");
    assert_eq!(d.writes, [(5, Val::Lost)].into_iter().collect());
    assert!(d.identifiers_seen >= 2);
}

#[test]
fn shadowing_in_inner_scopes() {
    let got = run("
func f(a bool) {
	var x *T
	if a {
		var x *T = g()
		x[0] = 1
	}
	x[1] = 1
}
");
    assert_eq!(got, writes(&[(6, Val::Set), (8, Val::Zero)]));
}

#[test]
fn goto_and_stray_breaks_give_up() {
    assert_eq!(
        run("
func f() {
	var x *T
	goto end
end:
	x[0] = 1
}
"),
        None
    );
}

/// Nesting deeper than `MAX_DEPTH` gives up instead of overflowing the
/// stack (run on a small thread stack to prove it).
#[test]
fn deep_nesting_gives_up_within_a_small_stack() {
    let depth = MAX_DEPTH * 3;
    let mut src = String::from("\nfunc f(a bool) {\n\tvar x *T\n");
    for _ in 0..depth {
        src.push_str("if a {\n");
    }
    src.push_str("x[0] = 1\n");
    for _ in 0..depth {
        src.push_str("}\n");
    }
    src.push_str("}\n");
    let shallow = src.replace(&"if a {\n".repeat(depth), &"if a {\n".repeat(20));
    let shallow = shallow.replace(&"}\n".repeat(depth + 1), &"}\n".repeat(21));
    let handle = std::thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(move || (run(&src), run(&shallow)))
        .expect("spawn");
    let (deep, shallow) = handle.join().expect("no stack overflow");
    assert_eq!(deep, None);
    assert_eq!(shallow, writes(&[(24, Val::Zero)]));
}
