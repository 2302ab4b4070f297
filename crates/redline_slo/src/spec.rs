//! The SLO model and its loaders: Sloth `prometheus/v1` files (and Sloth's
//! `PrometheusServiceLevel` Kubernetes resource), and OpenSLO v1 `SLO`
//! documents with a Prometheus ratio metric. Loading never stops at the
//! first problem: every problem is collected with its position.

use crate::duration;
use crate::yaml::{self, Node, Pos};
use std::collections::BTreeMap;
use std::fmt;

/// A problem in a spec file, at a position.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub path: String,
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.path, self.pos.line, self.pos.column, self.message
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Sloth,
    OpenSlo,
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
    pub format: Format,
    pub pos: Pos,
    pub service: String,
    pub name: String,
    pub name_pos: Pos,
    pub description: Option<String>,
    /// Percent, e.g. 99.9.
    pub objective: f64,
    pub objective_pos: Pos,
    pub window_secs: u64,
    pub window_pos: Pos,
    pub sli: Sli,
    pub labels: BTreeMap<String, String>,
    pub alerting: Alerting,
}

impl Slo {
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

pub const DEFAULT_WINDOW_SECS: u64 = 30 * 86_400;

/// Loads every SLO from one file's text. `default_window` applies to
/// Sloth files, which do not say their window.
pub fn load(path: &str, src: &str, default_window: u64) -> Loaded {
    let mut cx = Cx {
        path: path.to_string(),
        problems: Vec::new(),
        names: Vec::new(),
    };
    let docs = match yaml::parse(src) {
        Ok(d) => d,
        Err(e) => {
            cx.err(e.pos(), format!("invalid YAML: {}", e.message));
            return Loaded {
                slos: Vec::new(),
                problems: cx.problems,
                names: cx.names,
            };
        }
    };
    let mut slos = Vec::new();
    // OpenSLO SLI documents may be referenced by name from SLOs.
    let mut openslo_slis: BTreeMap<String, Node> = BTreeMap::new();
    for doc in &docs {
        if doc.get("apiVersion").and_then(Node::as_str) == Some("openslo/v1")
            && doc.get("kind").and_then(Node::as_str) == Some("SLI")
            && let Some(name) = doc
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Node::as_str)
        {
            openslo_slis.insert(name.to_string(), doc.clone());
        }
    }
    let non_empty: Vec<&Node> = docs.iter().filter(|d| !d.is_null()).collect();
    if non_empty.is_empty() {
        cx.err(
            Pos { line: 1, column: 1 },
            "empty file: expected a Sloth `version: prometheus/v1` spec or OpenSLO `SLO` documents"
                .into(),
        );
    }
    for doc in non_empty {
        if doc.as_map().is_none() {
            cx.err(
                doc.pos,
                format!(
                    "expected a mapping at the top of the document, found a {}",
                    doc.kind()
                ),
            );
            continue;
        }
        let api = doc.get("apiVersion").and_then(Node::as_str);
        if let Some(v) = doc.get("version") {
            if v.as_str() != Some("prometheus/v1") {
                cx.err(
                    v.pos,
                    format!(
                        "unsupported Sloth spec version `{}`: redline reads `prometheus/v1`",
                        v.as_str().unwrap_or("?")
                    ),
                );
                continue;
            }
            cx.sloth(doc, default_window, &mut slos);
        } else if let Some(api) = api {
            let kind = doc.get("kind").and_then(Node::as_str).unwrap_or("");
            match (api, kind) {
                ("sloth.slok.dev/v1", "PrometheusServiceLevel") => match doc.get("spec") {
                    Some(spec) => cx.sloth(spec, default_window, &mut slos),
                    None => cx.err(doc.pos, "PrometheusServiceLevel without `spec`".into()),
                },
                ("openslo/v1", "SLO") => cx.openslo(doc, &openslo_slis, &mut slos),
                ("openslo/v1", _) => {} // Service, SLI, AlertPolicy...: nothing to check here
                (other, _) => {
                    let p = doc.get("apiVersion").map(|n| n.pos).unwrap_or(doc.pos);
                    cx.err(
                        p,
                        format!("unsupported apiVersion `{other}`: redline reads Sloth `prometheus/v1`, `sloth.slok.dev/v1` and `openslo/v1`"),
                    );
                }
            }
        } else {
            cx.err(
                doc.pos,
                "not an SLO spec: expected Sloth's `version: prometheus/v1` or OpenSLO's `apiVersion: openslo/v1`".into(),
            );
        }
    }
    Loaded {
        slos,
        problems: cx.problems,
        names: cx.names,
    }
}

