use crate::{Context, Findings, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_go::{GoFile, Node, NodeIndex, Package};
use std::collections::{HashMap, HashSet};

declare_rule! {
    /// ## What it does
    /// Finds a `*rest.Config` obtained from `rest.InClusterConfig`,
    /// `clientcmd.BuildConfigFromFlags`, `clientcmd.RESTConfigFromKubeConfig`
    /// or a `ClientConfig()` call that reaches a client constructor without
    /// both its `QPS` and `Burst` fields (or its `RateLimiter`) being
    /// assigned on the way. Constructors: any package-level `NewForConfig`
    /// / `NewForConfigOrDie` (client-go's typed, dynamic, metadata and
    /// discovery clients and every generated clientset),
    /// `discovery.NewDiscoveryClientForConfig`, `rest.RESTClientFor`,
    /// `ctrl.NewManager` and `manager.New`.
    ///
    /// The config is followed through the package, one call deep:
    ///
    /// - a config obtained in one function and passed to a same-package
    ///   function that hands that parameter to a constructor is reported at
    ///   that constructor (a provider that loads the config in one place
    ///   and builds its clientsets in a helper);
    /// - a same-package function or method that returns a config after
    ///   assigning `QPS` and `Burst` (a project's own `ClientConfig()`
    ///   wrapper) yields a tuned config: its callers are not reported;
    /// - a same-package function that returns a config from a source
    ///   without assigning them is itself a source;
    /// - a same-package function that sets `QPS` and `Burst` on the config
    ///   it is given tunes the caller's config.
    ///
    /// `x.ClientConfig()` is clientcmd's `ClientConfig` interface unless
    /// `x` is visibly typed, or built by a call, from another package than
    /// client-go: then it is that project's own client factory, whose
    /// limits redline cannot see, and not a source.
    ///
    /// Calls two deep are not followed; a config handed to other code
    /// (another package's function, a struct, a copy) is no longer
    /// followed, since that code may set the limits. controller-runtime's
    /// `ctrl.GetConfig*` is not a source: before v0.21 it sets QPS 20 /
    /// Burst 30, since v0.21 QPS -1 (client-side limiting off).
    ///
    /// ## Why is this bad?
    /// client-go's defaults are QPS 5 and Burst 10 per config. The initial
    /// List of a large informer, and every reconcile's writes, queue behind
    /// that client-side limiter: after a restart the controller stalls for
    /// minutes ("Waited for ... due to client-side throttling") while the
    /// API server is idle.
    ///
    /// ## Example
    /// ```go
    /// cfg, err := rest.InClusterConfig()
    /// if err != nil {
    ///     return err
    /// }
    /// clientset, err := kubernetes.NewForConfig(cfg)
    /// ```
    ///
    /// ## Use instead
    /// ```go
    /// cfg, err := rest.InClusterConfig()
    /// if err != nil {
    ///     return err
    /// }
    /// cfg.QPS = 50
    /// cfg.Burst = 100
    /// clientset, err := kubernetes.NewForConfig(cfg)
    /// ```
    ///
    /// ## Fix
    /// None automatic: choose limits that fit the controller and the API
    /// server's priority-and-fairness settings (or set `QPS = -1` to leave
    /// throttling to the server), where the config is obtained.
    pub struct ClientRateLimitDefaults {
        id: "RL204",
        name: "client-rate-limit-defaults",
        severity: Warning,
        fix: None,
        kind: Go,
        finds: "a Kubernetes client is built with client-go's default QPS 5 / Burst 10",
    }
}

const REST: &str = "k8s.io/client-go/rest";
const CLIENTCMD: &str = "k8s.io/client-go/tools/clientcmd";

const SOURCES: &[(&str, &str)] = &[
    (REST, "InClusterConfig"),
    (CLIENTCMD, "BuildConfigFromFlags"),
    (CLIENTCMD, "RESTConfigFromKubeConfig"),
];

const CONSTRUCTORS: &[(&str, &str)] = &[
    ("k8s.io/client-go/discovery", "NewDiscoveryClientForConfig"),
    (
        "k8s.io/client-go/discovery",
        "NewDiscoveryClientForConfigOrDie",
    ),
    (REST, "RESTClientFor"),
    ("sigs.k8s.io/controller-runtime", "NewManager"),
    ("sigs.k8s.io/controller-runtime/pkg/manager", "New"),
];

/// Text that a file taking part in the analysis holds somewhere.
const NEEDLES: &[&str] = &[
    "InClusterConfig",
    "BuildConfigFromFlags",
    "RESTConfigFromKubeConfig",
    "ClientConfig",
    "ForConfig",
    "RESTClientFor",
    "NewManager",
    "manager.New",
];

impl GoRule for ClientRateLimitDefaults {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Findings<'_>) {
        let Some(me) = cx
            .package
            .files
            .iter()
            .position(|f| f.path == cx.file.path && f.display == cx.file.display)
        else {
            return;
        };
        let Some(facts) = cx.package.memo(PackageFindings::build) else {
            return;
        };
        for f in facts.list.iter().filter(|f| f.file == me) {
            out.report_span(cx.file.span_bytes(f.start, f.end), f.message.clone())
                .help(f.help.clone());
        }
    }
}

