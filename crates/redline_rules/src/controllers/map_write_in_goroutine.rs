use crate::{Context, Findings, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_go::{DeclarationCache, Node, local_declaration_along, unparen_type};
use std::collections::HashMap;

declare_rule! {
    /// ## What it does
    /// Inside a function literal that runs concurrently — the literal of a
    /// `go` statement, or one passed to the `Go` method of
    /// `errgroup.Group`, `sync.WaitGroup` (Go 1.25) or a
    /// `github.com/sourcegraph/conc` group or pool — finds writes
    /// (`m[k] = v`, `m[k] += v`, `m[k]++`) to a map variable captured from
    /// the enclosing function (a local or parameter declared there, not
    /// inside the literal) with no `Lock()` call before the write in the
    /// literal, **when another access to the map can run at the same
    /// time**:
    ///
    /// - the goroutine is started in a loop (and the map is not declared
    ///   inside that loop, and the loop does not wait for it before the
    ///   next start);
    /// - another concurrently running literal of the same function reads
    ///   or writes the map;
    /// - the enclosing function reads, writes or returns the map after
    ///   starting the goroutine without waiting for it first (a `Wait()`
    ///   call, or a receive from a channel, between the start and the
    ///   access).
    ///
    /// Only variables whose declaration shows a map (a map type, or
    /// `make`/a literal of one) are considered, so slices are never
    /// reported. A single writer whose parent reads the map only after
    /// `wg.Wait()` or `<-done` is correct Go and is not reported. Each
    /// write is reported once.
    ///
    /// ## Why is this bad?
    /// Go maps are not safe for concurrent use. When two goroutines write
    /// a map, or one writes while another reads it, the runtime kills the
    /// whole process with `fatal error: concurrent map writes` (or
    /// `concurrent map read and map write`): not a panic that `recover`
    /// can stop, and it happens under load, not in tests.
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
    /// wg.Wait()
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
    /// wg.Wait()
    /// ```
    ///
    /// ## Fix
    /// None automatic: guard the map with a mutex, send results over a
    /// channel and write them in one goroutine, or wait for the goroutine
    /// before the parent touches the map.
    pub struct MapWriteInGoroutine {
        id: "RL203",
        name: "map-write-in-goroutine",
        severity: Warning,
        fix: None,
        kind: Go,
        finds: "a goroutine writes a captured map while another access can run at the same time",
    }
}

const ERRGROUP: &str = "golang.org/x/sync/errgroup";
const CONC: &str = "github.com/sourcegraph/conc";

/// A byte range `[start, end)`.
type Range = (usize, usize);

fn contains(outer: Range, inner: Range) -> bool {
    outer.0 <= inner.0 && inner.1 <= outer.1
}

/// A concurrent start: the literal that runs, and where it is started.
struct Start {
    lit: Range,
    /// End of the `go` statement or of the `Go(...)` call.
    end: usize,
    /// The function whose body holds the start.
    function: Range,
    /// Loops (their whole range) between the function and the start.
    loops: Vec<Range>,
}

/// A candidate write in a concurrent literal.
struct Write<'a> {
    node: Node<'a>,
    name: &'a str,
    decl: Node<'a>,
    /// Index into the starts.
    start: usize,
}

/// An event whose position matters: a wait, or an access to a map.
struct Event {
    pos: usize,
    /// The innermost concurrent literal holding it.
    lit: Option<Range>,
}

