//! The SLO model and its loaders. Every input Sloth reads maps to the one
//! model that `generate`, `status` and `report` use:
//!
//! - Sloth `version: prometheus/v1` specs (snake_case keys);
//! - Sloth's Kubernetes `PrometheusServiceLevel` (`sloth.slok.dev/v1`,
//!   camelCase keys), several per file and inside `kind: List` or
//!   `PrometheusServiceLevelList`;
//! - Sloth `AlertWindows` (`sloth.slok.dev/v1`): custom alert windows and
//!   burn-rate factors for SLOs of its `sloPeriod` ([`crate::alertwindows`]);
//! - Sloth SLI plugins whose queries redline can write out
//!   ([`crate::plugins`]);
//! - OpenSLO v1 `Service`, `SLO`, `SLI`, `AlertPolicy`, `AlertCondition`
//!   ([`crate::openslo`]), and OpenSLO `v1alpha` SLOs as Sloth reads them.
//!
//! Loading never stops at the first problem: every problem is collected
//! with its position.

use crate::duration;
use crate::windows::AlertWindow;
use crate::yaml::{self, Node, Pos};
use std::collections::BTreeMap;
use std::fmt;

/// A problem in a spec file, at a position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SpecProblem {
    pub path: String,
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.path, self.pos.line, self.pos.column, self.message
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecFormat {
    /// Sloth `version: prometheus/v1`.
    Sloth,
    /// Sloth's `PrometheusServiceLevel` (`sloth.slok.dev/v1`).
    SlothKubernetes,
    /// OpenSLO `openslo/v1` (and `openslo/v1alpha`).
    OpenSlo,
}

impl SpecFormat {
    /// How to turn off the `severity` (`page` or `ticket`) alert, in this
    /// format's own spelling.
    pub fn disable_alert_hint(self, severity: &str) -> String {
        match (self, severity) {
            (SpecFormat::Sloth, "page") => "`page_alert: {disable: true}`".into(),
            (SpecFormat::Sloth, _) => "`ticket_alert: {disable: true}`".into(),
            (SpecFormat::SlothKubernetes, "page") => "`pageAlert: {disable: true}`".into(),
            (SpecFormat::SlothKubernetes, _) => "`ticketAlert: {disable: true}`".into(),
            (SpecFormat::OpenSlo, s) => {
                format!("give the SLO `alertPolicies` whose conditions have no `severity: {s}`")
            }
        }
    }
}

/// A PromQL query as written, with `{{.window}}` where the range goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub text: String,
    pub pos: Pos,
}

impl Query {
    /// The query with the window placeholder filled in.
    pub fn at(&self, window: &str) -> String {
        fill_window(&self.text, window)
    }
}

