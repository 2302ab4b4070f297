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
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SloStatus {
    pub service: String,
    pub name: String,
    pub objective: f64,
    pub window: String,
    pub sli_error_ratio: f64,
    pub budget_consumed_pct: f64,
    pub budget_remaining_pct: f64,
    /// Burn rates over the standard windows; `null` when the window saw
    /// no traffic.
    pub burn_rates: BTreeMap<String, Option<f64>>,
    pub alerts: Vec<AlertState>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gate {
    pub passed: bool,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatusReport {
    pub version: u32,
    pub at: String,
    pub gate: Gate,
    pub slos: Vec<SloStatus>,
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
            let t = client.query_one(&tq, at).map_err(prom)?;
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
            let q = if window_secs == slo.window_secs {
                // A raw ratio cannot be weighted by traffic: average it.
                format!("avg_over_time(({})[{w}:5m])", error_ratio.at("5m"))
            } else {
                error_ratio.at(&w)
            };
            let r = client.query_one(&q, at).map_err(prom)?;
            if let Some(why) = bad_ratio(r) {
                return Err(bad_answer(&q, r, why));
            }
            Ok(if r.is_nan() { None } else { Some(r) })
        }
    }
}

fn round(v: f64, places: i32) -> f64 {
    let m = 10f64.powi(places);
    (v * m).round() / m
}

/// The status of one SLO at `at`.
pub fn slo_status(client: &Client, slo: &Slo, at: i64) -> Result<SloStatus, String> {
    let ctx = |e: String| format!("{}/{} ({}): {e}", slo.service, slo.name, slo.path);
    let mut cache: BTreeMap<u64, Option<f64>> = BTreeMap::new();
    let mut get = |w: u64| -> Result<Option<f64>, String> {
        if let Some(v) = cache.get(&w) {
            return Ok(*v);
        }
        let v = ratio(client, slo, w, at).map_err(ctx)?;
        cache.insert(w, v);
        Ok(v)
    };
    let budget = slo.error_budget();
    let Some(sli) = get(slo.window_secs)? else {
        return Err(format!(
            "{}/{} ({}): no traffic in the {} window ending {}: the total query is 0, so there is no error ratio to report",
            slo.service,
            slo.name,
            slo.path,
            slo.window(),
            rfc3339(at)
        ));
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
        let firing = matches!((long, short), (Some(l), Some(s)) if l > threshold && s > threshold);
        alerts.push(AlertState {
            severity: a.severity,
            long: a.long_str(),
            short: a.short_str(),
            factor: a.factor,
            firing,
        });
    }
    Ok(SloStatus {
        service: slo.service.clone(),
        name: slo.name.clone(),
        objective: slo.objective,
        window: slo.window(),
        sli_error_ratio: sli,
        budget_consumed_pct: round(consumed, 6),
        budget_remaining_pct: round(100.0 - consumed, 6),
        burn_rates,
        alerts,
    })
}

/// Statuses of every SLO and the gate's verdict.
pub fn status(
    client: &Client,
    slos: &[Slo],
    at: i64,
    fail_below: f64,
) -> Result<StatusReport, String> {
    if !fail_below.is_finite() {
        return Err(format!(
            "--fail-below {fail_below}: not a percentage; give a number such as 0 or 25"
        ));
    }
    let mut out = Vec::new();
    let mut reasons = Vec::new();
    for slo in slos {
        let s = slo_status(client, slo, at)?;
        if s.budget_remaining_pct <= fail_below {
            reasons.push(format!(
                "{}/{}: {:.2}% of the error budget remains, at or below --fail-below {}%",
                s.service, s.name, s.budget_remaining_pct, fail_below
            ));
        }
        for a in s.alerts.iter().filter(|a| a.firing && a.severity == "page") {
            reasons.push(format!(
                "{}/{}: page alert firing: burn rate above {}x over {} and {}",
                s.service, s.name, a.factor, a.long, a.short
            ));
        }
        out.push(s);
    }
    Ok(StatusReport {
        version: 1,
        at: rfc3339(at),
        gate: Gate {
            passed: reasons.is_empty(),
            reasons,
        },
        slos: out,
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
            "\n{}/{}  objective {}%  window {}",
            s.service, s.name, s.objective, s.window
        );
        let _ = writeln!(
            out,
            "  SLI error ratio {:.6}%  budget consumed {:.2}%  remaining {:.2}%",
            s.sli_error_ratio * 100.0,
            s.budget_consumed_pct,
            s.budget_remaining_pct
        );
        let burns: Vec<String> = windows::STANDARD
            .iter()
            .map(|w| {
                let k = duration::format(*w);
                format!("{k} {}", fmt_burn(s.burn_rates.get(&k).copied().flatten()))
            })
            .collect();
        let _ = writeln!(out, "  burn rates  {}", burns.join("  "));
        for a in &s.alerts {
            let _ = writeln!(
                out,
                "  {:<6} {}/{} at {}x: {}",
                a.severity,
                a.long,
                a.short,
                a.factor,
                if a.firing { "FIRING" } else { "ok" }
            );
        }
    }
    if r.gate.passed {
        let _ = writeln!(out, "\ngate: passed");
    } else {
        let _ = writeln!(out, "\ngate: FAILED");
        for reason in &r.gate.reasons {
            let _ = writeln!(out, "  - {reason}");
        }
    }
    out
}