/// What a same-package function returns.
#[derive(Clone, Debug)]
enum Returns {
    /// A config from a source, untouched: (where it came from).
    Source(String),
    /// A config whose QPS and Burst were set.
    Tuned,
    Other,
}

/// What a same-package function does with a config parameter.
#[derive(Clone, Debug, Default)]
struct ParamUse {
    /// QPS and Burst are both assigned.
    tuned: bool,
    /// Handed to code that is not followed.
    unknown: bool,
    /// Constructor calls that receive it untuned: (start, end, callee, missing).
    constructors: Vec<(usize, usize, String, &'static str)>,
}

#[derive(Default)]
struct Summaries {
    /// By function name (`f(...)`).
    functions: HashMap<String, FunctionSummary>,
    /// By method name (`x.m(...)`), any receiver type.
    methods: HashMap<String, FunctionSummary>,
}

#[derive(Default, Clone)]
struct FunctionSummary {
    returns: Option<Returns>,
    params: Vec<Option<ParamUse>>,
}

/// The findings of the package, computed once.
struct PackageFindings {
    list: Vec<Finding>,
}

struct Finding {
    file: usize,
    start: usize,
    end: usize,
    message: String,
    help: String,
}

/// A config variable being followed in one function.
struct Tracked<'a> {
    decl: Node<'a>,
    name: String,
    /// Where it came from, for messages (`rest.InClusterConfig()` at
    /// `main.go:12`); empty for a parameter.
    origin: String,
    qps: Vec<usize>,
    burst: Vec<usize>,
    /// RateLimiter set, or handed to code that is not followed.
    settled: Vec<usize>,
    /// Constructor calls that receive it: (call, callee text).
    constructors: Vec<(Node<'a>, String)>,
    /// Passed to a same-package function: (pos, summary key, arg index).
    passes: Vec<(usize, String, bool, usize)>,
    /// `return` statements that return it.
    returns: Vec<usize>,
}

impl Tracked<'_> {
    fn tuned_before(&self, at: usize) -> bool {
        self.qps.iter().any(|&p| p < at) && self.burst.iter().any(|&p| p < at)
    }
    fn settled_before(&self, at: usize) -> bool {
        self.settled.iter().any(|&p| p < at)
    }
    fn missing_before(&self, at: usize) -> &'static str {
        match (
            self.qps.iter().any(|&p| p < at),
            self.burst.iter().any(|&p| p < at),
        ) {
            (false, false) => "neither `QPS` nor `Burst` is set",
            (true, false) => "`Burst` is not set",
            (false, true) => "`QPS` is not set",
            (true, true) => "",
        }
    }
}

