//! Side by side with the real Sloth (v0.16, installed by scripts/test.sh):
//! the specs in tests/fixtures/sloth_compat/ (event SLIs, a raw SLI,
//! several SLOs of one service, spec labels, page and ticket alerts, a
//! disabled alert) go through both `sloth generate` and `redline slo
//! generate`; one Prometheus, backfilled with generated traffic whose daily
//! wave swings from 40 to 1900 requests a minute, evaluates every rule of
//! both rule sets at many instants, and the test compares:
//!
//! - every recorded series with its counterpart (same name, labels mapped
//!   `redline_*` → `sloth_*`): identical values at every instant, except
//!   the whole-window ratio of an event SLI (and the two meta rules that
//!   read it), where redline divides sums and Sloth averages 5m ratios:
//!   there redline must equal the generator's exact ratio, Sloth the
//!   generator's average, and the gap between them is measured and held to
//!   the number the README states;
//! - every alert: the same label sets firing at the same instants.
//!
//! How rules are evaluated: Prometheus only evaluates rules as time goes
//! by, and the data lies in the past. So each rule's expression is asked
//! as a range query (explicit start, end and step: no clock is involved),
//! with every recorded series it reads replaced by the rule that records
//! it — `label_replace` calls adding that rule's labels, and a range
//! selector `x[30d]` becoming the subquery `(…)[30d:1m]`, a rule
//! evaluated every minute (Prometheus's default evaluation interval).
//! Chains (the window ratio read by `period_burn_rate`, read in turn by
//! `period_error_budget_remaining`) are substituted recursively, so each
//! rule sees what its dependencies would have recorded.
//!
//! Without `sloth`, `prometheus` or `promtool` the test says so and passes,
//! unless REDLINE_REQUIRE_TOOLS is set (scripts/test.sh sets it), where a
//! missing tool fails it.

mod common;
use common::{Prometheus, SLOTH_VERSION, backfill, slo, tool};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::f64::consts::PI;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600;
const DAYS: i64 = 36;
const MINUTES: usize = (DAYS * 1440) as usize;
const DAY: i64 = 86_400;
/// The modelled rule evaluation interval (the step of every subquery).
const EVAL_STEP: &str = "1m";

/// What the README says about the gap between redline's whole-window ratio
/// and Sloth's on this test's data (in points of error budget): kept here
/// so that the test fails when the docs and the measurement part.
const DOCUMENTED_GAP_AVAILABILITY: f64 = 129.5;
const DOCUMENTED_GAP_LATENCY: f64 = 26.8;

fn at(day: i64, hour: i64, minute: i64) -> i64 {
    START + day * DAY + hour * 3_600 + minute * 60
}

fn minute_time(m: usize) -> i64 {
    START + 60 * m as i64
}

// ---------------------------------------------------------------- tools

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

// ----------------------------------------------------------------- data

/// Requests of the `shop` job in minute `m`: a daily wave from 100 to 1900
/// a minute on weekdays, 40 to 760 at weekends.
fn shop_requests(m: usize) -> f64 {
    let wave = 1000.0 + 900.0 * (2.0 * PI * m as f64 / 1440.0).sin();
    if matches!((m / 1440) % 7, 5 | 6) {
        wave * 0.4
    } else {
        wave
    }
}

/// Share of failed `shop` requests: a nightly batch fails 0.55% in the
/// quiet hours (under 400 requests a minute), 0.02% otherwise; a slow leak
/// of 0.35% on days 31–33 (ticket alerts); 5% for 45 minutes on day 35
/// (page). No ratio sits on an alert threshold (0.6% is the 6x page of a
/// 99.9% SLO), where float rounding of the budget could decide.
fn shop_error_ratio(m: usize) -> f64 {
    let t = minute_time(m);
    if t >= at(35, 10, 0) && t < at(35, 10, 45) {
        0.05
    } else if t >= at(31, 0, 0) && t < at(34, 0, 0) {
        0.0035
    } else if shop_requests(m) < 400.0 {
        0.0055
    } else {
        0.0002
    }
}

