use crate::{Context, Findings, GoRule, RuleMeta, declare_rule, unparen};
use redline_go::Node;

declare_rule! {
    /// ## What it does
    /// Finds calls of `os.Setenv`, `os.Unsetenv`, `os.Clearenv`,
    /// `syscall.Setenv`, `syscall.Unsetenv` and `syscall.Clearenv`, and
    /// those functions used as values (`set := os.Setenv`).
    ///
    /// Not reported: a call in a statement that stands directly in the body
    /// of `func main()` or of an `init()` function (also `_ = os.Setenv(…)`,
    /// `defer os.Unsetenv(…)` and `if err := os.Setenv(…); err != nil {…}`),
    /// before that body's first `go` statement: no other goroutine exists
    /// yet. A call in a closure, a loop or another branch there is
    /// reported.
    ///
    /// ## Why is this bad?
    /// The process environment is shared by every goroutine and by C code.
    /// Changing it while the service runs races with its readers
    /// (`os.Getenv` in libraries, cgo's `getenv`): per-request values
    /// written there overwrite each other, and configuration is hidden
    /// from the deployment that is supposed to own it.
    ///
    /// ## Example
    /// ```go
    /// func handle(w http.ResponseWriter, r *http.Request) {
    ///     os.Setenv("AWS_ACCESS_KEY_ID", r.Header.Get("X-Key"))
    /// }
    /// ```
    ///
    /// ## Use instead
    /// Pass the value explicitly (a config struct, an SDK option, the
    /// `Env` field of `exec.Cmd`), set the variable in the container spec,
    /// or set it at the top of `main` before any goroutine starts. In tests
    /// use `t.Setenv`.
    ///
    /// ## Fix
    /// None: where the value should come from is a design decision.
    pub struct OsSetenv {
        id: "RL301",
        name: "os-setenv",
        severity: Error,
        fix: None,
        kind: Go,
        finds: "the process environment is changed while goroutines may read it",
    }
}

const CALLEES: &[(&str, &str)] = &[
    ("os", "Setenv"),
    ("os", "Unsetenv"),
    ("os", "Clearenv"),
    ("syscall", "Setenv"),
    ("syscall", "Unsetenv"),
    ("syscall", "Clearenv"),
];

impl GoRule for OsSetenv {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        if !(cx.file.imports_path("os") || cx.file.imports_path("syscall")) {
            return;
        }
        let src: &[u8] = &cx.file.source;
        let mentions = |w: &[u8]| src.windows(w.len()).any(|x| x == w);
        if !(mentions(b"Setenv") || mentions(b"Unsetenv") || mentions(b"Clearenv")) {
            return;
        }
        let root = cx.file.tree.root_node();
        // (node, the call it is the callee of)
        let mut stack: Vec<(Node<'_>, Option<Node<'_>>)> = vec![(root, None)];
        while let Some((node, call)) = stack.pop() {
            match node.kind() {
                // A bare (dot-imported) name only as a callee: elsewhere an
                // identifier may be a declaration (a parameter named Setenv).
                kind @ ("selector_expression" | "identifier")
                    if kind == "selector_expression" || call.is_some() =>
                {
                    if let Some((pkg, name)) = resolve(cx, node) {
                        match call {
                            Some(call) if exempt(cx, call) => {}
                            Some(call) => {
                                out.report(call, format!(
                                        "`{pkg}.{name}` changes the process environment while other goroutines may read it (`os.Getenv`, cgo's `getenv`): the values race and per-request values overwrite each other"
                                    )).help(
                                    "pass the value explicitly (a config struct, an SDK option, `exec.Cmd.Env`), set it in the container spec, or set it at the top of `main`/`init` before the first `go` statement; in tests use `t.Setenv`",
                                );
                            }
                            None => {
                                out.report(node, format!(
                                        "`{pkg}.{name}` used as a value: whoever calls it changes the process environment at run time, racing with the goroutines that read it"
                                    )).help(
                                    "pass configuration explicitly (a config struct, `exec.Cmd.Env`) instead of a function that writes the environment; in tests use `t.Setenv`",
                                );
                            }
                        }
                        continue;
                    }
                }
                "call_expression" => {
                    let func = node.child_by_field_name("function");
                    let mut cursor = node.walk();
                    for child in node.named_children(&mut cursor) {
                        if func.is_some_and(|f| f.id() == child.id()) {
                            stack.push((unparen(child), Some(node)));
                        } else {
                            stack.push((child, None));
                        }
                    }
                    continue;
                }
                _ => {}
            }
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                stack.push((child, None));
            }
        }
    }
}