/// One file of the package, with its index.
struct Unit<'a> {
    file: &'a GoFile,
    index: NodeIndex<'a>,
    fi: usize,
}

impl PackageFindings {
    fn build(pkg: &Package) -> PackageFindings {
        let mut list = Vec::new();
        let relevant = |f: &GoFile, extra: &HashSet<String>| {
            let text = String::from_utf8_lossy(&f.source);
            NEEDLES.iter().any(|n| text.contains(n))
                || extra.iter().any(|n| text.contains(n.as_str()))
        };
        let mut units: Vec<Unit<'_>> = pkg
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| relevant(f, &HashSet::new()))
            .map(|(fi, f)| Unit {
                file: f,
                index: f.index(),
                fi,
            })
            .collect();
        if units.is_empty() {
            return PackageFindings { list };
        }
        // Phase 1: what each function returns and does with its config
        // parameters, seeing only the base sources.
        let empty = Summaries::default();
        let mut summaries = Summaries::default();
        for u in &units {
            for (func, is_method, name) in top_functions(u) {
                let summary = summarize(u, func, &empty);
                let map = if is_method {
                    &mut summaries.methods
                } else {
                    &mut summaries.functions
                };
                let entry = map.entry(name.to_string()).or_default();
                merge(entry, summary);
            }
        }
        // Files that only call the package's sources and helpers.
        let extra: HashSet<String> = summaries
            .functions
            .iter()
            .chain(summaries.methods.iter())
            .filter(|(_, s)| {
                matches!(s.returns, Some(Returns::Source(_)))
                    || s.params
                        .iter()
                        .flatten()
                        .any(|p| !p.constructors.is_empty() || p.tuned)
            })
            .map(|(n, _)| n.clone())
            .collect();
        let have: HashSet<usize> = units.iter().map(|u| u.fi).collect();
        for (fi, f) in pkg.files.iter().enumerate() {
            if !have.contains(&fi) && !extra.is_empty() && relevant(f, &extra) {
                units.push(Unit {
                    file: f,
                    index: f.index(),
                    fi,
                });
            }
        }
        // Phase 2: follow configs from sources (base and same-package).
        // (callee key, is method, arg) -> first untuned origin.
        let mut passed: HashMap<(String, bool, usize), String> = HashMap::new();
        for u in &units {
            for func in all_functions(u) {
                let mut tracked = sources_in(u, func, &summaries);
                if tracked.is_empty() {
                    continue;
                }
                follow(u, func, &mut tracked, &summaries);
                for t in &tracked {
                    for (call, callee) in &t.constructors {
                        let at = call.start_byte();
                        if t.settled_before(at) || t.tuned_before(at) {
                            continue;
                        }
                        list.push(finding(
                            u.fi,
                            *call,
                            callee,
                            &t.name,
                            &t.origin,
                            t.missing_before(at),
                        ));
                    }
                    for (at, key, is_method, arg) in &t.passes {
                        if t.settled_before(*at) || t.tuned_before(*at) {
                            continue;
                        }
                        let line = u.file.lines.span(*at, *at).line;
                        passed
                            .entry((key.clone(), *is_method, *arg))
                            .or_insert_with(|| {
                                format!("{}, passed in from {}:{line}", t.origin, u.file.display)
                            });
                    }
                }
            }
        }
        // Phase 3: helpers that hand an untuned config from a caller to a
        // constructor are reported at the constructor.
        if !passed.is_empty() {
            for u in &units {
                for (func, is_method, name) in top_functions(u) {
                    let Some(params) = param_uses(u, func, &empty) else {
                        continue;
                    };
                    for (arg, (pname, use_)) in params.into_iter().enumerate() {
                        let (Some(pname), Some(use_)) = (pname, use_) else {
                            continue;
                        };
                        let Some(origin) = passed.get(&(name.to_string(), is_method, arg)) else {
                            continue;
                        };
                        for (start, end, callee, missing) in use_.constructors {
                            list.push(Finding {
                                file: u.fi,
                                start,
                                end,
                                message: message(&callee, &pname, origin, missing),
                                help: help(&pname),
                            });
                        }
                    }
                }
            }
        }
        list.sort_by_key(|f| (f.file, f.start));
        list.dedup_by_key(|f| (f.file, f.start));
        PackageFindings { list }
    }
}