/// Share of `shop` requests slower than 250ms: 1.5% at peak load (over
/// 1600 a minute), 0.3% otherwise; 2.5% for a day from day 32 12:00
/// (ticket), 20% for 90 minutes on day 34 (page).
fn shop_slow_ratio(m: usize) -> f64 {
    let t = minute_time(m);
    if t >= at(34, 18, 0) && t < at(34, 19, 30) {
        0.2
    } else if t >= at(32, 12, 0) && t < at(33, 12, 0) {
        0.025
    } else if shop_requests(m) > 1600.0 {
        0.015
    } else {
        0.003
    }
}

/// Satisfaction of wifi client `k` at minute `m`: 0.99 − 0.01 k, 0.04 less
/// from midnight to 06:00, 0.15 from 02:00 to 03:30 on day 35 (page).
fn wifi_satisfaction(m: usize, k: usize) -> f64 {
    let t = minute_time(m);
    if t >= at(35, 2, 0) && t < at(35, 3, 30) {
        return 0.15;
    }
    let night = (m % 1440) < 360;
    0.99 - 0.01 * k as f64 - if night { 0.04 } else { 0.0 }
}

/// Cumulative (errors, total) of one event SLI: element m is the counters'
/// value at START + 60 m.
struct Events {
    errors: Vec<f64>,
    total: Vec<f64>,
}

impl Events {
    fn new(ratio: impl Fn(usize) -> f64) -> Events {
        let mut errors = vec![0.0];
        let mut total = vec![0.0];
        for m in 0..MINUTES {
            let r = shop_requests(m);
            errors.push(errors[m] + r * ratio(m));
            total.push(total[m] + r);
        }
        Events { errors, total }
    }

    fn index(t: i64) -> usize {
        ((t - START) / 60) as usize
    }

    /// The exact error ratio over `secs` ending at `t`.
    fn ratio(&self, t: i64, secs: i64) -> f64 {
        let m = Self::index(t);
        let k = (secs / 60) as usize;
        (self.errors[m] - self.errors[m - k]) / (self.total[m] - self.total[m - k])
    }

    /// The average of the 5m ratios over `secs` ending at `t`, one a minute
    /// (what Sloth's window rule records when rules run every minute).
    fn averaged_ratio(&self, t: i64, secs: i64) -> f64 {
        let n = secs / 60;
        (0..=n).map(|i| self.ratio(t - i * 60, 300)).sum::<f64>() / (n + 1) as f64
    }
}

fn openmetrics() -> String {
    let mut s = String::with_capacity(40 << 20);
    let mut series = |name: &str, labels: &str, value: &dyn Fn(usize) -> f64| {
        for m in 0..=MINUTES {
            s.push_str(&format!(
                "{name}{{{labels}}} {:.6} {}\n",
                value(m),
                minute_time(m)
            ));
        }
    };
    // Cumulative counters of the shop job, per minute.
    let mut ok = vec![0.0];
    let mut e500 = vec![0.0];
    let mut e429 = vec![0.0];
    let mut fast = vec![0.0];
    let mut all = vec![0.0];
    for m in 0..MINUTES {
        let r = shop_requests(m);
        let e = r * shop_error_ratio(m);
        ok.push(ok[m] + r - e);
        e500.push(e500[m] + 0.75 * e);
        e429.push(e429[m] + 0.25 * e);
        fast.push(fast[m] + r * (1.0 - shop_slow_ratio(m)));
        all.push(all[m] + r);
    }
    let c = "http_request_duration_seconds_count";
    series(c, "job=\"shop\",code=\"200\"", &|m| ok[m]);
    series(c, "job=\"shop\",code=\"500\"", &|m| e500[m]);
    series(c, "job=\"shop\",code=\"429\"", &|m| e429[m]);
    let b = "http_request_duration_seconds_bucket";
    series(b, "job=\"shop\",le=\"0.25\"", &|m| fast[m]);
    series(b, "job=\"shop\",le=\"+Inf\"", &|m| all[m]);
    for k in 0..3 {
        series(
            "wifi_client_satisfaction_ratio",
            &format!("client=\"c{k}\""),
            &|m| wifi_satisfaction(m, k),
        );
    }
    s.push_str("# EOF\n");
    s
}