/// What one file holds: its valid SLOs, its problems, and the (service,
/// name) of every SLO, valid or not, for the duplicate check.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub slos: Vec<Slo>,
    pub problems: Vec<Problem>,
    pub names: Vec<SloName>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SloName {
    pub service: String,
    pub name: String,
    pub path: String,
    pub pos: Pos,
}

struct Cx {
    path: String,
    problems: Vec<Problem>,
    names: Vec<SloName>,
}

fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
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

impl Cx {
    fn err(&mut self, pos: Pos, message: String) {
        self.problems.push(Problem {
            path: self.path.clone(),
            pos,
            message,
        });
    }

    /// Reports keys of a mapping that are not in `allowed`; returns the map
    /// or reports that the node is not a mapping.
    fn map<'n>(
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
            if !allowed.contains(&key) {
                let hint = match closest(key, allowed) {
                    Some(c) => format!(" (did you mean `{c}`?)"),
                    None => format!(" (expected one of: {})", allowed.join(", ")),
                };
                self.err(k.pos, format!("unknown key `{key}` in {what}{hint}"));
            }
        }
        Some(entries)
    }

    fn string(&mut self, node: Option<&Node>, what: &str) -> Option<String> {
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

    fn required_string(&mut self, parent: &Node, key: &str, what: &str) -> Option<(String, Pos)> {
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

    fn labels(&mut self, node: Option<&Node>, what: &str) -> BTreeMap<String, String> {
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

    fn bool(&mut self, node: Option<&Node>, what: &str) -> bool {
        match node.map(|n| (n, n.as_str())) {
            None => false,
            Some((_, Some("true"))) => true,
            Some((_, Some("false"))) => false,
            Some((n, _)) => {
                self.err(n.pos, format!("`{what}` must be true or false"));
                false
            }
        }
    }

    fn name(&mut self, service: Option<&str>, name: &str, pos: Pos) {
        if let Some(service) = service {
            self.names.push(SloName {
                service: service.to_string(),
                name: name.to_string(),
                path: self.path.clone(),
                pos,
            });
        }
    }

    fn raw_query(&mut self, node: Option<&Node>, parent: &Node, what: &str) -> Option<Query> {
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
    fn query(&mut self, node: Option<&Node>, parent: &Node, what: &str) -> Option<Query> {
        let q = self.raw_query(node, parent, what)?;
        self.check_query(&q, what);
        Some(q)
    }

    fn check_query(&mut self, q: &Query, what: &str) {
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

    fn sloth(&mut self, doc: &Node, default_window: u64, out: &mut Vec<Slo>) {
        let Some(_) = self.map(
            doc,
            "the spec",
            &[
                "version",
                "service",
                "labels",
                "slos",
                "apiVersion",
                "kind",
                "metadata",
                "spec",
            ],
        ) else {
            return;
        };
        let service = self.required_string(doc, "service", "service").map(|s| s.0);
        if let Some(s) = &service {
            check_name(
                self,
                s,
                doc.get("service").map(|n| n.pos).unwrap_or(doc.pos),
                "service",
            );
        }
        let common_labels = self.labels(doc.get("labels"), "labels");
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
            self.err(slos.pos, "`slos` is empty".into());
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
            let sli = match item.get("sli") {
                None => {
                    self.err(item.pos, "missing `sli` (`events` with error_query and total_query, or `raw` with error_ratio_query)".into());
                    None
                }
                Some(sli) => self.sloth_sli(sli),
            };
            let alerting = self.sloth_alerting(item.get("alerting"));
            if let (Some(service), Some((name, name_pos)), Some(objective), Some(sli)) =
                (&service, name, objective, sli)
            {
                out.push(Slo {
                    path: self.path.clone(),
                    format: Format::Sloth,
                    pos: item.pos,
                    service: service.clone(),
                    name,
                    name_pos,
                    description,
                    objective,
                    objective_pos: item.get("objective").map(|n| n.pos).unwrap_or(item.pos),
                    window_secs: default_window,
                    window_pos: item.pos,
                    sli,
                    labels,
                    alerting,
                });
            }
        }
    }

    fn percent(&mut self, n: &Node) -> Option<f64> {
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

    fn sloth_sli(&mut self, sli: &Node) -> Option<Sli> {
        self.map(sli, "sli", &["events", "raw", "plugin"])?;
        let present: Vec<&str> = ["events", "raw", "plugin"]
            .into_iter()
            .filter(|k| sli.get(k).is_some())
            .collect();
        if present.len() != 1 {
            self.err(
                sli.pos,
                "`sli` needs exactly one of `events` or `raw`".into(),
            );
            return None;
        }
        if let Some(p) = sli.get("plugin") {
            self.err(p.pos, "SLI plugins are not supported by redline: write the SLI as `events` or `raw` queries".into());
            return None;
        }
        if let Some(ev) = sli.get("events") {
            self.map(ev, "sli.events", &["error_query", "total_query"])?;
            let error = self.query(ev.get("error_query"), ev, "error_query");
            let total = self.query(ev.get("total_query"), ev, "total_query");
            return Some(Sli::Events {
                error: error?,
                total: total?,
            });
        }
        let raw = sli.get("raw")?;
        self.map(raw, "sli.raw", &["error_ratio_query"])?;
        let q = self.query(raw.get("error_ratio_query"), raw, "error_ratio_query")?;
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

    fn sloth_alerting(&mut self, node: Option<&Node>) -> Alerting {
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
                    "page_alert",
                    "ticket_alert",
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
        let mut page = self.alert_settings(node.get("page_alert"), "page_alert");
        let mut ticket = self.alert_settings(node.get("ticket_alert"), "ticket_alert");
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

    fn openslo(&mut self, doc: &Node, slis: &BTreeMap<String, Node>, out: &mut Vec<Slo>) {
        if self
            .map(
                doc,
                "the SLO document",
                &["apiVersion", "kind", "metadata", "spec"],
            )
            .is_none()
        {
            return;
        }
        let Some(meta) = doc.get("metadata") else {
            self.err(doc.pos, "missing `metadata`".into());
            return;
        };
        self.map(
            meta,
            "metadata",
            &["name", "displayName", "labels", "annotations", "namespace"],
        );
        let name = self.required_string(meta, "name", "metadata.name");
        if let Some((n, p)) = &name {
            check_name(self, n, *p, "SLO name");
        }
        let mut labels = BTreeMap::new();
        if let Some(l) = meta.get("labels").and_then(Node::as_map) {
            // OpenSLO labels may be lists of values; keep the string ones.
            for (k, v) in l {
                if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                    labels.insert(k.to_string(), v.to_string());
                }
            }
        }
        let Some(spec) = doc.get("spec") else {
            self.err(doc.pos, "missing `spec`".into());
            return;
        };
        self.map(
            spec,
            "spec",
            &[
                "description",
                "service",
                "indicator",
                "indicatorRef",
                "timeWindow",
                "budgetingMethod",
                "objectives",
                "alertPolicies",
            ],
        );
        let service = self.required_string(spec, "service", "spec.service");
        if let Some((s, p)) = &service {
            check_name(self, s, *p, "service");
        }
        if let Some((n, p)) = &name {
            self.name(service.as_ref().map(|s| s.0.as_str()), n, *p);
        }
        let description = self.string(spec.get("description"), "description");
        if let Some(b) = spec.get("budgetingMethod")
            && b.as_str() != Some("Occurrences")
        {
            self.err(
                b.pos,
                format!(
                    "budgetingMethod `{}` is not supported: redline computes `Occurrences` budgets",
                    b.as_str().unwrap_or("?")
                ),
            );
        }
        // Window.
        let mut window = None;
        let mut window_pos = spec.pos;
        match spec.get("timeWindow").map(|t| (t, t.as_seq())) {
            None => window = Some(DEFAULT_WINDOW_SECS),
            Some((_, Some([w]))) => {
                self.map(w, "timeWindow", &["duration", "isRolling", "calendar"]);
                if let Some(c) = w.get("calendar") {
                    self.err(c.pos, "calendar-aligned windows are not supported: use a rolling window (`isRolling: true`)".into());
                }
                if let Some(r) = w.get("isRolling")
                    && r.as_str() == Some("false")
                {
                    self.err(
                        r.pos,
                        "calendar-aligned windows are not supported: use `isRolling: true`".into(),
                    );
                }
                match w.get("duration") {
                    Some(d) => {
                        window_pos = d.pos;
                        window = self.window(d);
                    }
                    None => self.err(w.pos, "missing `duration` in timeWindow".into()),
                }
            }
            Some((t, _)) => self.err(
                t.pos,
                "`timeWindow` must be a list with exactly one window".into(),
            ),
        }
        // Objective.
        let mut objective = None;
        let mut objective_pos = spec.pos;
        match spec.get("objectives").map(|o| (o, o.as_seq())) {
            None => self.err(spec.pos, "missing `objectives`".into()),
            Some((_, Some([o]))) => {
                self.map(o, "an objective", &["displayName", "target", "targetPercent", "op", "value", "timeSliceTarget", "timeSliceWindow", "indicator", "indicatorRef", "compositeWeight"]);
                if let Some(t) = o.get("target") {
                    objective_pos = t.pos;
                    match t.as_str().and_then(|s| s.parse::<f64>().ok()) {
                        Some(v) if v > 0.0 && v < 1.0 => objective = Some((v * 100.0 * 1e9).round() / 1e9),
                        _ => self.err(t.pos, "`target` must be a ratio strictly between 0 and 1 (e.g. 0.999)".into()),
                    }
                } else if let Some(t) = o.get("targetPercent") {
                    objective_pos = t.pos;
                    objective = self.percent(t);
                } else {
                    self.err(o.pos, "missing `target` (e.g. 0.999) in the objective".into());
                }
            }
            Some((o, _)) => self.err(o.pos, "redline supports exactly one objective per SLO: split the others into their own SLOs".into()),
        }
        // Indicator.
        let indicator = match (spec.get("indicator"), spec.get("indicatorRef")) {
            (Some(i), _) => Some(i.clone()),
            (None, Some(r)) => match r.as_str().and_then(|n| slis.get(n)) {
                Some(doc) => Some(doc.clone()),
                None => {
                    self.err(r.pos, format!("indicatorRef `{}` does not name an OpenSLO `SLI` document in this file", r.as_str().unwrap_or("?")));
                    None
                }
            },
            (None, None) => {
                self.err(spec.pos, "missing `indicator` or `indicatorRef`".into());
                None
            }
        };
        let sli = indicator.and_then(|i| self.openslo_indicator(&i));
        if let (
            Some((name, name_pos)),
            Some((service, _)),
            Some(window),
            Some(objective),
            Some(sli),
        ) = (name, service, window, objective, sli)
        {
            out.push(Slo {
                path: self.path.clone(),
                format: Format::OpenSlo,
                pos: doc.pos,
                service,
                name,
                name_pos,
                description,
                objective,
                objective_pos,
                window_secs: window,
                window_pos,
                sli,
                labels,
                alerting: Alerting::default(),
            });
        }
    }

    fn window(&mut self, d: &Node) -> Option<u64> {
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

    fn openslo_indicator(&mut self, ind: &Node) -> Option<Sli> {
        let spec = match ind.get("spec") {
            Some(s) => s,
            None => {
                self.err(ind.pos, "the indicator has no `spec`".into());
                return None;
            }
        };
        let Some(ratio) = spec.get("ratioMetric") else {
            let p = spec
                .get("thresholdMetric")
                .map(|n| n.pos)
                .unwrap_or(spec.pos);
            self.err(p, "only `ratioMetric` indicators are supported".into());
            return None;
        };
        self.map(
            ratio,
            "ratioMetric",
            &["counter", "good", "bad", "total", "rawType", "raw"],
        );
        let total = self.openslo_query(ratio.get("total"), ratio, "total");
        let good = ratio.get("good");
        let bad = ratio.get("bad");
        if let Some(raw) = ratio.get("raw") {
            let q = self.openslo_query(Some(raw), ratio, "raw")?;
            if ratio.get("rawType").and_then(Node::as_str) == Some("success") {
                return Some(Sli::Raw {
                    error_ratio: Query {
                        text: format!("1 - ({})", q.text),
                        pos: q.pos,
                    },
                });
            }
            return Some(Sli::Raw { error_ratio: q });
        }
        let total = total?;
        match (good, bad) {
            (_, Some(b)) => {
                let bad = self.openslo_query(Some(b), ratio, "bad")?;
                Some(Sli::Events { error: bad, total })
            }
            (Some(g), None) => {
                let good = self.openslo_query(Some(g), ratio, "good")?;
                Some(Sli::Events {
                    error: Query {
                        text: format!("({}) - ({})", total.text, good.text),
                        pos: good.pos,
                    },
                    total,
                })
            }
            (None, None) => {
                self.err(
                    ratio.pos,
                    "ratioMetric needs `good` or `bad` next to `total`".into(),
                );
                None
            }
        }
    }

    /// `{metricSource: {type: Prometheus, spec: {query: ...}}}`. A bare
    /// counter selector becomes `sum(rate(SELECTOR[{{.window}}]))`.
    fn openslo_query(&mut self, node: Option<&Node>, parent: &Node, what: &str) -> Option<Query> {
        let Some(node) = node else {
            self.err(parent.pos, format!("missing `{what}`"));
            return None;
        };
        let Some(src) = node.get("metricSource") else {
            self.err(node.pos, format!("`{what}` needs a `metricSource`"));
            return None;
        };
        if let Some(t) = src.get("type")
            && t.as_str() != Some("Prometheus")
        {
            self.err(
                t.pos,
                format!(
                    "metricSource type `{}` is not supported: redline reads `Prometheus`",
                    t.as_str().unwrap_or("?")
                ),
            );
            return None;
        }
        let Some(spec) = src.get("spec") else {
            self.err(src.pos, "metricSource needs a `spec` with a `query`".into());
            return None;
        };
        let q = self.raw_query(spec.get("query"), spec, "query")?;
        if !has_window_placeholder(&q.text)
            && let Ok(promql_parser::parser::Expr::VectorSelector(_)) =
                crate::check::parse_promql(&q.text)
        {
            return Some(Query {
                text: format!("sum(rate({}[{{{{.window}}}}]))", q.text),
                pos: q.pos,
            });
        }
        self.check_query(&q, "query");
        Some(q)
    }
}

fn check_name(cx: &mut Cx, name: &str, pos: Pos, what: &str) {
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
            "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: x}\nspec:\n  service: web\n  slos:\n    - name: avail\n      objective: 99\n      sli: {raw: {error_ratio_query: 'sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))'}}\n",
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