fn merge(into: &mut FunctionSummary, s: FunctionSummary) {
    into.returns = match (into.returns.take(), s.returns) {
        (Some(Returns::Tuned), _) | (_, Some(Returns::Tuned)) => Some(Returns::Tuned),
        (Some(Returns::Source(o)), _) | (_, Some(Returns::Source(o))) => Some(Returns::Source(o)),
        (a, b) => a.or(b),
    };
    if into.params.is_empty() {
        into.params = s.params;
    }
}

fn finding(
    fi: usize,
    call: Node<'_>,
    callee: &str,
    name: &str,
    origin: &str,
    missing: &str,
) -> Finding {
    Finding {
        file: fi,
        start: call.start_byte(),
        end: call.end_byte(),
        message: message(callee, name, origin, missing),
        help: help(name),
    }
}

fn message(callee: &str, name: &str, origin: &str, missing: &str) -> String {
    format!(
        "`{callee}` builds a client from `{name}`, the config from {origin}, with client-go's default rate limits (QPS 5, Burst 10: {missing}); the controller's initial Lists and every reconcile queue behind that limiter and stall after a restart"
    )
}

fn help(name: &str) -> String {
    format!(
        "set `{name}.QPS` and `{name}.Burst` (or `QPS = -1` to leave limiting to the API server) where the config is obtained, before any client is built from it"
    )
}

/// The package-level functions and methods of a file: (node, is a
/// method, name).
fn top_functions<'a>(u: &Unit<'a>) -> Vec<(Node<'a>, bool, &'a str)> {
    let root = u.file.tree.root_node();
    let mut c = root.walk();
    root.named_children(&mut c)
        .filter(|d| matches!(d.kind(), "function_declaration" | "method_declaration"))
        .filter_map(|d| {
            let name = d.child_by_field_name("name")?;
            Some((
                d,
                d.kind() == "method_declaration",
                redline_go::node_text(name, &u.file.source),
            ))
        })
        .collect()
}

fn all_functions<'a>(u: &Unit<'a>) -> Vec<Node<'a>> {
    u.index.functions.clone()
}

fn text<'a>(u: &Unit<'a>, n: Node<'_>) -> &'a str {
    redline_go::node_text(n, &u.file.source)
}

/// The nodes of `func`'s body outside nested function literals.
fn own_nodes<'a>(func: Node<'a>) -> Vec<Node<'a>> {
    let mut own = Vec::new();
    let Some(body) = func.child_by_field_name("body") else {
        return own;
    };
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if n.kind() == "func_literal" {
            continue;
        }
        own.push(n);
        let mut c = n.walk();
        for child in n.named_children(&mut c) {
            stack.push(child);
        }
    }
    own.sort_by_key(|n| n.start_byte());
    own
}