// ----------------------------------------------------------- prometheus

impl Prometheus {
    /// A range query; every series as (labels, [(time, value)]).
    fn range(&self, query: &str, start: i64, end: i64, step: i64) -> Vec<Series> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(600)))
            .build()
            .into();
        let url = format!("http://127.0.0.1:{}/api/v1/query_range", self.port);
        let (s, e, st) = (start.to_string(), end.to_string(), step.to_string());
        let mut resp = agent
            .post(&url)
            .send_form([
                ("query", query),
                ("start", s.as_str()),
                ("end", e.as_str()),
                ("step", st.as_str()),
            ])
            .unwrap_or_else(|e| panic!("query failed ({e}): {query}"));
        let body = resp
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .unwrap();
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(v["status"], "success", "{query}\n{body}");
        v["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let labels = r["metric"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect();
                let points = r["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        let t = p[0].as_f64().unwrap().round() as i64;
                        let x: f64 = p[1].as_str().unwrap().parse().unwrap();
                        (t, x)
                    })
                    .collect();
                (labels, points)
            })
            .collect()
    }
}

type Labels = BTreeMap<String, String>;
type Series = (Labels, Vec<(i64, f64)>);

// ---------------------------------------------------------------- rules

#[derive(Debug, Clone)]
struct Rule {
    record: Option<String>,
    alert: Option<String>,
    expr: String,
    labels: Labels,
    for_: Option<String>,
}

impl Rule {
    fn name(&self) -> &str {
        self.record.as_deref().or(self.alert.as_deref()).unwrap()
    }
}

fn load_rules(path: &Path) -> Vec<Rule> {
    let text = std::fs::read_to_string(path).unwrap();
    let docs = redline_yaml::parse(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    let mut out = Vec::new();
    for doc in &docs {
        let v = redline_yaml::to_json(doc).unwrap();
        for g in v["groups"].as_array().unwrap() {
            for r in g["rules"].as_array().unwrap() {
                let s = |k: &str| r[k].as_str().map(str::to_string);
                let labels = r["labels"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(Rule {
                    record: s("record"),
                    alert: s("alert"),
                    expr: s("expr").unwrap(),
                    labels,
                    for_: s("for"),
                });
            }
        }
    }
    assert!(!out.is_empty(), "{}: no rules", path.display());
    out
}

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b':'
}

/// End of the quoted string that starts at `i`.
fn string_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() && b[j] != q {
        if b[j] == b'\\' && q != b'`' {
            j += 1;
        }
        j += 1;
    }
    j + 1
}

fn promql_string(s: &str) -> String {
    // label_replace expands `$1`: a literal `$` is `$$`.
    serde_json::to_string(&s.replace('$', "$$")).unwrap()
}