/// Replaces `{{.window}}` (and `{{ .window }}`) with a duration.
pub fn fill_window(text: &str, window: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) if after[..end].trim() == ".window" => {
                out.push_str(window);
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

pub fn has_window_placeholder(text: &str) -> bool {
    fill_window(text, "\u{0}") != text
}

#[derive(Debug, Clone, PartialEq)]
pub enum Sli {
    /// Error events and total events; the exact kind.
    Events { error: Query, total: Query },
    /// A query that is already an error ratio.
    Raw { error_ratio: Query },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertSettings {
    pub disable: bool,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alerting {
    pub name: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub page: AlertSettings,
    pub ticket: AlertSettings,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub path: String,
    pub format: SpecFormat,
    pub pos: Pos,
    pub service: String,
    pub name: String,
    pub name_pos: Pos,
    pub description: Option<String>,
    /// Percent, e.g. 99.9.
    pub objective: f64,
    pub objective_pos: Pos,
    /// The window in seconds; for a calendar window, the period's nominal
    /// length (30d for a month), which the generated rules use.
    pub window_secs: u64,
    pub window_pos: Pos,
    /// A calendar-aligned window (OpenSLO): `status` and `report` compute
    /// the budget over the current period, not the last `window_secs`.
    pub calendar: Option<crate::calendar::Calendar>,
    /// The `metadata` of the `PrometheusServiceLevel` the SLO came from:
    /// the default name, namespace, labels and annotations of its
    /// `PrometheusRule` (as Sloth writes them).
    pub k8s: Option<K8sMeta>,
    pub sli: Sli,
    pub labels: BTreeMap<String, String>,
    pub alerting: Alerting,
    /// The multi-window burn-rate alert conditions: the SRE Workbook's for
    /// the window, a Sloth `AlertWindows` spec's for its `sloPeriod`, or an
    /// OpenSLO alert policy's burn-rate conditions.
    pub alerts: Vec<AlertWindow>,
}

impl Slo {
    /// The alert conditions (see [`Slo::alerts`]).
    pub fn alert_windows(&self) -> Vec<AlertWindow> {
        self.alerts.clone()
    }

    /// `service-name`, the id used in rule labels (as Sloth does).
    pub fn id(&self) -> String {
        format!("{}-{}", self.service, self.name)
    }

    /// The error budget as a ratio (0.001 for 99.9%).
    pub fn error_budget(&self) -> f64 {
        // Rounded so that 100 - 99.9 is 0.001, not 0.0009999999999976694.
        ((100.0 - self.objective) / 100.0 * 1e12).round() / 1e12
    }

    pub fn window(&self) -> String {
        duration::format(self.window_secs)
    }
}

/// A Kubernetes object's `metadata`: what a `PrometheusRule` made from a
/// `PrometheusServiceLevel` takes from it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct K8sMeta {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

pub const DEFAULT_WINDOW_SECS: u64 = 30 * 86_400;

/// Loads every SLO from one file's text. `default_window` applies to
/// Sloth files, which do not say their window.
pub fn load(path: &str, src: &str, default_window: u64) -> Loaded {
    load_all(&[(path.to_string(), src.to_string())], default_window)
}

/// The documents of one file, `kind: List` items flattened.
struct FileDocs {
    path: String,
    docs: Vec<Node>,
}

/// What documents of one run may refer to across files: OpenSLO `SLI`,
/// `AlertPolicy` and `AlertCondition` documents by name, and Sloth
/// `AlertWindows` by SLO period.
#[derive(Default)]
pub(crate) struct Registry {
    pub slis: BTreeMap<String, (String, Node)>,
    pub policies: BTreeMap<String, (String, Node)>,
    pub conditions: BTreeMap<String, (String, Node)>,
    pub windows: BTreeMap<u64, crate::alertwindows::Set>,
}

impl Registry {
    /// The alert conditions of an SLO with this window: an `AlertWindows`
    /// spec's for that period, else the SRE Workbook's.
    pub fn alerts_for(&self, window_secs: u64) -> Vec<AlertWindow> {
        match self.windows.get(&window_secs) {
            Some(set) => set.alerts.to_vec(),
            None => crate::windows::alert_windows(window_secs).to_vec(),
        }
    }
}

fn api_kind(doc: &Node) -> (Option<&str>, &str) {
    (
        doc.get("apiVersion").and_then(Node::as_str),
        doc.get("kind").and_then(Node::as_str).unwrap_or(""),
    )
}

fn openslo_name(doc: &Node) -> Option<&str> {
    doc.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
}

/// Loads every SLO of several files read together: an OpenSLO
/// `indicatorRef`, `alertPolicyRef` or `conditionRef` may name a document
/// of another file, and an `AlertWindows` spec applies to every SLO of its
/// period, as Sloth applies the windows of `--slo-period-windows-path`.
pub fn load_all(files: &[(String, String)], default_window: u64) -> Loaded {
    let mut cx = Cx {
        path: String::new(),
        problems: Vec::new(),
        names: Vec::new(),
        services: Vec::new(),
    };
    let mut parsed = Vec::new();
    for (path, src) in files {
        cx.path = path.clone();
        let docs = match yaml::parse(src) {
            Ok(d) => d,
            Err(e) => {
                cx.err(e.pos(), format!("invalid YAML: {}", e.message));
                continue;
            }
        };
        let mut flat = Vec::new();
        for doc in docs {
            cx.flatten(doc, &mut flat);
        }
        if flat.is_empty() {
            cx.err(
                Pos { line: 1, column: 1 },
                "empty file: expected a Sloth `version: prometheus/v1` spec, Sloth `sloth.slok.dev/v1` resources or OpenSLO documents"
                    .into(),
            );
        }
        parsed.push(FileDocs {
            path: path.clone(),
            docs: flat,
        });
    }
    // First pass: what documents refer to.
    let mut reg = Registry::default();
    for file in &parsed {
        cx.path = file.path.clone();
        for doc in &file.docs {
            match api_kind(doc) {
                (Some("openslo/v1"), kind @ ("SLI" | "AlertPolicy" | "AlertCondition")) => {
                    let Some(name) = openslo_name(doc) else {
                        continue; // reported when the document is read
                    };
                    let map = match kind {
                        "SLI" => &mut reg.slis,
                        "AlertPolicy" => &mut reg.policies,
                        _ => &mut reg.conditions,
                    };
                    if let Some((p, first)) = map.get(name) {
                        let msg = format!(
                            "a second OpenSLO {kind} named `{name}` (the first is at {p}:{}:{}); references by name would be ambiguous",
                            first.pos.line, first.pos.column
                        );
                        cx.err(doc.pos, msg);
                    } else {
                        map.insert(name.to_string(), (file.path.clone(), doc.clone()));
                    }
                }
                (Some("sloth.slok.dev/v1"), "AlertWindows") => cx.alert_windows(doc, &mut reg),
                _ => {}
            }
        }
    }
    // Second pass: the SLOs.
    let mut slos = Vec::new();
    for file in &parsed {
        cx.path = file.path.clone();
        for doc in &file.docs {
            cx.document(doc, default_window, &reg, &mut slos);
        }
    }
    Loaded {
        slos,
        problems: cx.problems,
        names: cx.names,
        services: cx.services,
    }
}

/// What one load holds: its valid SLOs, its problems, the (service, name)
/// of every SLO, valid or not, for the duplicate check, and every service
/// an SLO document names (valid or not), for RL801.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub slos: Vec<Slo>,
    pub problems: Vec<SpecProblem>,
    pub names: Vec<SloName>,
    pub services: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SloName {
    pub service: String,
    pub name: String,
    pub path: String,
    pub pos: Pos,
}

pub(crate) struct Cx {
    pub path: String,
    pub problems: Vec<SpecProblem>,
    pub names: Vec<SloName>,
    pub services: Vec<String>,
}

pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The keys Sloth spells differently in its two formats: (`prometheus/v1`,
/// `PrometheusServiceLevel`).
const SPELLINGS: [(&str, &str); 6] = [
    ("error_query", "errorQuery"),
    ("total_query", "totalQuery"),
    ("error_ratio_query", "errorRatioQuery"),
    ("page_alert", "pageAlert"),
    ("ticket_alert", "ticketAlert"),
    ("slo_plugins", "sloPlugins"),
];

/// The key names of one Sloth format.
#[derive(Clone, Copy)]
struct Style {
    format: SpecFormat,
    error_query: &'static str,
    total_query: &'static str,
    error_ratio_query: &'static str,
    page_alert: &'static str,
    ticket_alert: &'static str,
    slo_plugins: &'static str,
}

const SNAKE: Style = Style {
    format: SpecFormat::Sloth,
    error_query: "error_query",
    total_query: "total_query",
    error_ratio_query: "error_ratio_query",
    page_alert: "page_alert",
    ticket_alert: "ticket_alert",
    slo_plugins: "slo_plugins",
};

const CAMEL: Style = Style {
    format: SpecFormat::SlothKubernetes,
    error_query: "errorQuery",
    total_query: "totalQuery",
    error_ratio_query: "errorRatioQuery",
    page_alert: "pageAlert",
    ticket_alert: "ticketAlert",
    slo_plugins: "sloPlugins",
};

impl Cx {
    pub(crate) fn err(&mut self, pos: Pos, message: String) {
        self.problems.push(SpecProblem {
            path: self.path.clone(),
            pos,
            message,
        });
    }

    /// Reports keys of a mapping that are not in `allowed`; returns the map
    /// or reports that the node is not a mapping.
    pub(crate) fn map<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Option<&'n [(Node, Node)]> {
        let Some(entries) = node.as_map() else {
            if !node.is_null() {
                self.err(
                    node.pos,
                    format!("`{what}` must be a mapping, found a {}", node.kind()),
                );
            }
            return None;
        };
        for (k, _) in entries {
            let key = k.as_str().unwrap_or("");
            if !allowed.contains(&key) && !k.is_merge_key() {
                // The other Sloth format's spelling of a key this one has:
                // name the format that spells it so.
                let respelled = SPELLINGS.iter().find_map(|(snake, camel)| {
                    if key == *snake && allowed.contains(camel) {
                        Some(format!(" (`{key}` is how a `prometheus/v1` spec spells it; a `PrometheusServiceLevel` of `sloth.slok.dev/v1` spells it `{camel}`)"))
                    } else if key == *camel && allowed.contains(snake) {
                        Some(format!(" (`{key}` is how a `PrometheusServiceLevel` of `sloth.slok.dev/v1` spells it; a `prometheus/v1` spec spells it `{snake}`)"))
                    } else {
                        None
                    }
                });
                if let Some(hint) = respelled {
                    self.err(k.pos, format!("unknown key `{key}` in {what}{hint}"));
                    continue;
                }
                let hint = match closest(key, allowed) {
                    Some(c) => format!(" (did you mean `{c}`?)"),
                    None => format!(" (expected one of: {})", allowed.join(", ")),
                };
                self.err(k.pos, format!("unknown key `{key}` in {what}{hint}"));
            }
        }
        Some(entries)
    }

    pub(crate) fn string(&mut self, node: Option<&Node>, what: &str) -> Option<String> {
        let node = node?;
        match node.as_str() {
            Some(s) if !node.is_null() => Some(s.to_string()),
            _ if node.is_null() => None,
            _ => {
                self.err(
                    node.pos,
                    format!("`{what}` must be a string, found a {}", node.kind()),
                );
                None
            }
        }
    }

    pub(crate) fn required_string(
        &mut self,
        parent: &Node,
        key: &str,
        what: &str,
    ) -> Option<(String, Pos)> {
        match parent.get(key) {
            Some(n) => {
                let s = self.string(Some(n), what)?;
                if s.trim().is_empty() {
                    self.err(n.pos, format!("`{what}` must not be empty"));
                    return None;
                }
                Some((s, n.pos))
            }
            None => {
                self.err(parent.pos, format!("missing `{what}`"));
                None
            }
        }
    }

    pub(crate) fn labels(&mut self, node: Option<&Node>, what: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(node) = node else { return out };
        let Some(entries) = node.as_map() else {
            if !node.is_null() {
                self.err(
                    node.pos,
                    format!("`{what}` must be a mapping of names to strings"),
                );
            }
            return out;
        };
        for (k, v) in entries {
            let key = k.as_str().unwrap_or("").to_string();
            if what.ends_with("labels") && !valid_label_name(&key) {
                self.err(
                    k.pos,
                    format!("`{key}` is not a valid Prometheus label name (letters, digits and `_`, not starting with a digit)"),
                );
            }
            match v.as_str() {
                Some(s) => {
                    out.insert(key, s.to_string());
                }
                None => self.err(
                    v.pos,
                    format!("the value of `{key}` in `{what}` must be a string"),
                ),
            }
        }
        out
    }

    pub(crate) fn bool(&mut self, node: Option<&Node>, what: &str) -> bool {
        match node.map(|n| (n, n.scalar())) {
            None => false,
            Some((_, Some(redline_yaml::Scalar::Bool(b)))) => b,
            Some((_, Some(redline_yaml::Scalar::Null))) => false,
            Some((n, _)) => {
                self.err(n.pos, format!("`{what}` must be true or false"));
                false
            }
        }
    }

    pub(crate) fn name(&mut self, service: Option<&str>, name: &str, pos: Pos) {
        if let Some(service) = service {
            self.names.push(SloName {
                service: service.to_string(),
                name: name.to_string(),
                path: self.path.clone(),
                pos,
            });
        }
    }

    pub(crate) fn raw_query(
        &mut self,
        node: Option<&Node>,
        parent: &Node,
        what: &str,
    ) -> Option<Query> {
        let Some(node) = node else {
            self.err(parent.pos, format!("missing `{what}`"));
            return None;
        };
        let text = self.string(Some(node), what)?;
        Some(Query {
            text: text.trim().to_string(),
            pos: node.pos,
        })
    }

    /// A query, checked: it has the window placeholder and parses as PromQL.
    pub(crate) fn query(
        &mut self,
        node: Option<&Node>,
        parent: &Node,
        what: &str,
    ) -> Option<Query> {
        let q = self.raw_query(node, parent, what)?;
        self.check_query(&q, what);
        Some(q)
    }

    pub(crate) fn check_query(&mut self, q: &Query, what: &str) {
        if !has_window_placeholder(&q.text) {
            self.err(
                q.pos,
                format!("{what} has no `{{{{.window}}}}` placeholder: write the range as `[{{{{.window}}}}]`, e.g. `sum(rate(http_requests_total{{code=~\"5..\"}}[{{{{.window}}}}]))`"),
            );
        }
        if let Err(msg) = crate::check::parse_promql(&q.at("5m")) {
            self.err(q.pos, format!("{what} is not valid PromQL: {msg}"));
        }
    }

    pub(crate) fn percent(&mut self, n: &Node) -> Option<f64> {
        let v = n.as_str().and_then(|s| s.trim().parse::<f64>().ok());
        match v {
            Some(v) if v > 0.0 && v < 100.0 && v.is_finite() => Some(v),
            Some(v) => {
                self.err(n.pos, format!("objective {v} is out of range: it is a percentage strictly between 0 and 100 (e.g. 99.9)"));
                None
            }
            None => {
                self.err(
                    n.pos,
                    "objective must be a number (a percentage such as 99.9)".into(),
                );
                None
            }
        }
    }

    /// A Kubernetes `metadata`: name, namespace, and the string labels and
    /// annotations (their keys are Kubernetes', not Prometheus', names).
    fn k8s_meta(&mut self, node: Option<&Node>) -> K8sMeta {
        let mut meta = K8sMeta::default();
        let Some(node) = node else { return meta };
        if node.as_map().is_none() {
            self.map(node, "metadata", &[]);
            return meta;
        }
        meta.name = self.string(node.get("name"), "metadata.name");
        meta.namespace = self.string(node.get("namespace"), "metadata.namespace");
        for (key, out) in [
            ("labels", &mut meta.labels),
            ("annotations", &mut meta.annotations),
        ] {
            let Some(entries) = node.get(key).and_then(Node::as_map) else {
                continue;
            };
            for (k, v) in entries {
                match (k.as_str(), v.as_str()) {
                    (Some(k), Some(v)) => {
                        out.insert(k.to_string(), v.to_string());
                    }
                    _ => self.err(
                        v.pos,
                        format!("the values of `metadata.{key}` must be strings"),
                    ),
                }
            }
        }
        meta
    }

    /// Puts `doc` in `out`, or the items of a `kind: List` (Kubernetes'
    /// `v1` List, or Sloth's `PrometheusServiceLevelList`).
    fn flatten(&mut self, doc: Node, out: &mut Vec<Node>) {
        if doc.is_null() {
            return;
        }
        let is_list = matches!(
            api_kind(&doc),
            (Some("v1"), "List") | (Some("sloth.slok.dev/v1"), "PrometheusServiceLevelList")
        );
        if !is_list {
            out.push(doc);
            return;
        }
        match doc.get("items") {
            None => {}
            Some(items) if items.is_null() => {}
            Some(items) => match items.as_seq() {
                Some(seq) => {
                    for item in seq {
                        self.flatten(item.clone(), out);
                    }
                }
                None => self.err(
                    items.pos,
                    format!("`items` of a List must be a list, found a {}", items.kind()),
                ),
            },
        }
    }

    /// One document of a spec file.
    fn document(&mut self, doc: &Node, default_window: u64, reg: &Registry, out: &mut Vec<Slo>) {
        if doc.as_map().is_none() {
            self.err(
                doc.pos,
                format!(
                    "expected a mapping at the top of the document, found a {}",
                    doc.kind()
                ),
            );
            return;
        }
        let (api, kind) = api_kind(doc);
        let kind_pos = doc.get("kind").map_or(doc.pos, |n| n.pos);
        match (api, kind) {
            (None, _) => match doc.get("version") {
                Some(v) if v.as_str() == Some("prometheus/v1") => {
                    self.sloth(doc, SNAKE, default_window, reg, out)
                }
                Some(v) => self.err(
                    v.pos,
                    format!(
                        "unsupported Sloth spec version `{}`: Sloth and redline read `version: prometheus/v1`",
                        v.as_str().unwrap_or("?")
                    ),
                ),
                None => self.err(
                    doc.pos,
                    "not an SLO spec: expected Sloth's `version: prometheus/v1`, an `apiVersion: sloth.slok.dev/v1` resource or an `apiVersion: openslo/v1` document".into(),
                ),
            },
            (Some("sloth.slok.dev/v1"), "PrometheusServiceLevel") => {
                self.map(
                    doc,
                    "the PrometheusServiceLevel",
                    &["apiVersion", "kind", "metadata", "spec", "status"],
                );
                let meta = self.k8s_meta(doc.get("metadata"));
                let before = out.len();
                match doc.get("spec") {
                    Some(spec) => self.sloth(spec, CAMEL, default_window, reg, out),
                    None => self.err(doc.pos, "PrometheusServiceLevel without `spec`".into()),
                }
                for slo in &mut out[before..] {
                    slo.k8s = Some(meta.clone());
                }
            }
            // Read in the first pass.
            (Some("sloth.slok.dev/v1"), "AlertWindows") => {}
            (Some("sloth.slok.dev/v1"), other) => self.err(
                kind_pos,
                format!("kind `{other}` of `sloth.slok.dev/v1` is not an SLO spec: redline reads `PrometheusServiceLevel` (also inside `PrometheusServiceLevelList` or a `v1` `List`) and `AlertWindows`"),
            ),
            (Some("openslo/v1"), "SLO") => self.openslo(doc, reg, out),
            (Some("openslo/v1"), "Service") => self.openslo_service(doc),
            (Some("openslo/v1"), "SLI" | "AlertPolicy" | "AlertCondition") => {
                if openslo_name(doc).is_none() {
                    self.err(
                        doc.pos,
                        format!("OpenSLO {kind} without `metadata.name`: an SLO refers to it by that name"),
                    );
                }
            }
            // Where alerts go and where metrics come from: nothing redline uses.
            (Some("openslo/v1"), "AlertNotificationTarget" | "DataSource") => {}
            (Some("openslo/v1"), other) => self.err(
                kind_pos,
                format!("`{other}` is not an OpenSLO v1 kind: OpenSLO v1 has Service, SLO, SLI, AlertPolicy, AlertCondition, AlertNotificationTarget and DataSource"),
            ),
            (Some("openslo/v1alpha"), "SLO") => self.openslo_v1alpha(doc, default_window, reg, out),
            (Some("openslo/v1alpha"), "Service") => {}
            (Some("openslo/v1alpha"), other) => self.err(
                kind_pos,
                format!("OpenSLO `v1alpha` kind `{other}` is not read: redline reads `v1alpha` `SLO` documents (as Sloth does) and every OpenSLO `v1` kind"),
            ),
            (Some(other), _) => {
                let p = doc.get("apiVersion").map_or(doc.pos, |n| n.pos);
                self.err(
                    p,
                    format!("unsupported apiVersion `{other}`: redline reads Sloth's `version: prometheus/v1` specs, Sloth's `sloth.slok.dev/v1` kinds (`PrometheusServiceLevel`, `AlertWindows`), OpenSLO `openslo/v1` and OpenSLO `openslo/v1alpha` SLOs"),
                );
            }
        }
    }

    /// A Sloth spec: the top of a `prometheus/v1` file, or the `spec` of a
    /// `PrometheusServiceLevel`.
    fn sloth(
        &mut self,
        doc: &Node,
        style: Style,
        default_window: u64,
        reg: &Registry,
        out: &mut Vec<Slo>,
    ) {
        let (what, allowed): (&str, &[&str]) = match style.format {
            SpecFormat::SlothKubernetes => (
                "the PrometheusServiceLevel spec",
                &["service", "labels", "sloPlugins", "slos"],
            ),
            _ => (
                "the spec",
                &["version", "service", "labels", "slo_plugins", "slos"],
            ),
        };
        if self.map(doc, what, allowed).is_none() {
            return;
        }
        let service = self.required_string(doc, "service", "service").map(|s| s.0);
        if let Some(s) = &service {
            check_name(
                self,
                s,
                doc.get("service").map(|n| n.pos).unwrap_or(doc.pos),
                "service",
            );
            self.services.push(s.clone());
        }
        let common_labels = self.labels(doc.get("labels"), "labels");
        self.slo_plugins(doc.get(style.slo_plugins), style.slo_plugins);
        let Some(slos) = doc.get("slos") else {
            self.err(doc.pos, "missing `slos`: a list of SLOs".into());
            return;
        };
        let Some(items) = slos.as_seq() else {
            self.err(
                slos.pos,
                format!("`slos` must be a list, found a {}", slos.kind()),
            );
            return;
        };
        if items.is_empty() {
            self.err(
                slos.pos,
                "`slos` is empty: Sloth requires at least one SLO".into(),
            );
        }
        for item in items {
            if self
                .map(
                    item,
                    "an SLO",
                    &[
                        "name",
                        "objective",
                        "description",
                        "labels",
                        "sli",
                        "alerting",
                        "plugins",
                    ],
                )
                .is_none()
            {
                continue;
            }
            let name = self.required_string(item, "name", "name");
            if let Some((n, p)) = &name {
                check_name(self, n, *p, "SLO name");
                self.name(service.as_deref(), n, *p);
            }
            let objective = match item.get("objective") {
                None => {
                    self.err(
                        item.pos,
                        "missing `objective` (a percentage such as 99.9)".into(),
                    );
                    None
                }
                Some(n) => self.percent(n),
            };
            let description = self.string(item.get("description"), "description");
            let mut labels = common_labels.clone();
            labels.extend(self.labels(item.get("labels"), "labels"));
            self.slo_plugins(item.get("plugins"), "plugins");
            let sli = match item.get("sli") {
                None => {
                    self.err(
                        item.pos,
                        format!(
                            "missing `sli` (`events` with `{}` and `{}`, `raw` with `{}`, or `plugin`)",
                            style.error_query, style.total_query, style.error_ratio_query
                        ),
                    );
                    None
                }
                Some(sli) => self.sloth_sli(sli, style, &common_labels),
            };
            let alerting = self.sloth_alerting(item.get("alerting"), style);
            if let (Some(service), Some((name, name_pos)), Some(objective), Some(sli)) =
                (&service, name, objective, sli)
            {
                out.push(Slo {
                    path: self.path.clone(),
                    format: style.format,
                    pos: item.pos,
                    service: service.clone(),
                    name,
                    name_pos,
                    description,
                    objective,
                    objective_pos: item.get("objective").map(|n| n.pos).unwrap_or(item.pos),
                    window_secs: default_window,
                    window_pos: item.pos,
                    calendar: None,
                    k8s: None,
                    sli,
                    labels,
                    alerting,
                    alerts: reg.alerts_for(default_window),
                });
            }
        }
    }

    /// Sloth SLO plugins (`slo_plugins`/`sloPlugins` of a spec, `plugins`
    /// of an SLO): a chain of plugins that make or change the rules Sloth
    /// generates. redline generates its own rules, so it accepts the
    /// plugins that change nothing in them and refuses the others.
    fn slo_plugins(&mut self, node: Option<&Node>, what: &str) {
        let Some(node) = node else { return };
        if self
            .map(node, what, &["overridePrevious", "chain"])
            .is_none()
        {
            return;
        }
        let Some(chain) = node.get("chain") else {
            return;
        };
        let Some(items) = chain.as_seq() else {
            if !chain.is_null() {
                self.err(
                    chain.pos,
                    format!("`{what}.chain` must be a list of plugins"),
                );
            }
            return;
        };
        for p in items {
            if self
                .map(p, "an SLO plugin", &["id", "config", "priority"])
                .is_none()
            {
                continue;
            }
            let Some((id, pos)) = self.required_string(p, "id", "id") else {
                continue;
            };
            if let Some(why) = crate::plugins::slo_plugin_refusal(&id) {
                self.err(pos, why);
            }
        }
    }

    fn sloth_sli(
        &mut self,
        sli: &Node,
        style: Style,
        group_labels: &BTreeMap<String, String>,
    ) -> Option<Sli> {
        self.map(sli, "sli", &["events", "raw", "plugin"])?;
        let present: Vec<&str> = ["events", "raw", "plugin"]
            .into_iter()
            .filter(|k| sli.get(k).is_some())
            .collect();
        if present.len() != 1 {
            self.err(
                sli.pos,
                "`sli` needs exactly one of `events`, `raw` or `plugin`".into(),
            );
            return None;
        }
        if let Some(p) = sli.get("plugin") {
            self.map(p, "sli.plugin", &["id", "options"])?;
            let (id, id_pos) = self.required_string(p, "id", "sli.plugin.id")?;
            let options = self.labels(p.get("options"), "sli.plugin.options");
            return match crate::plugins::expand(&id, &options, group_labels) {
                Ok(text) => {
                    let q = Query {
                        text: text.trim().to_string(),
                        pos: id_pos,
                    };
                    self.check_query(&q, &format!("the query of SLI plugin `{id}`"));
                    Some(Sli::Raw { error_ratio: q })
                }
                Err(why) => {
                    self.err(id_pos, why);
                    None
                }
            };
        }
        if let Some(ev) = sli.get("events") {
            self.map(ev, "sli.events", &[style.error_query, style.total_query])?;
            let error = self.query(ev.get(style.error_query), ev, style.error_query);
            let total = self.query(ev.get(style.total_query), ev, style.total_query);
            return Some(Sli::Events {
                error: error?,
                total: total?,
            });
        }
        let raw = sli.get("raw")?;
        self.map(raw, "sli.raw", &[style.error_ratio_query])?;
        let q = self.query(
            raw.get(style.error_ratio_query),
            raw,
            style.error_ratio_query,
        )?;
        Some(Sli::Raw { error_ratio: q })
    }

    fn alert_settings(&mut self, node: Option<&Node>, what: &str) -> AlertSettings {
        let Some(node) = node else {
            return AlertSettings::default();
        };
        if self
            .map(node, what, &["disable", "labels", "annotations"])
            .is_none()
        {
            return AlertSettings::default();
        }
        AlertSettings {
            disable: self.bool(node.get("disable"), "disable"),
            labels: self.labels(node.get("labels"), "labels"),
            annotations: self.labels(node.get("annotations"), "annotations"),
            pos: node.pos,
        }
    }

    fn sloth_alerting(&mut self, node: Option<&Node>, style: Style) -> Alerting {
        let Some(node) = node else {
            return Alerting::default();
        };
        if self
            .map(
                node,
                "alerting",
                &[
                    "name",
                    "labels",
                    "annotations",
                    style.page_alert,
                    style.ticket_alert,
                ],
            )
            .is_none()
        {
            return Alerting::default();
        }
        let name = self.string(node.get("name"), "alerting.name");
        if let (Some(n), Some(p)) = (&name, node.get("name"))
            && !valid_metric_name(n)
        {
            self.err(p.pos, format!("alert name `{n}` is not a valid Prometheus alert name (letters, digits, `_` and `:`)"));
        }
        let mut page = self.alert_settings(node.get(style.page_alert), style.page_alert);
        let mut ticket = self.alert_settings(node.get(style.ticket_alert), style.ticket_alert);
        if page.pos == Pos::default() {
            page.pos = node.pos;
        }
        if ticket.pos == Pos::default() {
            ticket.pos = node.pos;
        }
        Alerting {
            name,
            labels: self.labels(node.get("labels"), "labels"),
            annotations: self.labels(node.get("annotations"), "annotations"),
            page,
            ticket,
        }
    }

    pub(crate) fn window(&mut self, d: &Node) -> Option<u64> {
        let text = d.as_str().unwrap_or("");
        match duration::parse(text) {
            Some(s) if (86_400..=366 * 86_400).contains(&s) && s % 60 == 0 => Some(s),
            Some(_) => {
                self.err(d.pos, format!("window `{text}` is out of range: use a duration between 1d and 366d (e.g. 7d, 28d, 30d, 4w)"));
                None
            }
            None => {
                self.err(
                    d.pos,
                    format!("unknown window `{text}`: use a duration such as 7d, 28d, 30d or 4w"),
                );
                None
            }
        }
    }
}

pub(crate) fn check_name(cx: &mut Cx, name: &str, pos: Pos, what: &str) {
    if what == "SLO name" && name.contains(':') {
        cx.err(
            pos,
            format!("{what} `{name}` must not contain `:`: redline names each objective of an OpenSLO SLO with several objectives `NAME:INDEX`, so no other SLO may be named so (Sloth's and OpenSLO's names do not allow `:` either)"),
        );
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\\' || c.is_control())
    {
        cx.err(
            pos,
            format!("{what} `{name}` must not contain spaces, quotes or backslashes"),
        );
    }
}

pub fn valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub fn valid_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses a window given on the command line or in `redline.toml`.
pub fn parse_window(text: &str) -> Result<u64, String> {
    match duration::parse(text) {
        Some(s) if (86_400..=366 * 86_400).contains(&s) && s % 60 == 0 => Ok(s),
        _ => Err(format!(
            "invalid window `{text}`: use a duration between 1d and 366d such as 7d, 28d or 30d"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Slo {
        let loaded = load("t.yaml", src, DEFAULT_WINDOW_SECS);
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        assert_eq!(loaded.slos.len(), 1);
        loaded.slos.into_iter().next().unwrap()
    }

    #[test]
    fn openslo_good_total_becomes_errors_and_bare_selectors_get_rates() {
        let slo = one(
            "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: api}\nspec:\n  service: web\n  timeWindow: [{duration: 28d, isRolling: true}]\n  objectives: [{targetPercent: 99.5}]\n  indicator:\n    spec:\n      ratioMetric:\n        counter: true\n        good: {metricSource: {type: Prometheus, spec: {query: 'ok_total'}}}\n        total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(all_total[{{.window}}]))'}}}\n",
        );
        assert_eq!(slo.window(), "28d");
        assert_eq!(slo.objective, 99.5);
        assert_eq!(slo.error_budget(), 0.005);
        let Sli::Events { error, total } = &slo.sli else {
            panic!("not events")
        };
        assert_eq!(total.at("5m"), "sum(rate(all_total[5m]))");
        assert_eq!(
            error.at("5m"),
            "(sum(rate(all_total[5m]))) - (sum(rate(ok_total[5m])))"
        );
    }

    #[test]
    fn openslo_indicator_ref_and_target_ratio() {
        let slo = one(
            "apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: errs}\nspec:\n  ratioMetric:\n    bad: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(e[{{.window}}]))'}}}\n    total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(t[{{.window}}]))'}}}\n---\napiVersion: openslo/v1\nkind: SLO\nmetadata: {name: api}\nspec:\n  service: web\n  indicatorRef: errs\n  objectives: [{target: 0.999}]\n",
        );
        assert_eq!(slo.objective, 99.9);
        assert_eq!(slo.window_secs, DEFAULT_WINDOW_SECS);
        assert!(matches!(slo.sli, Sli::Events { .. }));
    }

    #[test]
    fn sloth_kubernetes_resource_is_read() {
        let slo = one(
            "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: x}\nspec:\n  service: web\n  slos:\n    - name: avail\n      objective: 99\n      sli: {raw: {errorRatioQuery: 'sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))'}}\n",
        );
        assert_eq!(slo.id(), "web-avail");
        assert!(matches!(slo.sli, Sli::Raw { .. }));
    }

    #[test]
    fn problems_point_at_the_value() {
        let loaded = load(
            "t.yaml",
            "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: api}\nspec:\n  service: web\n  timeWindow: [{duration: 30x}]\n  objectives: [{target: 1.5}]\n  indicator: {spec: {thresholdMetric: {}}}\n",
            DEFAULT_WINDOW_SECS,
        );
        let msgs: Vec<String> = loaded.problems.iter().map(|p| p.to_string()).collect();
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("t.yaml:6:27: error: unknown window `30x`")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("t.yaml:7:25: error: `target` must be a ratio")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("only `ratioMetric`")),
            "{msgs:?}"
        );
        let loaded = load("t.yaml", "a: [1\n", DEFAULT_WINDOW_SECS);
        assert!(
            loaded.problems[0].message.starts_with("invalid YAML"),
            "{:?}",
            loaded.problems
        );
        let loaded = load("t.yaml", "", DEFAULT_WINDOW_SECS);
        assert!(loaded.problems[0].message.starts_with("empty file"));
    }

    #[test]
    fn window_placeholder_variants() {
        assert_eq!(
            fill_window("x[{{ .window }}] {{.other}}", "5m"),
            "x[5m] {{.other}}"
        );
        assert!(!has_window_placeholder("rate(x[5m])"));
    }
}