/// `rest.InClusterConfig()`, `clientcmd.BuildConfigFromFlags(...)`,
/// `clientcmd.RESTConfigFromKubeConfig(...)`, `x.ClientConfig()`, or a
/// same-package function that returns an untuned config from one: where
/// it came from, or `None`.
fn source_of(u: &Unit<'_>, value: Node<'_>, summaries: &Summaries) -> Option<String> {
    let v = unparen(value);
    if v.kind() != "call_expression" {
        return None;
    }
    let at = || {
        format!(
            "{}:{}",
            u.file.display,
            u.file.lines.span(v.start_byte(), v.start_byte()).line
        )
    };
    if let Some((_, name)) = u.index.callee(v, SOURCES) {
        return Some(format!("`{name}` at {}", at()));
    }
    let f = v.child_by_field_name("function").map(unparen)?;
    let (summary, shown) = match f.kind() {
        "identifier" => {
            let name = text(u, f);
            if u.index.is_local_binding(name, f) {
                return None;
            }
            (summaries.functions.get(name), name)
        }
        "selector_expression" => {
            if u.index.resolve(f).is_some() {
                return None;
            }
            let name = text(u, f.child_by_field_name("field")?);
            let declared = summaries.methods.get(name);
            if name == "ClientConfig"
                && declared.is_none()
                && v.child_by_field_name("arguments")
                    .is_some_and(|a| args(a).is_empty())
                && !foreign_wrapper(u, f.child_by_field_name("operand")?)
            {
                return Some(format!("`ClientConfig()` at {}", at()));
            }
            (declared, name)
        }
        _ => return None,
    };
    match summary?.returns.as_ref()? {
        Returns::Source(origin) => Some(format!("`{shown}()` at {} ({origin})", at())),
        _ => None,
    }
}

/// Whether the receiver of `x.ClientConfig()` visibly belongs to another
/// package than client-go: a variable typed, or built by a call, from such
/// a package (a project's own client factory, whose `ClientConfig()` sets
/// the limits where redline cannot see it). clientcmd's `ClientConfig`
/// and receivers of unknown origin stay sources.
fn foreign_wrapper(u: &Unit<'_>, operand: Node<'_>) -> bool {
    let operand = unparen(operand);
    if operand.kind() != "identifier" {
        return false;
    }
    let Some(decl) = u.index.local_declaration(text(u, operand), operand) else {
        return false;
    };
    let Some(parent) = decl.parent() else {
        return false;
    };
    let origin = match parent.kind() {
        "parameter_declaration" | "var_spec" => parent.child_by_field_name("type").map(|mut t| {
            while t.kind() == "pointer_type" {
                match t.named_child(0) {
                    Some(inner) => t = inner,
                    None => break,
                }
            }
            t
        }),
        "expression_list" => parent
            .parent()
            .filter(|s| s.kind() == "short_var_declaration")
            .and_then(|s| s.child_by_field_name("right"))
            .and_then(|r| args(r).first().copied())
            .map(unparen)
            .filter(|c| c.kind() == "call_expression")
            .and_then(|c| c.child_by_field_name("function"))
            .map(unparen),
        _ => None,
    };
    let Some(origin) = origin else {
        return false;
    };
    if !matches!(origin.kind(), "qualified_type" | "selector_expression") {
        return false;
    }
    u.index
        .resolve(origin)
        .is_some_and(|(path, _)| !path.starts_with("k8s.io/client-go"))
}

/// Config variables assigned from a source in `func` (not in nested
/// literals, which are functions of their own).
fn sources_in<'a>(u: &Unit<'a>, func: Node<'a>, summaries: &Summaries) -> Vec<Tracked<'a>> {
    let mut out: Vec<Tracked<'a>> = Vec::new();
    for n in own_nodes(func) {
        if !matches!(n.kind(), "short_var_declaration" | "assignment_statement") {
            continue;
        }
        let (Some(left), Some(right)) = (
            n.child_by_field_name("left"),
            n.child_by_field_name("right"),
        ) else {
            continue;
        };
        let [value] = args(right)[..] else {
            continue;
        };
        let Some(origin) = source_of(u, value, summaries) else {
            continue;
        };
        let Some(target) = args(left).first().map(|l| unparen(*l)) else {
            continue;
        };
        if target.kind() != "identifier" {
            continue;
        }
        let name = text(u, target);
        let decl = if n.kind() == "short_var_declaration" {
            u.index
                .local_declaration(name, target)
                .filter(|d| d.start_byte() <= target.start_byte())
                .unwrap_or(target)
        } else {
            match u.index.local_declaration(name, target) {
                Some(d) => d,
                None => continue,
            }
        };
        if out.iter().any(|t| t.decl.id() == decl.id()) {
            continue;
        }
        out.push(Tracked {
            decl,
            name: name.to_string(),
            origin,
            qps: Vec::new(),
            burst: Vec::new(),
            settled: Vec::new(),
            constructors: Vec::new(),
            passes: Vec::new(),
            returns: Vec::new(),
        });
    }
    out
}