/// `expr` with every recorded series it reads replaced by the rules that
/// record it (see the module comment).
fn expand(expr: &str, rules: &[Rule], depth: usize) -> String {
    assert!(
        depth < 10,
        "recording rules read each other in a cycle: {expr}"
    );
    let b = expr.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b'"' | b'\'' | b'`') {
            let j = string_end(b, i).min(b.len());
            out.push_str(&expr[i..j]);
            i = j;
            continue;
        }
        let starts_ident = (c.is_ascii_alphabetic() || c == b'_' || c == b':')
            && (i == 0 || !ident_char(b[i - 1]));
        if !starts_ident {
            let ch = expr[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        let mut j = i;
        while j < b.len() && ident_char(b[j]) {
            j += 1;
        }
        let name = &expr[i..j];
        if !rules.iter().any(|r| r.record.as_deref() == Some(name)) {
            out.push_str(name);
            i = j;
            continue;
        }
        // A recorded series: its matchers (all `label="value"` in
        // generated rules) and an optional range.
        let mut matchers = Vec::new();
        if j < b.len() && b[j] == b'{' {
            let mut k = j + 1;
            loop {
                while k < b.len() && (b[k] == b' ' || b[k] == b',' || b[k] == b'\n') {
                    k += 1;
                }
                if b[k] == b'}' {
                    k += 1;
                    break;
                }
                let l0 = k;
                while ident_char(b[k]) {
                    k += 1;
                }
                let label = &expr[l0..k];
                assert_eq!(b[k], b'=', "only `=` matchers are expected: {expr}");
                assert_ne!(b[k + 1], b'~', "only `=` matchers are expected: {expr}");
                let v0 = k + 1;
                let v1 = string_end(b, v0);
                let value: String = serde_json::from_str(&expr[v0..v1]).unwrap();
                matchers.push((label.to_string(), value));
                k = v1;
            }
            j = k;
        }
        let mut range = None;
        if j < b.len() && b[j] == b'[' {
            let k = j + expr[j..].find(']').unwrap();
            range = Some(expr[j + 1..k].to_string());
            j = k + 1;
        }
        let matching: Vec<String> = rules
            .iter()
            .filter(|r| {
                r.record.as_deref() == Some(name)
                    && matchers.iter().all(|(l, v)| r.labels.get(l) == Some(v))
            })
            .map(|r| recorded(r, rules, depth + 1))
            .collect();
        assert!(
            !matching.is_empty(),
            "`{}` reads no recording rule",
            &expr[i..j]
        );
        // A single rule is a `label_replace(...)` call, which needs no
        // parentheses (and must not get any after `group_left`, where they
        // would read as its label list).
        let instant = if matching.len() == 1 {
            matching[0].clone()
        } else {
            format!("({})", matching.join(" or "))
        };
        match range {
            None => out.push_str(&instant),
            Some(r) => out.push_str(&format!("{instant}[{r}:{EVAL_STEP}]")),
        }
        i = j;
    }
    out
}

/// What a recording rule records, as one expression.
fn recorded(r: &Rule, rules: &[Rule], depth: usize) -> String {
    let mut e = format!(
        "label_replace(({}), \"__name__\", {}, \"\", \"\")",
        expand(&r.expr, rules, depth),
        promql_string(r.name())
    );
    for (k, v) in &r.labels {
        e = format!(
            "label_replace({e}, \"{k}\", {}, \"\", \"\")",
            promql_string(v)
        );
    }
    e
}

/// redline's names for Sloth's labels and metrics, and back.
fn to_sloth(labels: &Labels) -> Labels {
    labels
        .iter()
        .map(|(k, v)| {
            let k = match k.as_str() {
                "redline_id" => "sloth_id",
                "redline_service" => "sloth_service",
                "redline_slo" => "sloth_slo",
                "redline_window" => "sloth_window",
                "redline_severity" => "sloth_severity",
                "redline_objective" => "sloth_objective",
                other => other,
            };
            let v = if k == "__name__" && v == "redline_slo_info" {
                "sloth_slo_info".to_string()
            } else {
                v.clone()
            };
            (k.to_string(), v)
        })
        .collect()
}

/// Labels that only one tool records, by design (README, "How the names
/// map to Sloth's"): Sloth's info metric names its mode, spec format and
/// version; redline's names the window.
fn comparable(mut labels: Labels) -> Labels {
    if labels.get("__name__").map(String::as_str) == Some("sloth_slo_info") {
        for k in ["sloth_mode", "sloth_spec", "sloth_version", "sloth_window"] {
            labels.remove(k);
        }
    }
    labels
}

/// Series that only redline records (what its window ratio sums).
const REDLINE_ONLY: [&str; 2] = ["slo:sli_errors:rate5m", "slo:sli_total:rate5m"];

