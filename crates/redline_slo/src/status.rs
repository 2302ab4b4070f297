//! Error budgets, burn rates and alert states at one instant, read from a
//! Prometheus-compatible API, and the deploy gate built on them.

use crate::duration;
use crate::prom::{Client, PromError};
use crate::spec::{Sli, Slo};
use crate::windows;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertState {
    pub severity: &'static str,
    pub long: String,
    pub short: String,
    pub factor: f64,
    pub firing: bool,
    /// The alert's `for:` (an OpenSLO `alertAfter`), when it has one.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    /// The condition holds now but not yet for the whole `for:`
    /// (Prometheus's `pending`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

/// How much of the SLO window has data: from the first instant at which
/// the SLI has a value to the evaluation time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Coverage {
    /// The first instant of the window at which the SLI has a value (at a
    /// 5m resolution, never before the first sample).
    pub data_from: String,
    /// Seconds from `data_from` to the evaluation time.
    pub covered_secs: u64,
    /// `covered_secs` as a duration (`2d`, `1h5m`).
    pub covered: String,
    /// `covered_secs` in percent of the window.
    pub covered_pct: f64,
    /// The query that found the first sample (asked at `data_from`).
    pub query: String,
}

/// The current period of a calendar-aligned window: the budget is over
/// `start` to the evaluation time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PeriodStatus {
    /// When the period began (RFC 3339, UTC).
    pub start: String,
    /// When it ends and the budget resets.
    pub end: String,
    /// The IANA zone the periods are aligned in.
    pub time_zone: String,
    /// How much of the period has passed, as a duration.
    pub elapsed: String,
    /// What is left of it, as a duration.
    pub remaining: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SloStatus {
    pub service: String,
    pub name: String,
    pub objective: f64,
    /// The rolling window (`30d`), or a calendar window's duration (`1M`).
    pub window: String,
    /// A calendar-aligned window's current period; absent for a rolling
    /// window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<PeriodStatus>,
    /// `false` when the window saw no request (a new service): the ratio
    /// and budget are then `null`.
    pub traffic: bool,
    pub sli_error_ratio: Option<f64>,
    pub budget_consumed_pct: Option<f64>,
    pub budget_remaining_pct: Option<f64>,
    /// How much of the window has data; `null` without traffic.
    pub coverage: Option<Coverage>,
    /// Burn rates over the standard windows; `null` when the window saw
    /// no traffic.
    pub burn_rates: BTreeMap<String, Option<f64>>,
    pub alerts: Vec<AlertState>,
    /// Why the SLO has no traffic, naming the query (only when `traffic`
    /// is false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_traffic: Option<String>,
    /// Whether this SLO fails the gate (the reasons say why).
    #[serde(skip)]
    pub gate_failed: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gate {
    pub passed: bool,
    pub reasons: Vec<String>,
    /// What passed but deserves a look: a budget over part of the window,
    /// a service without traffic let through by `--allow-no-traffic`.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatusReport {
    pub version: u32,
    pub at: String,
    pub gate: Gate,
    pub slos: Vec<SloStatus>,
    /// When the gate fails: the most recent deploy of each failing service,
    /// its commit range and the red-line findings it introduced.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attribution: Vec<crate::trace::Attribution>,
}

/// `--min-coverage`: how much of the window must have data before the
/// gate trusts the budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinCoverage {
    /// A duration, e.g. `1h`.
    Secs(u64),
    /// A share of the window, e.g. `10%`.
    Percent(f64),
}

impl MinCoverage {
    /// `1h`, `2d`, `10%` or `0`.
    pub fn parse(text: &str) -> Result<MinCoverage, String> {
        let t = text.trim();
        if t == "0" {
            return Ok(MinCoverage::Secs(0));
        }
        if let Some(p) = t.strip_suffix('%') {
            return match p.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && (0.0..=100.0).contains(&v) => Ok(MinCoverage::Percent(v)),
                _ => Err(format!(
                    "--min-coverage {text}: a percentage must be between 0% and 100%"
                )),
            };
        }
        duration::parse(t).map(MinCoverage::Secs).ok_or_else(|| {
            format!(
                "--min-coverage {text}: give a duration (`1h`, `2d`), a share of the window (`10%`) or 0"
            )
        })
    }

    /// The threshold in seconds for a window.
    pub fn secs(&self, window_secs: u64) -> u64 {
        match self {
            MinCoverage::Secs(s) => *s,
            MinCoverage::Percent(p) => (window_secs as f64 * p / 100.0).ceil() as u64,
        }
    }

    fn describe(&self) -> String {
        match self {
            MinCoverage::Secs(s) => duration::format(*s),
            MinCoverage::Percent(p) => format!("{p}%"),
        }
    }
}