/// A constructor call: the callee as written.
fn constructor<'a>(u: &Unit<'a>, call: Node<'a>) -> Option<&'a str> {
    let f = call.child_by_field_name("function").map(unparen)?;
    let shown = text(u, f);
    if u.index.callee(call, CONSTRUCTORS).is_some() {
        return Some(shown);
    }
    if f.kind() == "selector_expression"
        && let Some((_, name)) = u.index.resolve(f)
        && matches!(name, "NewForConfig" | "NewForConfigOrDie")
    {
        return Some(shown);
    }
    None
}

/// Classifies every use of the tracked variables in `func` (nested
/// literals included: a closure may set the limits).
fn follow<'a>(u: &Unit<'a>, func: Node<'a>, tracked: &mut [Tracked<'a>], summaries: &Summaries) {
    let Some(body) = func.child_by_field_name("body") else {
        return;
    };
    let names: HashSet<String> = tracked.iter().map(|t| t.name.clone()).collect();
    let mut stack = vec![body];
    let mut idents = Vec::new();
    while let Some(n) = stack.pop() {
        if n.kind() == "identifier" && names.contains(text(u, n)) {
            idents.push(n);
        }
        let mut c = n.walk();
        for child in n.named_children(&mut c) {
            stack.push(child);
        }
    }
    for ident in idents {
        let Some(decl) = u.index.local_declaration(text(u, ident), ident) else {
            continue;
        };
        if decl.id() == ident.id() {
            continue;
        }
        let Some(t) = tracked.iter_mut().find(|t| t.decl.id() == decl.id()) else {
            continue;
        };
        classify_use(u, ident, t, summaries);
    }
}

/// One use of a config variable: a QPS/Burst/RateLimiter assignment, the
/// argument of a constructor or of a same-package function, a return, a
/// harmless read, or anything else (handed on: the limits may be set
/// elsewhere).
fn classify_use<'a>(u: &Unit<'a>, ident: Node<'a>, t: &mut Tracked<'a>, summaries: &Summaries) {
    let pos = ident.start_byte();
    let Some(parent) = ident.parent() else {
        return;
    };
    match parent.kind() {
        "selector_expression" => {
            let Some(field) = parent.child_by_field_name("field") else {
                return;
            };
            if !is_assigned(parent) {
                // A read (`cfg.Host`).
                return;
            }
            match text(u, field) {
                "QPS" => t.qps.push(pos),
                "Burst" => t.burst.push(pos),
                "RateLimiter" => t.settled.push(pos),
                _ => {}
            }
        }
        "binary_expression" => {}
        "expression_list" => {
            let stmt = parent.parent();
            let is_left = stmt.is_some_and(|s| {
                s.child_by_field_name("left").map(|l| l.id()) == Some(parent.id())
            });
            if stmt.is_some_and(|s| s.kind() == "return_statement") {
                t.returns.push(pos);
            } else if !is_left {
                t.settled.push(pos);
            }
        }
        "return_statement" => t.returns.push(pos),
        "argument_list" => {
            let Some(call) = parent.parent().filter(|c| c.kind() == "call_expression") else {
                t.settled.push(pos);
                return;
            };
            let list = args(parent);
            let Some(arg) = list.iter().position(|a| a.id() == ident.id()) else {
                t.settled.push(pos);
                return;
            };
            if arg == 0
                && let Some(callee) = constructor(u, call)
            {
                t.constructors.push((call, callee.to_string()));
                return;
            }
            match same_package_callee(u, call, summaries) {
                Some((key, is_method, summary)) => {
                    match summary.params.get(arg).and_then(|p| p.as_ref()) {
                        Some(p) if p.tuned => {
                            t.qps.push(pos);
                            t.burst.push(pos);
                        }
                        Some(p) if !p.constructors.is_empty() => {
                            t.passes.push((pos, key.to_string(), is_method, arg));
                        }
                        Some(p) if !p.unknown => {}
                        _ => t.settled.push(pos),
                    }
                }
                None => t.settled.push(pos),
            }
        }
        _ => t.settled.push(pos),
    }
}

