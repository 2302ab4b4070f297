//! Calls after which a path does not continue: `panic(...)`, `os.Exit`,
//! `log.Fatal*`, `t.Fatal*`/`t.FailNow`/`t.Skip*`, `runtime.Goexit`,
//! `log.Panic*`, and calls of local closures or top-level functions of the
//! file whose last statement is such a call.
//!
//! Selector calls are recognised by the method or function name alone
//! (`x.Exit(...)`, `x.Fatalf(...)`): the receiver's type is not known.

use super::{Env, unparen};
use crate::Node;
use std::collections::{HashMap, HashSet};

/// What is known about helpers that never return, for one function body.
#[derive(Default)]
pub struct NeverReturns<'a> {
    /// Locals bound to closures that never return (`bad := func() {
    /// t.Fatalf(...) }`), by the byte offset of the declaring identifier.
    closures: HashSet<usize>,
    /// Top-level functions of the file, by name: whether they never return.
    functions: HashMap<&'a str, bool>,
}

impl<'a> NeverReturns<'a> {
    /// Records that the local declared at byte offset `id` is a closure
    /// that never returns.
    pub fn add_closure(&mut self, id: usize) {
        self.closures.insert(id);
    }

    /// Whether evaluating the expression `e` (of an expression statement)
    /// ends the path.
    pub fn is_terminating(&mut self, env: &Env<'a>, e: Node<'a>) -> bool {
        let e = unparen(e);
        if e.kind() != "call_expression" {
            return false;
        }
        let Some(f) = e.child_by_field_name("function").map(unparen) else {
            return false;
        };
        if f.kind() == "identifier" && !env.is_builtin(f, "panic") {
            let name = env.text(f);
            return match env.lookup(name) {
                Some(Some(id)) => self.closures.contains(&id),
                Some(None) => false,
                None => self.function_never_returns(env, name),
            };
        }
        Self::is_terminating_call(env, e)
    }

    /// A call that ends the path by itself (no look-up of local helpers).
    pub fn is_terminating_call(env: &Env<'_>, e: Node<'_>) -> bool {
        let e = unparen(e);
        if e.kind() != "call_expression" {
            return false;
        }
        let Some(f) = e.child_by_field_name("function").map(unparen) else {
            return false;
        };
        match f.kind() {
            "identifier" => env.is_builtin(f, "panic"),
            "selector_expression" => f.child_by_field_name("field").is_some_and(|n| {
                matches!(
                    env.text(n),
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
    pub fn body_never_returns(env: &Env<'_>, body: Node<'_>) -> bool {
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
                    .is_some_and(|e| Self::is_terminating_call(env, e))
        })
    }

    /// A function declared at the top of this file whose body never returns.
    fn function_never_returns(&mut self, env: &Env<'a>, name: &'a str) -> bool {
        if let Some(known) = self.functions.get(name) {
            return *known;
        }
        let root = env.root;
        let mut c = root.walk();
        let decl = root.named_children(&mut c).find(|d| {
            d.kind() == "function_declaration"
                && d.child_by_field_name("name")
                    .is_some_and(|n| env.text(n) == name)
        });
        let never = decl
            .and_then(|d| d.child_by_field_name("body"))
            .is_some_and(|b| Self::body_never_returns(env, b));
        self.functions.insert(name, never);
        never
    }
}