/// The default `--min-coverage` of an SLO: the long window of its fastest
/// page alert (1h for 30 days). With less data no page alert has ever had a
/// full window, so a fast burn could not have shown.
pub fn default_min_coverage(window_secs: u64) -> u64 {
    windows::alert_windows(window_secs)[0].long
}

/// The gate's policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Fail when the remaining budget is at or below this percent.
    pub fail_below: f64,
    /// `None`: [`default_min_coverage`].
    pub min_coverage: Option<MinCoverage>,
    /// A service with no traffic in the window passes (with the reason).
    pub allow_no_traffic: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            fail_below: 0.0,
            min_coverage: None,
            allow_no_traffic: false,
        }
    }
}

pub fn rfc3339(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| at.to_string())
}

/// Parses `--at`: RFC 3339, a Unix timestamp in seconds, or `now`.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if t == "now" {
        return Ok(chrono::Utc::now().timestamp());
    }
    if let Ok(secs) = t.parse::<f64>()
        && secs.is_finite()
    {
        return Ok(secs as i64);
    }
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.timestamp())
        .map_err(|_| format!("invalid time `{text}`: use RFC 3339 (2026-01-31T12:00:00Z), a Unix timestamp or `now`"))
}

/// Why an answer from Prometheus cannot be used, or `None` when it can:
/// a count of events must be a finite number, zero or more; an error
/// ratio must be finite and between 0 and 1 (NaN is how a ratio says 0/0,
/// no traffic, and is handled by the caller).
pub fn bad_count(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN is not a number of events")
    } else if v.is_infinite() {
        Some("an infinite number of events")
    } else if v < 0.0 {
        Some(
            "a negative number of events (a counter reset the query does not handle? use increase() or rate())",
        )
    } else {
        None
    }
}

/// See [`bad_count`]; NaN is allowed (no traffic).
pub fn bad_ratio(v: f64) -> Option<&'static str> {
    if v.is_infinite() {
        Some("an infinite error ratio (errors with no total?)")
    } else if v < 0.0 {
        Some("a negative error ratio")
    } else if v > 1.0 {
        Some("an error ratio above 1 (more errors than requests?)")
    } else {
        None
    }
}

/// A query whose answer is no count or ratio: the gate cannot trust it.
pub fn bad_answer(query: &str, value: f64, why: &str) -> String {
    format!(
        "`{query}` answered {}: {why}; the SLO cannot be evaluated, so the gate fails (fix the query)",
        format_value(value)
    )
}

/// A sample as Prometheus writes it: `NaN`, `+Inf`, `-Inf`, or the number.
fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        v.to_string()
    }
}

/// Error ratio over `window_secs` ending at `at`; `None` when there was no
/// traffic (total 0, or a raw ratio of NaN, 0/0). Non-finite or negative
/// counts and impossible ratios are errors naming the query.
fn ratio(client: &Client, slo: &Slo, window_secs: u64, at: i64) -> Result<Option<f64>, String> {
    let w = duration::format(window_secs);
    let prom = |e: PromError| e.to_string();
    match &slo.sli {
        Sli::Events { error, total } => {
            let (tq, eq) = (total.at(&w), error.at(&w));
            let t = match client.query_one(&tq, at) {
                Ok(t) => t,
                // Called for the windows shorter than the SLO's, which had
                // traffic: no sample of the total in this one (young data,
                // or the pods stopped reporting) is no traffic here.
                Err(PromError::NoData { .. }) if window_secs < slo.window_secs => return Ok(None),
                Err(e) => return Err(prom(e)),
            };
            let e = client.query_one(&eq, at).map_err(prom)?;
            if let Some(why) = bad_count(t) {
                return Err(bad_answer(&tq, t, why));
            }
            if let Some(why) = bad_count(e) {
                return Err(bad_answer(&eq, e, why));
            }
            if t == 0.0 {
                return Ok(None);
            }
            Ok(Some(e / t))
        }
        Sli::Raw { error_ratio } => {
            if window_secs == slo.window_secs && slo.calendar.is_none() {
                return raw_average(client, error_ratio, window_secs, at);
            }
            let q = error_ratio.at(&w);
            let r = client.query_one(&q, at).map_err(prom)?;
            if let Some(why) = bad_ratio(r) {
                return Err(bad_answer(&q, r, why));
            }
            Ok(if r.is_nan() { None } else { Some(r) })
        }
    }
}