/// The summary of a same-package function or method called by `call`.
fn same_package_callee<'s, 'a>(
    u: &Unit<'a>,
    call: Node<'a>,
    summaries: &'s Summaries,
) -> Option<(&'a str, bool, &'s FunctionSummary)> {
    let f = call.child_by_field_name("function").map(unparen)?;
    match f.kind() {
        "identifier" => {
            let name = text(u, f);
            if u.index.is_local_binding(name, f) {
                return None;
            }
            summaries.functions.get(name).map(|s| (name, false, s))
        }
        "selector_expression" => {
            if u.index.resolve(f).is_some() {
                return None;
            }
            let name = text(u, f.child_by_field_name("field")?);
            summaries.methods.get(name).map(|s| (name, true, s))
        }
        _ => None,
    }
}

/// Phase 1 for one package-level function.
fn summarize(u: &Unit<'_>, func: Node<'_>, empty: &Summaries) -> FunctionSummary {
    let mut summary = FunctionSummary::default();
    let mut tracked = sources_in(u, func, empty);
    // `return rest.InClusterConfig()` and the like.
    let mut direct = None;
    for n in own_nodes(func) {
        if n.kind() == "return_statement"
            && let Some(list) = n.named_child(0)
            && let Some(first) = args(list).first().copied()
            && let Some(origin) = source_of(u, first, empty)
        {
            direct = Some(origin);
        }
    }
    if !tracked.is_empty() {
        follow(u, func, &mut tracked, empty);
    }
    for t in &tracked {
        for &r in &t.returns {
            let kind = if t.tuned_before(r) {
                Returns::Tuned
            } else if t.settled_before(r) {
                Returns::Other
            } else {
                Returns::Source(t.origin.clone())
            };
            summary.returns = match (summary.returns.take(), kind) {
                (Some(Returns::Tuned), _) | (_, Returns::Tuned) => Some(Returns::Tuned),
                (_, k) => Some(k),
            };
        }
    }
    if summary.returns.is_none()
        && let Some(origin) = direct
    {
        summary.returns = Some(Returns::Source(origin));
    }
    // A wrapper that tunes a config from anywhere (`ctrl.GetConfig()`,
    // a field) and returns it is tuned too.
    if summary.returns.is_none() && returns_tuned_local(u, func) {
        summary.returns = Some(Returns::Tuned);
    }
    summary.params = param_uses(u, func, empty)
        .map(|ps| ps.into_iter().map(|(_, p)| p).collect())
        .unwrap_or_default();
    summary
}