impl GoRule for MapWriteInGoroutine {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        let go_methods = cx
            .file
            .imports
            .iter()
            .any(|i| i.path == "sync" || i.path == ERRGROUP || i.path.starts_with(CONC));
        let any_go_call = go_methods
            && cx.index.calls.iter().any(|&c| {
                c.child_by_field_name("function")
                    .and_then(|f| f.child_by_field_name("field"))
                    .is_some_and(|f| cx.text(f) == "Go")
            });
        if cx.index.go_statements.is_empty() && !any_go_call {
            return;
        }
        let mut walk = Walk {
            cx,
            go_methods,
            cache: DeclarationCache::default(),
            starts: Vec::new(),
            writes: Vec::new(),
            waits: Vec::new(),
        };
        walk.collect();
        if walk.writes.is_empty() {
            return;
        }
        let Walk {
            mut cache,
            starts,
            writes,
            waits,
            ..
        } = walk;
        // Keep writes to maps captured from outside their literal.
        let mut is_map: HashMap<usize, bool> = HashMap::new();
        let writes: Vec<Write<'_>> = writes
            .into_iter()
            .filter(|w| {
                let lit = starts[w.start].lit;
                !contains(lit, (w.decl.start_byte(), w.decl.end_byte()))
                    && *is_map
                        .entry(w.decl.id())
                        .or_insert_with(|| declares_map(cx, w.decl))
            })
            .collect();
        if writes.is_empty() {
            return;
        }
        let accesses = collect_accesses(cx, &writes, &starts, &mut cache);
        let mut parent_level: HashMap<(usize, Range), Vec<usize>> = HashMap::new();
        let mut waits_of: HashMap<Range, Vec<usize>> = HashMap::new();
        let mut lits_of: HashMap<(usize, Range), Vec<Range>> = HashMap::new();
        for w in &writes {
            let start = &starts[w.start];
            let f = start.function;
            let waits = waits_of.entry(f).or_insert_with(|| {
                waits
                    .iter()
                    .filter(|e| contains(f, (e.pos, e.pos)) && at_parent_level(e, f))
                    .map(|e| e.pos)
                    .collect()
            });
            let next_wait = waits
                .get(waits.partition_point(|&p| p <= start.end))
                .copied()
                .unwrap_or(usize::MAX);
            let decl_at = w.decl.start_byte();
            let empty = Vec::new();
            let events = accesses.get(&w.decl.id()).unwrap_or(&empty);
            // Started in a loop that does not declare the map and does not
            // wait before the next start.
            let in_loop = start
                .loops
                .iter()
                .find(|l| !contains(**l, (decl_at, decl_at)) && next_wait >= l.1)
                .is_some();
            // Another concurrent literal of the same function touches it.
            let mut sibling = || {
                let lits = lits_of.entry((w.decl.id(), f)).or_insert_with(|| {
                    let mut lits: Vec<Range> = events
                        .iter()
                        .filter_map(|e| e.lit)
                        .filter(|&l| l != f && contains(f, l))
                        .collect();
                    lits.sort_unstable();
                    lits.dedup();
                    // Two are enough to tell.
                    lits.truncate(2);
                    lits
                });
                lits.iter().any(|&l| l != start.lit)
            };
            // The parent touches it after the start, before any wait.
            let mut parent = || {
                let refs = parent_level.entry((w.decl.id(), f)).or_insert_with(|| {
                    events
                        .iter()
                        .filter(|e| contains(f, (e.pos, e.pos)) && at_parent_level(e, f))
                        .map(|e| e.pos)
                        .collect()
                });
                refs.get(refs.partition_point(|&p| p <= start.end))
                    .is_some_and(|&p| p < next_wait)
            };
            let why = if in_loop {
                "it is started in a loop, so several copies write the map at once"
            } else if sibling() {
                "another goroutine of this function uses the map at the same time"
            } else if parent() {
                "the enclosing function uses the map after starting it, without waiting for it first"
            } else {
                continue;
            };
            let name = w.name;
            out.report(w.node, format!(
                        "goroutine writes map `{name}` of the enclosing function without a lock while {why}; concurrent map access kills the process (`fatal error: concurrent map writes`)"
                    )).help(format!(
                    "lock a `sync.Mutex` around the write (and around the other accesses of `{name}`), or send results over a channel and write `{name}` in one goroutine"
                ));
        }
    }
}

/// Whether an event inside function `f` runs in `f` itself rather than in
/// a concurrent literal started inside `f`.
fn at_parent_level(e: &Event, f: Range) -> bool {
    e.lit.is_none_or(|l| contains(l, f))
}

struct Walk<'c, 'a> {
    cx: &'c Context<'a>,
    go_methods: bool,
    cache: DeclarationCache<'a>,
    starts: Vec<Start>,
    writes: Vec<Write<'a>>,
    waits: Vec<Event>,
}

/// One entry of the walk's stack of concurrent literals.
struct Open {
    lit: Range,
    start: usize,
    locked: bool,
}