/// A raw error ratio over a whole window: it cannot be weighted by
/// traffic, so its 5m values are averaged.
fn raw_average(
    client: &Client,
    error_ratio: &crate::spec::Query,
    range_secs: u64,
    at: i64,
) -> Result<Option<f64>, String> {
    let w = duration::format(range_secs);
    let q = format!("avg_over_time(({})[{w}:5m])", error_ratio.at("5m"));
    let r = client.query_one(&q, at).map_err(|e| e.to_string())?;
    if let Some(why) = bad_ratio(r) {
        return Err(bad_answer(&q, r, why));
    }
    Ok(if r.is_nan() { None } else { Some(r) })
}

/// What the budget is over at `at`: the rolling window, or the calendar
/// period so far (at least 5m: a rate needs several samples, so right
/// after a period starts its first 5m reach back into the one before).
/// `(range start, range in seconds, the period)`.
pub fn budget_range(slo: &Slo, at: i64) -> Result<(i64, u64, Option<PeriodStatus>), String> {
    let Some(cal) = &slo.calendar else {
        return Ok((at - slo.window_secs as i64, slo.window_secs, None));
    };
    let p = cal.period_at(at)?;
    let elapsed = (at - p.start).max(0) as u64;
    let range = elapsed.max(300);
    Ok((
        at - range as i64,
        range,
        Some(PeriodStatus {
            start: rfc3339(p.start),
            end: rfc3339(p.end),
            time_zone: cal.tz.name().to_string(),
            elapsed: duration::format(elapsed),
            remaining: duration::format((p.end - at).max(0) as u64),
        }),
    ))
}

fn round(v: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    (v * m).round() / m
}

/// The SLI over the whole SLO window.
enum Window {
    Ratio(f64),
    /// No request in the window: why, naming the query.
    NoTraffic(String),
}

/// The error ratio over the SLO window. A total of 0 (or a raw ratio of
/// NaN) is no traffic; a total query with no series is no traffic only
/// when `allow_no_traffic` (otherwise it is the error it always was: a
/// wrong metric name looks the same).
fn window_ratio(
    client: &Client,
    slo: &Slo,
    at: i64,
    range_secs: u64,
    allow_no_traffic: bool,
) -> Result<Window, String> {
    let w = duration::format(range_secs);
    let missing = |q: &str, e: PromError| match e {
        PromError::NoData { .. } if allow_no_traffic => Ok(Window::NoTraffic(format!(
            "`{q}` returned no series: no request in the {w} window yet (or a wrong metric name)"
        ))),
        PromError::NoData { query } => Err(format!(
            "{}; a new service with no request yet has no series: --allow-no-traffic lets it pass",
            PromError::NoData { query }
        )),
        e => Err(e.to_string()),
    };
    match &slo.sli {
        Sli::Events { error, total } => {
            let tq = total.at(&w);
            let t = match client.query_one(&tq, at) {
                Ok(t) => t,
                Err(e) => return missing(&tq, e),
            };
            if let Some(why) = bad_count(t) {
                return Err(bad_answer(&tq, t, why));
            }
            if t == 0.0 {
                return Ok(Window::NoTraffic(format!(
                    "`{tq}` answered 0: no request in the {w} window"
                )));
            }
            let eq = error.at(&w);
            let e = client.query_one(&eq, at).map_err(|e| e.to_string())?;
            if let Some(why) = bad_count(e) {
                return Err(bad_answer(&eq, e, why));
            }
            Ok(Window::Ratio(e / t))
        }
        Sli::Raw { error_ratio } => match raw_average(client, error_ratio, range_secs, at) {
            Ok(Some(r)) => Ok(Window::Ratio(r)),
            Ok(None) => Ok(Window::NoTraffic(format!(
                "the error ratio over {w} is NaN (0/0): no request in the window"
            ))),
            Err(e) => Err(e),
        },
    }
}