/// Rules whose value reads the whole-window ratio of an event SLI.
fn window_dependent(name: &str) -> bool {
    name == "slo:sli_error:ratio_rate30d"
        || name == "slo:period_burn_rate:ratio"
        || name == "slo:period_error_budget_remaining:ratio"
}

struct Evaluated {
    /// (comparable labels incl. `__name__`) → points.
    recorded: BTreeMap<Labels, Vec<(i64, f64)>>,
    /// (comparable alert labels incl. `alertname`) → firing instants.
    alerts: BTreeMap<Labels, BTreeSet<i64>>,
    /// Alert name → `for`.
    alert_for: BTreeMap<String, Option<String>>,
}

const EVAL_FROM: i64 = START + 32 * DAY;
const EVAL_TO: i64 = START + 35 * DAY + 23 * 3_600;

fn evaluate(prom: &Prometheus, rules: &[Rule], redline: bool) -> Evaluated {
    let mut ev = Evaluated {
        recorded: BTreeMap::new(),
        alerts: BTreeMap::new(),
        alert_for: BTreeMap::new(),
    };
    let map = |l: &Labels| comparable(if redline { to_sloth(l) } else { l.clone() });
    for r in rules {
        if r.record.is_some() {
            let q = recorded(r, rules, 0);
            // Rules that read 30 days of a recorded series: every hour; the
            // others every 10 minutes.
            let step = if q.contains(&format!(":{EVAL_STEP}]")) {
                3_600
            } else {
                600
            };
            let t0 = Instant::now();
            for (labels, points) in prom.range(&q, EVAL_FROM, EVAL_TO, step) {
                let key = map(&labels);
                assert!(
                    ev.recorded.insert(key.clone(), points).is_none(),
                    "two rules record {key:?}"
                );
            }
            if t0.elapsed() > Duration::from_secs(5) {
                eprintln!("{} took {:?}", r.name(), t0.elapsed());
            }
        } else {
            let name = r.name().to_string();
            ev.alert_for.insert(name.clone(), r.for_.clone());
            let q = expand(&r.expr, rules, 0);
            for (mut labels, points) in prom.range(&q, EVAL_FROM, EVAL_TO, 300) {
                labels.remove("__name__");
                labels.extend(r.labels.clone());
                labels.insert("alertname".into(), name.clone());
                let firing: BTreeSet<i64> = points.iter().map(|(t, _)| *t).collect();
                ev.alerts.entry(map(&labels)).or_default().extend(firing);
            }
        }
    }
    ev
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-12
}