impl<'a> Walk<'_, 'a> {
    /// One walk over the file, top-down with the ancestors at hand (no
    /// climb from the root per node: linear in the file).
    fn collect(&mut self) {
        let cx = self.cx;
        let root = cx.file.tree.root_node();
        let mut cursor = root.walk();
        let mut path: Vec<Node<'a>> = Vec::new();
        let mut open: Vec<Open> = Vec::new();
        let mut functions: Vec<Range> = Vec::new();
        loop {
            let node = cursor.node();
            let range = (node.start_byte(), node.end_byte());
            match node.kind() {
                "func_literal" => {
                    if let Some(start_node) = self.start_of(node, &path) {
                        let function = functions.last().copied().unwrap_or((0, usize::MAX));
                        let loops = path
                            .iter()
                            .filter(|p| p.kind() == "for_statement")
                            .map(|p| (p.start_byte(), p.end_byte()))
                            .filter(|l| contains(function, *l))
                            .collect();
                        self.starts.push(Start {
                            lit: range,
                            end: start_node.end_byte(),
                            function,
                            loops,
                        });
                        open.push(Open {
                            lit: range,
                            start: self.starts.len() - 1,
                            locked: false,
                        });
                    }
                    functions.push(range);
                }
                "function_declaration" | "method_declaration" => functions.push(range),
                "call_expression" => {
                    if let Some(method) = no_arg_method(cx, node) {
                        match method {
                            "Lock" => {
                                if let Some(o) = open.last_mut() {
                                    o.locked = true;
                                }
                            }
                            "Wait" => self.waits.push(Event {
                                pos: node.start_byte(),
                                lit: open.last().map(|o| o.lit),
                            }),
                            _ => {}
                        }
                    }
                }
                "unary_expression"
                    if node
                        .child_by_field_name("operator")
                        .is_some_and(|o| cx.text(o) == "<-") =>
                {
                    self.waits.push(Event {
                        pos: node.start_byte(),
                        lit: open.last().map(|o| o.lit),
                    });
                }
                "assignment_statement" | "inc_statement" | "dec_statement" => {
                    if let Some(o) = open.last()
                        && !o.locked
                    {
                        let start = o.start;
                        for target in written_indexes(node) {
                            self.candidate(target, node, &path, start);
                        }
                    }
                }
                _ => {}
            }
            if cursor.goto_first_child() {
                path.push(node);
                continue;
            }
            loop {
                // Leaving `cursor.node()`.
                let left = cursor.node();
                let r = (left.start_byte(), left.end_byte());
                if functions.last() == Some(&r)
                    && matches!(
                        left.kind(),
                        "func_literal" | "function_declaration" | "method_declaration"
                    )
                {
                    functions.pop();
                }
                if left.kind() == "func_literal" && open.last().is_some_and(|o| o.lit == r) {
                    open.pop();
                }
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
                path.pop();
            }
        }
    }

    /// For a concurrent literal, the `go` statement or `Go(...)` call that
    /// starts it.
    fn start_of(&self, lit: Node<'a>, path: &[Node<'a>]) -> Option<Node<'a>> {
        let mut up = path.iter().rev().copied();
        let mut parent = up.next()?;
        while parent.kind() == "parenthesized_expression" {
            parent = up.next()?;
        }
        match parent.kind() {
            "call_expression" => {
                // `go func() {...}()`
                let callee = parent.child_by_field_name("function").map(unparen)?;
                if callee.id() != lit.id() {
                    return None;
                }
                let go = up.find(|n| n.kind() != "parenthesized_expression")?;
                (go.kind() == "go_statement").then_some(go)
            }
            "argument_list" => {
                // `g.Go(func() error {...})`
                if !self.go_methods || args(parent).len() != 1 {
                    return None;
                }
                let call = up.next()?;
                let f = call.child_by_field_name("function").map(unparen)?;
                let is_go = f.kind() == "selector_expression"
                    && f.child_by_field_name("field")
                        .is_some_and(|x| self.cx.text(x) == "Go")
                    && self.cx.index.resolve(f).is_none();
                is_go.then_some(call)
            }
            _ => None,
        }
    }

    fn candidate(&mut self, target: Node<'a>, stmt: Node<'a>, path: &[Node<'a>], start: usize) {
        let cx = self.cx;
        let Some(operand) = target.child_by_field_name("operand").map(unparen) else {
            return;
        };
        if operand.kind() != "identifier" {
            return;
        }
        let name = cx.text(operand);
        let Some(decl) =
            local_declaration_along(name, stmt, path, &cx.file.source, &mut self.cache)
        else {
            return;
        };
        self.writes.push(Write {
            node: target,
            name,
            decl,
            start,
        });
    }
}

/// `X.M()` with no arguments, where `X` is not an imported package: `M`.
fn no_arg_method<'a>(cx: &Context<'a>, call: Node<'_>) -> Option<&'a str> {
    let f = call.child_by_field_name("function").map(unparen)?;
    if f.kind() != "selector_expression" {
        return None;
    }
    if !call
        .child_by_field_name("arguments")
        .is_some_and(|a| args(a).is_empty())
    {
        return None;
    }
    let m = cx.text(f.child_by_field_name("field")?);
    matches!(m, "Lock" | "Wait").then_some(m)
}