/// The series selectors of a query (`http_requests_total{job="api"}`),
/// or `None` when one carries `offset` or `@` (its timestamps are not the
/// window's) or the query has none.
fn selectors(query: &str) -> Option<Vec<String>> {
    use promql_parser::parser::Expr;
    fn walk(e: &Expr, out: &mut Vec<String>) -> bool {
        match e {
            Expr::VectorSelector(v) => {
                if v.offset.is_some() || v.at.is_some() {
                    return false;
                }
                out.push(v.to_string());
                true
            }
            Expr::MatrixSelector(m) => walk(&Expr::VectorSelector(m.vs.clone()), out),
            Expr::Aggregate(a) => walk(&a.expr, out),
            Expr::Unary(u) => walk(&u.expr, out),
            Expr::Binary(b) => walk(&b.lhs, out) && walk(&b.rhs, out),
            Expr::Paren(p) => walk(&p.expr, out),
            Expr::Subquery(s) => s.offset.is_none() && s.at.is_none() && walk(&s.expr, out),
            Expr::Call(c) => c.args.args.iter().all(|a| walk(a, out)),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => true,
            Expr::Extension(_) => false,
        }
    }
    let expr = crate::check::parse_promql(query).ok()?;
    let mut out = Vec::new();
    (walk(&expr, &mut out) && !out.is_empty()).then(|| {
        out.dedup();
        out
    })
}

/// The query that says whether the SLI has any sample in the `range`
/// before its evaluation time: `count(count_over_time(SELECTOR[range]))`
/// over every selector of the total (or ratio) query, which answers no
/// series when there is none. When the selectors cannot be taken out of
/// the query (`offset`, `@`), the SLI itself over `range` stands in (it
/// needs two samples, so it sees the data one scrape late).
pub fn has_data_query(slo: &Slo, range_secs: u64) -> String {
    let range = duration::format(range_secs.max(1));
    let (q, sli) = match &slo.sli {
        Sli::Events { total, .. } => (total.at("5m"), total),
        Sli::Raw { error_ratio } => (error_ratio.at("5m"), error_ratio),
    };
    match selectors(&q) {
        Some(sels) => {
            let parts: Vec<String> = sels
                .iter()
                .map(|s| format!("count_over_time({s}[{range}])"))
                .collect();
            format!("count({})", parts.join(" or "))
        }
        None => sli.at(&range),
    }
}

/// How much of the window ending at `at` has data, from the earliest
/// sample of the SLI's series in the window. One cheap instant query when
/// the window's first five minutes have data (the usual case: the window
/// is full); otherwise a bisection of the window with the same query over
/// shrinking ranges, to the second (about 22 queries for 30 days, each
/// reading only the series' chunk index for the range). A subquery over
/// the window (`min_over_time(timestamp(...)[30d:5m])`) would take one
/// query but evaluates the selector at every grid point: a minute on a
/// 30-day TSDB of 2h blocks, against 0.1s for these.
pub fn coverage(client: &Client, slo: &Slo, at: i64) -> Result<Coverage, String> {
    let (start, _, _) = budget_range(slo, at)?;
    coverage_from(client, slo, start, at)
}

/// [`coverage`] of the range from `start` to `at`.
fn coverage_from(client: &Client, slo: &Slo, start: i64, at: i64) -> Result<Coverage, String> {
    let w = (at - start).max(1) as u64;
    let has = |to: i64| -> Result<(bool, String), String> {
        let q = has_data_query(slo, (to - start).max(1) as u64);
        match client.query_one(&q, to) {
            Ok(_) | Err(PromError::TooManySeries { .. }) => Ok((true, q)),
            Err(PromError::NoData { .. }) => Ok((false, q)),
            Err(e) => Err(e.to_string()),
        }
    };
    let (full, q) = has((start + 300).min(at))?;
    let (from, query) = if full {
        (start, q)
    } else {
        let (any, q) = has(at)?;
        if !any {
            (at, q)
        } else {
            // No sample in (start, lo], one in (start, hi].
            let (mut lo, mut hi, mut query) = ((start + 300).min(at), at, q);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let (found, q) = has(mid)?;
                if found {
                    hi = mid;
                    query = q;
                } else {
                    lo = mid;
                }
            }
            (hi, query)
        }
    };
    let covered = (at - from) as u64;
    Ok(Coverage {
        data_from: rfc3339(from),
        covered_secs: covered,
        covered: duration::format(covered),
        covered_pct: round(covered as f64 / w as f64 * 100.0, 4),
        query,
    })
}