/// `os.Setenv` (or a dot-imported `Setenv`) at `node`.
fn resolve(cx: &Context<'_>, node: Node<'_>) -> Option<(&'static str, &'static str)> {
    CALLEES
        .iter()
        .find(|(pkg, name)| cx.index.refers_to(node, pkg, name))
        .copied()
}

/// Whether `call` stands directly in the body of `func main()` (package
/// main) or an `init()` function, before the body's first `go` statement:
/// as an expression statement, the right side of `_ =`/`:=`/`=`, a `defer`,
/// or the initializer or condition of an `if`.
fn exempt(cx: &Context<'_>, call: Node<'_>) -> bool {
    let root = cx.file.tree.root_node();
    let chain = redline_go::ancestors(root, call);
    let Some(fi) = chain
        .iter()
        .position(|n| n.kind() == "function_declaration")
    else {
        return false;
    };
    let func = chain[fi];
    if chain[fi + 1..]
        .iter()
        .any(|n| n.kind() == "function_declaration")
    {
        return false;
    }
    let name = func
        .child_by_field_name("name")
        .map(|n| cx.text(n))
        .unwrap_or("");
    let no_params = func
        .child_by_field_name("parameters")
        .is_some_and(|p| p.named_child_count() == 0);
    let is_entry = no_params
        && func.child_by_field_name("type_parameters").is_none()
        && (name == "init" || (name == "main" && cx.file.package_name == "main"));
    if !is_entry {
        return false;
    }
    let Some(body) = func.child_by_field_name("body") else {
        return false;
    };
    // function_declaration > block > statement_list? > statement > … > call
    let mut rest = &chain[fi + 1..];
    if rest.first().map(|n| n.id()) != Some(body.id()) {
        return false;
    }
    rest = &rest[1..];
    if rest.first().is_some_and(|n| n.kind() == "statement_list") {
        rest = &rest[1..];
    }
    let Some(stmt) = rest.first().copied() else {
        return false;
    };
    let inner = &rest[1..];
    let direct = match stmt.kind() {
        "expression_statement" | "defer_statement" => {
            stmt.named_child(0).map(unparen).map(|n| n.id()) == Some(call.id())
        }
        "assignment_statement" | "short_var_declaration" => {
            stmt.child_by_field_name("right").is_some_and(|r| {
                r.named_child_count() == 1
                    && r.named_child(0).map(unparen).map(|n| n.id()) == Some(call.id())
            })
        }
        "if_statement" => {
            let init = stmt.child_by_field_name("initializer");
            let cond = stmt.child_by_field_name("condition");
            let next = inner.first().copied().unwrap_or(call);
            let in_header = [init, cond]
                .into_iter()
                .flatten()
                .any(|h| h.id() == next.id());
            in_header
                && !inner
                    .iter()
                    .any(|n| matches!(n.kind(), "func_literal" | "block" | "if_statement"))
        }
        _ => false,
    };
    if !direct {
        return false;
    }
    // Before the body's first `go` statement (any goroutine started
    // earlier may read the environment).
    let first_go = cx
        .index
        .go_statements
        .iter()
        .filter(|g| g.start_byte() >= body.start_byte() && g.end_byte() <= body.end_byte())
        .map(|g| g.start_byte())
        .min();
    first_go.is_none_or(|g| stmt.start_byte() < g)
}
