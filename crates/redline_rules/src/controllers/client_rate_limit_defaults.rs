use crate::{Context, DiagnosticExt, GoRule, RuleMeta, args, declare_rule, unparen};
use redline_diagnostics::Diagnostic;
use redline_go::Node;
use std::collections::HashMap;

declare_rule! {
    /// ## What it does
    /// In one function, finds a `*rest.Config` obtained from
    /// `rest.InClusterConfig`, `clientcmd.BuildConfigFromFlags`,
    /// `clientcmd.RESTConfigFromKubeConfig` or a `ClientConfig()` call that
    /// is passed to `kubernetes.NewForConfig`,
    /// `kubernetes.NewForConfigOrDie`, `dynamic.NewForConfig`,
    /// `metadata.NewForConfig`, `ctrl.NewManager` or `manager.New` without
    /// both its `QPS` and `Burst` fields being assigned first.
    ///
    /// Not reported when the config's `RateLimiter` is set (it replaces QPS
    /// and Burst), or when the config is handed to other code (a helper, a
    /// copy, its address) before the constructor: that code may set the
    /// limits. controller-runtime's `ctrl.GetConfig*` already sets 20/30
    /// and is not a source.
    ///
    /// ## Why is this bad?
    /// client-go's defaults are QPS 5 and Burst 10. The initial List of a
    /// large informer, and every reconcile's writes, queue behind that
    /// client-side limiter: after a restart the controller stalls for
    /// minutes ("Waited for ... due to client-side throttling").
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
    /// server's priority-and-fairness settings.
    pub struct ClientRateLimitDefaults {
        id: "RL204",
        name: "client-rate-limit-defaults",
        severity: Warning,
        fix: None,
        target: Go,
        summary: "a Kubernetes client is built with client-go's default QPS 5 / Burst 10",
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
    ("k8s.io/client-go/kubernetes", "NewForConfig"),
    ("k8s.io/client-go/kubernetes", "NewForConfigOrDie"),
    ("k8s.io/client-go/dynamic", "NewForConfig"),
    ("k8s.io/client-go/metadata", "NewForConfig"),
    ("sigs.k8s.io/controller-runtime", "NewManager"),
    ("sigs.k8s.io/controller-runtime/pkg/manager", "New"),
];

#[derive(Default)]
struct ConfigUse {
    name: String,
    qps: Vec<usize>,
    burst: Vec<usize>,
    /// `RateLimiter` set, or handed to other code.
    settled: Vec<usize>,
}

impl GoRule for ClientRateLimitDefaults {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        if !CONSTRUCTORS.iter().any(|(p, _)| cx.file.imports_path(p)) {
            return;
        }
        // Only functions that obtain a config can report: find the source
        // calls in the index first (most files have none).
        let mut seen = std::collections::HashSet::new();
        for &call in &cx.index.calls {
            if !is_source(cx, call) {
                continue;
            }
            let Some(func) = cx.index.enclosing_function(call) else {
                continue;
            };
            if !seen.insert(func.id()) {
                continue;
            }
            let Some(body) = func.child_by_field_name("body") else {
                continue;
            };
            check_function(self, cx, body, out);
        }
    }
}