/// The status of one SLO at `at`.
pub fn slo_status(
    client: &Client,
    slo: &Slo,
    at: i64,
    allow_no_traffic: bool,
) -> Result<SloStatus, String> {
    let ctx = |e: String| format!("{}/{} ({}): {e}", slo.service, slo.name, slo.path);
    let budget = slo.error_budget();
    let (start, range, period) = budget_range(slo, at).map_err(ctx)?;
    let window = match &slo.calendar {
        Some(c) => c.duration(),
        None => slo.window(),
    };
    let sli = match window_ratio(client, slo, at, range, allow_no_traffic).map_err(ctx)? {
        Window::Ratio(r) => r,
        Window::NoTraffic(why) => {
            return Ok(SloStatus {
                service: slo.service.clone(),
                name: slo.name.clone(),
                objective: slo.objective,
                window,
                period,
                traffic: false,
                sli_error_ratio: None,
                budget_consumed_pct: None,
                budget_remaining_pct: None,
                coverage: None,
                burn_rates: windows::STANDARD
                    .iter()
                    .map(|w| (duration::format(*w), None))
                    .collect(),
                alerts: Vec::new(),
                no_traffic: Some(why),
                gate_failed: false,
            });
        }
    };
    let mut cache: BTreeMap<u64, Option<f64>> = BTreeMap::new();
    if slo.calendar.is_none() {
        cache.insert(slo.window_secs, Some(sli));
    }
    let mut get = |w: u64| -> Result<Option<f64>, String> {
        if let Some(v) = cache.get(&w) {
            return Ok(*v);
        }
        let v = ratio(client, slo, w, at).map_err(ctx)?;
        cache.insert(w, v);
        Ok(v)
    };
    let consumed = sli / budget * 100.0;
    let mut burn_rates = BTreeMap::new();
    for w in windows::STANDARD {
        burn_rates.insert(duration::format(w), get(w)?.map(|r| round(r / budget, 6)));
    }
    let mut alerts = Vec::new();
    for a in slo.alert_windows() {
        let disabled = match a.severity {
            "page" => slo.alerting.page.disable,
            _ => slo.alerting.ticket.disable,
        };
        if disabled {
            // A disabled alert is not generated, so it cannot fire or gate.
            continue;
        }
        let threshold = a.factor * budget;
        let long = get(a.long)?;
        let short = get(a.short)?;
        let holds = matches!((long, short), (Some(l), Some(s)) if l > threshold && s > threshold);
        let held = holds
            && (a.alert_after == 0 || held_for(client, slo, &a, threshold, at).map_err(ctx)?);
        alerts.push(AlertState {
            severity: a.severity,
            long: a.long_str(),
            short: a.short_str(),
            factor: a.factor,
            firing: held,
            for_: (a.alert_after > 0).then(|| duration::format(a.alert_after)),
            pending: holds && !held,
        });
    }
    let coverage = coverage_from(client, slo, start, at).map_err(ctx)?;
    Ok(SloStatus {
        service: slo.service.clone(),
        name: slo.name.clone(),
        objective: slo.objective,
        window,
        period,
        traffic: true,
        sli_error_ratio: Some(sli),
        budget_consumed_pct: Some(round(consumed, 6)),
        budget_remaining_pct: Some(round(100.0 - consumed, 6)),
        coverage: Some(coverage),
        burn_rates,
        alerts,
        no_traffic: None,
        gate_failed: false,
    })
}