/// The index expressions an assignment or inc/dec statement writes.
fn written_indexes(stmt: Node<'_>) -> Vec<Node<'_>> {
    match stmt.kind() {
        "assignment_statement" => stmt
            .child_by_field_name("left")
            .map(|l| {
                args(l)
                    .into_iter()
                    .map(unparen)
                    .filter(|t| t.kind() == "index_expression")
                    .collect()
            })
            .unwrap_or_default(),
        _ => stmt
            .named_child(0)
            .map(unparen)
            .filter(|t| t.kind() == "index_expression")
            .into_iter()
            .collect(),
    }
}

/// Every use of the written maps in the functions that start the
/// goroutines (one more walk, with the same cache), by declaration.
fn collect_accesses<'a>(
    cx: &Context<'a>,
    writes: &[Write<'a>],
    starts: &[Start],
    cache: &mut DeclarationCache<'a>,
) -> HashMap<usize, Vec<Event>> {
    let mut out: HashMap<usize, Vec<Event>> = HashMap::new();
    let names: std::collections::HashSet<&str> = writes.iter().map(|w| w.name).collect();
    let decls: std::collections::HashSet<usize> = writes.iter().map(|w| w.decl.id()).collect();
    let mut lits: Vec<Range> = starts.iter().map(|s| s.lit).collect();
    lits.sort_unstable();
    let root = cx.file.tree.root_node();
    let mut cursor = root.walk();
    let mut path: Vec<Node<'a>> = Vec::new();
    // The concurrent literals the walk is inside.
    let mut open: Vec<Range> = Vec::new();
    loop {
        let node = cursor.node();
        let range = (node.start_byte(), node.end_byte());
        if node.kind() == "func_literal" && lits.binary_search(&range).is_ok() {
            open.push(range);
        }
        if node.kind() == "identifier"
            && names.contains(cx.text(node))
            && let Some(decl) =
                local_declaration_along(cx.text(node), node, &path, &cx.file.source, cache)
            && decls.contains(&decl.id())
            && decl.id() != node.id()
        {
            out.entry(decl.id()).or_default().push(Event {
                pos: node.start_byte(),
                lit: open.last().copied(),
            });
        }
        if cursor.goto_first_child() {
            path.push(node);
            continue;
        }
        loop {
            let left = cursor.node();
            if left.kind() == "func_literal"
                && open.last() == Some(&(left.start_byte(), left.end_byte()))
            {
                open.pop();
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return out;
            }
            path.pop();
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;
    use redline_diagnostics::Diagnostic;
    use redline_go::{GoFile, Package};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    fn check(src: &str) -> Vec<Diagnostic> {
        let file =
            GoFile::parse("p.go".into(), "p.go".into(), Arc::from(src.as_bytes())).expect("parses");
        let package = Package::build(&[&file]);
        let index = file.index();
        let settings = Settings::default();
        let cx = Context {
            file: &file,
            index: &index,
            package: &package,
            settings: &settings,
        };
        let mut out = Vec::new();
        MapWriteInGoroutine.run(&cx, &mut out);
        out
    }

    /// Issue 12: 10,000 goroutines in one function took 29 s (every
    /// write resolved its map by scanning the function's statements from
    /// the top). Every write here races with the other goroutines.
    #[test]
    fn ten_thousand_goroutines_in_one_function_stay_linear() {
        let mut src = String::from("package p\n\nfunc f() {\n\tm := map[int]int{}\n");
        for i in 0..10_000 {
            src.push_str(&format!("\tgo func() {{ m[{i}] = {i} }}()\n"));
        }
        src.push_str("}\n");
        let t = Instant::now();
        let out = check(&src);
        let took = t.elapsed();
        assert_eq!(out.len(), 10_000);
        assert!(
            took < Duration::from_secs(10),
            "10,000 goroutines took {took:?}"
        );
    }

    #[test]
    fn a_waited_single_writer_is_not_reported_but_an_early_read_is() {
        let waited = "package p\n\nimport \"sync\"\n\nfunc f() map[int]int {\n\tm := map[int]int{}\n\tvar wg sync.WaitGroup\n\twg.Add(1)\n\tgo func() { defer wg.Done(); m[1] = 1 }()\n\twg.Wait()\n\treturn m\n}\n";
        assert!(check(waited).is_empty());
        let early = waited.replace(
            "\twg.Wait()\n\treturn m",
            "\tn := len(m)\n\twg.Wait()\n\t_ = n\n\treturn m",
        );
        let out = check(&early);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.contains("without waiting"),
            "{}",
            out[0].message
        );
    }
}