#[test]
fn redline_and_sloth_record_and_alert_alike() {
    let (Some(sloth), Some(prometheus), Some(promtool)) =
        (tool("sloth"), tool("prometheus"), tool("promtool"))
    else {
        return;
    };
    let version = run(Command::new(&sloth).arg("version"));
    assert!(
        version.contains(SLOTH_VERSION),
        "sloth says it is {version}; scripts/test.sh pins {SLOTH_VERSION}"
    );
    let dir = std::env::temp_dir().join(format!("redline-sloth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // Both rule sets from the same specs.
    let specs = ["shop.yaml", "wifi.yaml"].map(|f| {
        format!(
            "{}/tests/fixtures/sloth_compat/{f}",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let mut sloth_rules = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let out = dir.join(format!("sloth-{i}.yaml"));
        run(Command::new(&sloth)
            .args(["generate", "-i", spec, "-o"])
            .arg(&out));
        sloth_rules.extend(load_rules(&out));
    }
    let out = dir.join("redline.yaml");
    let (code, _, err) = slo(&[
        "generate",
        &specs[0],
        &specs[1],
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let redline_rules = load_rules(&out);

    // One TSDB with the generated traffic.
    let t0 = Instant::now();
    let tsdb = backfill(promtool.to_str().unwrap(), &dir, &openmetrics());
    eprintln!("backfilled {DAYS} days in {:?}", t0.elapsed());
    let prom = Prometheus::start_with(&prometheus, &dir, &tsdb, &["--query.timeout=5m"]);

    let t0 = Instant::now();
    let s = evaluate(&prom, &sloth_rules, false);
    eprintln!("evaluated Sloth's rules in {:?}", t0.elapsed());
    let t0 = Instant::now();
    let r = evaluate(&prom, &redline_rules, true);
    eprintln!("evaluated redline's rules in {:?}", t0.elapsed());

    compare_recorded(&s, &r);
    compare_alerts(&s, &r);
}

fn compare_recorded(s: &Evaluated, r: &Evaluated) {
    let availability = Events::new(shop_error_ratio);
    let latency = Events::new(shop_slow_ratio);
    let mut gaps: BTreeMap<String, f64> = BTreeMap::new();
    let mut compared = 0;
    for (key, rp) in &r.recorded {
        let name = key["__name__"].as_str();
        if REDLINE_ONLY.contains(&name) {
            continue;
        }
        let sp = s
            .recorded
            .get(key)
            .unwrap_or_else(|| panic!("redline records {key:?}, Sloth has no such series"));
        assert!(!rp.is_empty(), "{key:?}: no points");
        let slo = key["sloth_slo"].as_str();
        let events = match slo {
            "requests-availability" => Some(&availability),
            "requests-latency" => Some(&latency),
            _ => None,
        };
        let sm: BTreeMap<i64, f64> = sp.iter().copied().collect();
        if let (true, Some(ev)) = (window_dependent(name), events) {
            let budget = if slo == "requests-availability" {
                0.001
            } else {
                0.01
            };
            // In points of budget: the ratio / budget, the other two are
            // already in budget units.
            let scale = if name == "slo:sli_error:ratio_rate30d" {
                100.0 / budget
            } else {
                100.0
            };
            for (t, x) in rp {
                let y = sm
                    .get(t)
                    .unwrap_or_else(|| panic!("{key:?}: Sloth has no value at {t}"));
                let gap = (x - y).abs() * scale;
                let g = gaps.entry(slo.to_string()).or_default();
                *g = g.max(gap);
                if name == "slo:sli_error:ratio_rate30d" && *t == rp.last().unwrap().0 {
                    eprintln!(
                        "{slo} at {t}: budget consumed over 30d: redline {:.1}%, Sloth {:.1}%",
                        x / budget * 100.0,
                        y / budget * 100.0
                    );
                }
                if name == "slo:sli_error:ratio_rate30d" {
                    let exact = ev.ratio(*t, 30 * DAY);
                    let averaged = ev.averaged_ratio(*t, 30 * DAY);
                    assert!(
                        (x - exact).abs() / budget * 100.0 < 0.1,
                        "{slo} at {t}: redline {x} vs the exact ratio {exact}"
                    );
                    assert!(
                        (y - averaged).abs() / budget * 100.0 < 0.1,
                        "{slo} at {t}: Sloth {y} vs the average of 5m ratios {averaged}"
                    );
                }
            }
        } else {
            assert_eq!(rp.len(), sp.len(), "{key:?}: instants differ");
            for ((t, x), (u, y)) in rp.iter().zip(sp) {
                assert_eq!(t, u, "{key:?}");
                assert!(same(*x, *y), "{key:?} at {t}: redline {x}, Sloth {y}");
            }
        }
        compared += 1;
    }
    for key in s.recorded.keys() {
        assert!(
            r.recorded.contains_key(key),
            "Sloth records {key:?}, redline has no such series"
        );
    }
    assert_eq!(compared, s.recorded.len());
    eprintln!(
        "compared {compared} recorded series; whole-window gaps (points of budget): {gaps:?}"
    );
    for (slo, documented) in [
        ("requests-availability", DOCUMENTED_GAP_AVAILABILITY),
        ("requests-latency", DOCUMENTED_GAP_LATENCY),
    ] {
        let gap = gaps[slo];
        assert!(
            (gap - documented).abs() < 0.5,
            "{slo}: redline's and Sloth's window ratio differ by up to {gap:.2} points of budget; the README says {documented}"
        );
    }
}

fn compare_alerts(s: &Evaluated, r: &Evaluated) {
    assert_eq!(s.alert_for, r.alert_for, "alert `for` differs");
    let keys = |e: &Evaluated| e.alerts.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(keys(s), keys(r), "the alerts' label sets differ");
    let instants = ((EVAL_TO - EVAL_FROM) / 300 + 1) as usize;
    for (key, firing) in &s.alerts {
        let theirs = &r.alerts[key];
        let only_sloth: Vec<_> = firing.difference(theirs).collect();
        let only_redline: Vec<_> = theirs.difference(firing).collect();
        assert!(
            only_sloth.is_empty() && only_redline.is_empty(),
            "{key:?}: fires only in Sloth at {only_sloth:?}, only in redline at {only_redline:?}"
        );
        // The data exercises each alert: it fires at some instants, not all.
        assert!(
            !firing.is_empty() && firing.len() < instants,
            "{key:?} fires at {} of {instants} instants",
            firing.len()
        );
    }
    // Page and ticket of both shop SLOs, page of wifi (its ticket is disabled).
    assert_eq!(s.alerts.len(), 5, "{:?}", s.alerts.keys());
}

/// For a 28-day window Sloth names the window ratio `ratio_rate4w` (Go's
/// duration format): every series name and `sloth_window` Sloth records
/// for 28d has its redline counterpart. The alerts differ on purpose
/// (README, `generate`): Sloth's 28d catalog keeps the 30d windows and
/// lowers the factors, redline scales the windows and keeps the factors.
#[test]
fn sloth_names_hold_for_a_28_day_window() {
    let Some(sloth) = tool("sloth") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = format!(
        "{}/tests/fixtures/sloth_compat/shop.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let theirs = dir.path().join("sloth.yaml");
    run(Command::new(&sloth)
        .args(["generate", "--default-slo-period", "28d", "-i", &spec, "-o"])
        .arg(&theirs));
    let ours = dir.path().join("redline.yaml");
    let (code, _, err) = slo(&[
        "generate",
        &spec,
        "--window",
        "28d",
        "-o",
        ours.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let names = |rules: &[Rule], redline: bool| -> BTreeSet<(String, Option<String>, String)> {
        rules
            .iter()
            .filter(|r| r.record.is_some())
            .map(|r| {
                let l = if redline {
                    to_sloth(&r.labels)
                } else {
                    r.labels.clone()
                };
                let expr = if r.name() == "slo:time_period:days" {
                    r.expr.clone()
                } else {
                    String::new()
                };
                (r.name().to_string(), l.get("sloth_window").cloned(), expr)
            })
            .map(|(n, w, e)| {
                let n = if n == "redline_slo_info" {
                    "sloth_slo_info".to_string()
                } else {
                    n
                };
                // The info metric's window label is redline's own.
                let w = if n == "sloth_slo_info" { None } else { w };
                (n, w, e)
            })
            .collect()
    };
    let s = names(&load_rules(&theirs), false);
    let r = names(&load_rules(&ours), true);
    let missing: Vec<_> = s.difference(&r).collect();
    assert!(
        missing.is_empty(),
        "Sloth records these for 28d, redline does not: {missing:?}"
    );
    assert!(s.contains(&(
        "slo:sli_error:ratio_rate4w".to_string(),
        Some("4w".to_string()),
        String::new()
    )));
    // Sloth's 28d factors, as the README states them.
    let text = std::fs::read_to_string(&theirs).unwrap();
    for factor in [
        "(13.44 * ",
        "(5.6000000000000005 * ",
        "(2.8000000000000003 * ",
        "(0.9333333333333333 * ",
    ] {
        assert!(text.contains(factor), "no {factor} in Sloth's 28d alerts");
    }
}