/// Whether `func` returns a local variable after assigning both its
/// `QPS` and `Burst`.
fn returns_tuned_local(u: &Unit<'_>, func: Node<'_>) -> bool {
    let own = own_nodes(func);
    let mut qps: HashSet<&str> = HashSet::new();
    let mut burst: HashSet<&str> = HashSet::new();
    for &n in &own {
        if n.kind() == "selector_expression"
            && is_assigned(n)
            && let (Some(o), Some(f)) = (
                n.child_by_field_name("operand").map(unparen),
                n.child_by_field_name("field"),
            )
            && o.kind() == "identifier"
        {
            match text(u, f) {
                "QPS" => {
                    qps.insert(text(u, o));
                }
                "Burst" => {
                    burst.insert(text(u, o));
                }
                _ => {}
            }
        }
    }
    own.iter().any(|n| {
        n.kind() == "return_statement"
            && n.named_child(0)
                .and_then(|l| args(l).first().copied())
                .map(unparen)
                .is_some_and(|r| {
                    r.kind() == "identifier"
                        && qps.contains(text(u, r))
                        && burst.contains(text(u, r))
                })
    })
}

/// What `func` does with each of its parameters that may be a config
/// (typed `*X.Config` or `X.Config`); `None` when it has none.
#[allow(clippy::type_complexity)]
fn param_uses<'a>(
    u: &Unit<'a>,
    func: Node<'a>,
    empty: &Summaries,
) -> Option<Vec<(Option<String>, Option<ParamUse>)>> {
    let params = func.child_by_field_name("parameters")?;
    let mut out = Vec::new();
    let mut tracked = Vec::new();
    let mut any = false;
    let mut c = params.walk();
    for p in params.named_children(&mut c) {
        if !matches!(
            p.kind(),
            "parameter_declaration" | "variadic_parameter_declaration"
        ) {
            continue;
        }
        let is_config = p
            .child_by_field_name("type")
            .is_some_and(|t| text(u, t).trim_start_matches('*').ends_with(".Config"));
        let mut c2 = p.walk();
        let names: Vec<Node<'a>> = p.children_by_field_name("name", &mut c2).collect();
        if names.is_empty() {
            out.push((None, None));
        }
        for n in names {
            if is_config {
                any = true;
                out.push((Some(text(u, n).to_string()), None));
                tracked.push((
                    out.len() - 1,
                    Tracked {
                        decl: n,
                        name: text(u, n).to_string(),
                        origin: String::new(),
                        qps: Vec::new(),
                        burst: Vec::new(),
                        settled: Vec::new(),
                        constructors: Vec::new(),
                        passes: Vec::new(),
                        returns: Vec::new(),
                    },
                ));
            } else {
                out.push((None, None));
            }
        }
    }
    if !any {
        return None;
    }
    let mut ts: Vec<Tracked<'a>> = tracked.iter_mut().map(|(_, t)| take(t)).collect();
    follow(u, func, &mut ts, empty);
    for ((i, _), t) in tracked.iter().zip(ts) {
        let constructors = t
            .constructors
            .iter()
            .filter(|(call, _)| {
                let at = call.start_byte();
                !t.settled_before(at) && !t.tuned_before(at)
            })
            .map(|(call, callee)| {
                (
                    call.start_byte(),
                    call.end_byte(),
                    callee.clone(),
                    t.missing_before(call.start_byte()),
                )
            })
            .collect();
        let tuned = !t.qps.is_empty() && !t.burst.is_empty();
        out[*i].1 = Some(ParamUse {
            tuned,
            unknown: !t.settled.is_empty(),
            constructors,
        });
    }
    Some(out)
}

fn take<'a>(t: &mut Tracked<'a>) -> Tracked<'a> {
    Tracked {
        decl: t.decl,
        name: std::mem::take(&mut t.name),
        origin: std::mem::take(&mut t.origin),
        qps: Vec::new(),
        burst: Vec::new(),
        settled: Vec::new(),
        constructors: Vec::new(),
        passes: Vec::new(),
        returns: Vec::new(),
    }
}

fn is_assigned(selector: Node<'_>) -> bool {
    let Some(list) = selector.parent() else {
        return false;
    };
    if list.kind() != "expression_list" {
        return false;
    }
    list.parent().is_some_and(|s| {
        s.kind() == "assignment_statement"
            && s.child_by_field_name("left").map(|l| l.id()) == Some(list.id())
    })
}