/// Whether an alert condition held at every minute of its `for:` before
/// `at`, as Prometheus decides it with a 1m evaluation interval: the long
/// and short window ratios over `[at - for, at]` at a 1m step, every point
/// present and above the threshold.
fn held_for(
    client: &Client,
    slo: &Slo,
    a: &windows::AlertWindow,
    threshold: f64,
    at: i64,
) -> Result<bool, String> {
    const STEP: i64 = 60;
    let from = at - a.alert_after as i64;
    let points = (a.alert_after as i64 / STEP + 1) as usize;
    for w in [a.long, a.short] {
        let ws = duration::format(w);
        let q = match &slo.sli {
            // `scalar()` on both sides: their label sets may differ.
            Sli::Events { error, total } => {
                format!("scalar({}) / scalar({})", error.at(&ws), total.at(&ws))
            }
            Sli::Raw { error_ratio } => error_ratio.at(&ws),
        };
        let series = client
            .query_range(&q, from, at, STEP)
            .map_err(|e| e.to_string())?;
        let above = series.iter().filter(|(_, v)| *v > threshold).count();
        if series.len() < points || above < points {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Statuses of every SLO and the gate's verdict.
pub fn status(
    client: &Client,
    slos: &[Slo],
    at: i64,
    policy: &Policy,
) -> Result<StatusReport, String> {
    let fail_below = policy.fail_below;
    if !fail_below.is_finite() {
        return Err(format!(
            "--fail-below {fail_below}: not a percentage; give a number such as 0 or 25"
        ));
    }
    let mut out = Vec::new();
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();
    for slo in slos {
        let mut s = slo_status(client, slo, at, policy.allow_no_traffic)?;
        let before = reasons.len();
        let id = format!("{}/{}", s.service, s.name);
        if let Some(why) = &s.no_traffic {
            if policy.allow_no_traffic {
                warnings.push(format!(
                    "{id}: no traffic, passed because of --allow-no-traffic: {why}"
                ));
            } else {
                reasons.push(format!(
                    "{id}: no traffic, so there is no budget to judge: {why}; pass --allow-no-traffic to let a service without traffic through"
                ));
            }
            s.gate_failed = reasons.len() > before;
            out.push(s);
            continue;
        }
        if let Some(c) = &s.coverage {
            let (min, described) = match policy.min_coverage {
                Some(m) => (m.secs(slo.window_secs), m.describe()),
                None => {
                    let d = default_min_coverage(slo.window_secs);
                    (
                        d,
                        format!(
                            "{} (the default: the fast page alert's long window)",
                            duration::format(d)
                        ),
                    )
                }
            };
            // A calendar period is young at every period start, with data
            // from before it: only data younger than the period is young.
            let young = slo.calendar.is_none() || c.covered_pct < 100.0;
            let what = match &s.period {
                Some(p) => format!("current {} period (from {})", s.window, p.start),
                None => format!("{} window", s.window),
            };
            if c.covered_secs < min && young {
                reasons.push(format!(
                    "{id}: only {} of data in the {what} (from {}), less than --min-coverage {described}: \
                     too little to judge the budget, and no page alert has had a full window; \
                     wait, or lower --min-coverage (0 turns the check off)",
                    c.covered, c.data_from
                ));
            } else if c.covered_pct < 100.0 {
                warnings.push(format!(
                    "{id}: the budget covers only {} of the {what} ({:.2}%, data from {}): it assumes the rest of the {} looks the same",
                    c.covered,
                    c.covered_pct,
                    c.data_from,
                    if s.period.is_some() { "period" } else { "window" }
                ));
            }
        }
        if let Some(p) = &s.period
            && duration::parse(&p.elapsed).is_some_and(|e| e < 300)
        {
            warnings.push(format!(
                "{id}: the {} period began at {}, {} ago: the budget is over the last 5m, which reaches into the period before",
                s.window, p.start, p.elapsed
            ));
        }
        if let Some(remaining) = s.budget_remaining_pct
            && remaining <= fail_below
        {
            reasons.push(format!(
                "{id}: {remaining:.2}% of the error budget remains, at or below --fail-below {fail_below}%"
            ));
        }
        for a in s.alerts.iter().filter(|a| a.firing && a.severity == "page") {
            let held = a
                .for_
                .as_ref()
                .map(|f| format!(" for {f}"))
                .unwrap_or_default();
            reasons.push(format!(
                "{id}: page alert firing: burn rate above {}x over {} and {}{held}",
                a.factor, a.long, a.short
            ));
        }
        s.gate_failed = reasons.len() > before;
        out.push(s);
    }
    Ok(StatusReport {
        version: 1,
        at: rfc3339(at),
        gate: Gate {
            passed: reasons.is_empty(),
            reasons,
            warnings,
        },
        slos: out,
        attribution: Vec::new(),
    })
}

fn fmt_burn(b: Option<f64>) -> String {
    match b {
        Some(b) => format!("{b:.2}"),
        None => "no traffic".into(),
    }
}

pub fn render_json(r: &StatusReport) -> String {
    // The keys of burn_rates are ordered by window length, not alphabetically.
    let mut v = serde_json::to_value(r).unwrap_or(serde_json::Value::Null);
    if let Some(slos) = v.get_mut("slos").and_then(|s| s.as_array_mut()) {
        for (i, s) in slos.iter_mut().enumerate() {
            let mut ordered = serde_json::Map::new();
            for w in windows::STANDARD {
                let k = duration::format(w);
                let val = r.slos[i].burn_rates.get(&k).copied().flatten();
                ordered.insert(
                    k,
                    serde_json::to_value(val).unwrap_or(serde_json::Value::Null),
                );
            }
            if let Some(obj) = s.as_object_mut() {
                obj.insert("burn_rates".into(), serde_json::Value::Object(ordered));
            }
        }
    }
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

pub fn render_text(r: &StatusReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "SLO status at {}", r.at);
    for s in &r.slos {
        let _ = writeln!(
            out,
            "\n{}/{}  objective {}%  window {}{}",
            s.service,
            s.name,
            s.objective,
            s.window,
            if s.period.is_some() {
                " (calendar)"
            } else {
                ""
            }
        );
        if let Some(p) = &s.period {
            let _ = writeln!(
                out,
                "  period  {} to {} ({}): {} passed, {} to go",
                p.start, p.end, p.time_zone, p.elapsed, p.remaining
            );
        }
        if let Some(why) = &s.no_traffic {
            let _ = writeln!(out, "  no traffic: {why}");
            continue;
        }
        let _ = writeln!(
            out,
            "  SLI error ratio {:.6}%  budget consumed {:.2}%  remaining {:.2}%",
            s.sli_error_ratio.unwrap_or(0.0) * 100.0,
            s.budget_consumed_pct.unwrap_or(0.0),
            s.budget_remaining_pct.unwrap_or(0.0)
        );
        if let Some(c) = &s.coverage {
            let what = if s.period.is_some() {
                format!("{} period so far", s.window)
            } else {
                format!("{} window", s.window)
            };
            if c.covered_pct >= 100.0 {
                let _ = writeln!(out, "  data  the whole {what}");
            } else {
                let _ = writeln!(
                    out,
                    "  data  {} of the {what} ({:.2}%), from {}",
                    c.covered, c.covered_pct, c.data_from
                );
            }
        }
        let burns: Vec<String> = windows::STANDARD
            .iter()
            .map(|w| {
                let k = duration::format(*w);
                format!("{k} {}", fmt_burn(s.burn_rates.get(&k).copied().flatten()))
            })
            .collect();
        let _ = writeln!(out, "  burn rates  {}", burns.join("  "));
        for a in &s.alerts {
            let held = a
                .for_
                .as_ref()
                .map(|f| format!(" for {f}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<6} {}/{} at {}x{held}: {}",
                a.severity,
                a.long,
                a.short,
                a.factor,
                if a.firing {
                    "FIRING"
                } else if a.pending {
                    "pending"
                } else {
                    "ok"
                }
            );
        }
    }
    for w in &r.gate.warnings {
        let _ = writeln!(out, "\nwarning: {w}");
    }
    if r.gate.passed {
        let _ = writeln!(out, "\ngate: passed");
    } else {
        let _ = writeln!(out, "\ngate: FAILED");
        for reason in &r.gate.reasons {
            let _ = writeln!(out, "  - {reason}");
        }
    }
    for a in &r.attribution {
        out.push('\n');
        out.push_str(&crate::trace::render_text(a));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_coverage_parses_durations_shares_and_zero() {
        assert_eq!(MinCoverage::parse("1h"), Ok(MinCoverage::Secs(3_600)));
        assert_eq!(MinCoverage::parse("0"), Ok(MinCoverage::Secs(0)));
        assert_eq!(MinCoverage::parse("10%"), Ok(MinCoverage::Percent(10.0)));
        assert_eq!(MinCoverage::Percent(10.0).secs(30 * 86_400), 3 * 86_400);
        for bad in ["", "1 hour", "101%", "nan%", "-1h", "%"] {
            let e = MinCoverage::parse(bad).unwrap_err();
            assert!(e.contains("--min-coverage"), "{bad}: {e}");
        }
        // The default: the fast page alert's long window.
        assert_eq!(default_min_coverage(30 * 86_400), 3_600);
        assert_eq!(default_min_coverage(7 * 86_400), 840);
    }

    #[test]
    fn selectors_come_out_of_the_sli_query() {
        assert_eq!(
            selectors(r#"sum(rate(http_requests_total{job="a"}[10m])) + sum(rate(other[10m]))"#),
            Some(vec![
                r#"http_requests_total{job="a"}"#.to_string(),
                "other".to_string()
            ])
        );
        assert_eq!(selectors("sum(rate(x[10m] offset 1h))"), None);
        assert_eq!(selectors("vector(1)"), None);
    }
}