fn check_function<'a>(
    rule: &ClientRateLimitDefaults,
    cx: &Context<'a>,
    body: Node<'a>,
    out: &mut Vec<Diagnostic>,
) {
    // Config variables by declaring identifier.
    let mut configs: HashMap<usize, ConfigUse> = HashMap::new();
    let mut constructors: Vec<(Node<'a>, usize)> = Vec::new();
    let mut stack = vec![body];
    let mut idents: Vec<Node<'a>> = Vec::new();
    let mut own = Vec::new();
    // Pass 1 (this function only): sources and constructor calls.
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
    for &n in &own {
        if matches!(n.kind(), "short_var_declaration" | "assignment_statement")
            && let (Some(left), Some(right)) = (
                n.child_by_field_name("left"),
                n.child_by_field_name("right"),
            )
            && let [value] = args(right)[..]
            && is_source(cx, value)
            && let Some(target) = args(left).first().map(|l| unparen(*l))
            && target.kind() == "identifier"
        {
            let name = cx.text(target);
            let decl = if n.kind() == "short_var_declaration" {
                cx.index
                    .local_declaration(name, target)
                    .filter(|d| d.start_byte() <= target.start_byte())
                    .unwrap_or(target)
            } else {
                match cx.index.local_declaration(name, target) {
                    Some(d) => d,
                    None => continue,
                }
            };
            configs
                .entry(decl.start_byte())
                .or_insert_with(|| ConfigUse {
                    name: name.to_string(),
                    ..Default::default()
                });
        }
    }
    if configs.is_empty() {
        return;
    }
    for &n in &own {
        if n.kind() == "call_expression"
            && cx.index.callee(n, CONSTRUCTORS).is_some()
            && let Some(first) = n
                .child_by_field_name("arguments")
                .and_then(|a| args(a).first().copied())
                .map(unparen)
            && first.kind() == "identifier"
            && let Some(decl) = cx.index.local_declaration(cx.text(first), first)
            && configs.contains_key(&decl.start_byte())
        {
            constructors.push((n, decl.start_byte()));
        }
    }
    if constructors.is_empty() {
        return;
    }
    // Pass 2 (nested literals included): how each config is used.
    let names: Vec<String> = configs.values().map(|c| c.name.clone()).collect();
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if n.kind() == "identifier" && names.iter().any(|x| x == cx.text(n)) {
            idents.push(n);
        }
        let mut c = n.walk();
        for child in n.named_children(&mut c) {
            stack.push(child);
        }
    }
    for ident in idents {
        let Some(decl) = cx.index.local_declaration(cx.text(ident), ident) else {
            // The declaring identifier itself.
            continue;
        };
        let Some(cfg) = configs.get_mut(&decl.start_byte()) else {
            continue;
        };
        if decl.id() == ident.id() {
            continue;
        }
        classify_use(cx, ident, cfg, &constructors);
    }
    for (call, id) in constructors {
        let Some(cfg) = configs.get(&id) else {
            continue;
        };
        let at = call.start_byte();
        if cfg.settled.iter().any(|&p| p < at) {
            continue;
        }
        let qps = cfg.qps.iter().any(|&p| p < at);
        let burst = cfg.burst.iter().any(|&p| p < at);
        if qps && burst {
            continue;
        }
        let missing = match (qps, burst) {
            (false, false) => "neither `QPS` nor `Burst` is set",
            (true, false) => "`Burst` is not set",
            _ => "`QPS` is not set",
        };
        let callee = call
            .child_by_field_name("function")
            .map(|f| cx.text(f))
            .unwrap_or("the constructor");
        out.push(
            cx.node_diagnostic(
                &ClientRateLimitDefaults::META,
                call,
                format!(
                    "`{callee}` gets `{}` with client-go's default rate limits (QPS 5, Burst 10): {missing}",
                    cfg.name
                ),
            )
            .with_help(format!(
                "set `{0}.QPS` and `{0}.Burst` before building the client",
                cfg.name
            )),
        );
        let _ = rule;
    }
}

/// One use of a config variable: a QPS/Burst/RateLimiter assignment, the
/// argument of a tracked constructor, a harmless read, or anything else
/// (handed on: the limits may be set elsewhere).
fn classify_use<'a>(
    cx: &Context<'a>,
    ident: Node<'a>,
    cfg: &mut ConfigUse,
    constructors: &[(Node<'a>, usize)],
) {
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
            match cx.text(field) {
                "QPS" => cfg.qps.push(pos),
                "Burst" => cfg.burst.push(pos),
                "RateLimiter" => cfg.settled.push(pos),
                _ => {}
            }
        }
        "binary_expression" => {}
        "expression_list" => {
            // The target of the source assignment itself, or another
            // assignment to the variable.
            let stmt = parent.parent();
            let is_left = stmt.is_some_and(|s| {
                s.child_by_field_name("left").map(|l| l.id()) == Some(parent.id())
            });
            if !is_left {
                cfg.settled.push(pos);
            }
        }
        "argument_list" => {
            let is_ctor_arg = parent
                .parent()
                .is_some_and(|call| constructors.iter().any(|(c, _)| c.id() == call.id()))
                && args(parent).first().map(|a| a.id()) == Some(ident.id());
            if !is_ctor_arg {
                cfg.settled.push(pos);
            }
        }
        _ => cfg.settled.push(pos),
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

/// `rest.InClusterConfig()`, `clientcmd.BuildConfigFromFlags(...)`,
/// `clientcmd.RESTConfigFromKubeConfig(...)`, or `x.ClientConfig()`.
fn is_source(cx: &Context<'_>, value: Node<'_>) -> bool {
    let v = unparen(value);
    if v.kind() != "call_expression" {
        return false;
    }
    if cx.index.callee(v, SOURCES).is_some() {
        return true;
    }
    let Some(f) = v.child_by_field_name("function").map(unparen) else {
        return false;
    };
    f.kind() == "selector_expression"
        && f.child_by_field_name("field")
            .is_some_and(|x| cx.text(x) == "ClientConfig")
        && v.child_by_field_name("arguments")
            .is_some_and(|a| args(a).is_empty())
        && cx.index.resolve(f).is_none()
}
