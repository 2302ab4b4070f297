//! Prometheus rule generation: recording rules for the SLI, metadata rules
//! and the multi-window multi-burn-rate alerts.
//!
//! The whole-window error ratio is the ratio of the window's error and
//! total increases. Recording it as `rate(x[30d])` would be exact but
//! expensive; averaging the short-window ratios (what Sloth records) is
//! cheap but wrong whenever traffic varies. redline records the error and
//! total queries over 5m and divides their sums over the window: each
//! instant's traffic is counted the same number of times in both sums, so
//! their ratio is the traffic-weighted, exact window ratio.

use crate::duration;
use crate::spec::{Sli, Slo};
use crate::windows;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The window whose recorded rates are summed for the whole-window ratio.
pub const BASE_WINDOW: &str = "5m";

/// `slo:sli_error:ratio_rate` and the window as Prometheus (and Sloth)
/// print it: `ratio_rate5m`, `ratio_rate30d`, `ratio_rate4w` for 28 days.
pub fn ratio_metric(window_secs: u64) -> String {
    format!(
        "slo:sli_error:ratio_rate{}",
        duration::format_prometheus(window_secs)
    )
}

pub const ERRORS_METRIC: &str = "slo:sli_errors:rate5m";
pub const TOTAL_METRIC: &str = "slo:sli_total:rate5m";

struct Rule {
    kind: &'static str, // "record" or "alert"
    name: String,
    expr: String,
    /// An alert's `for:` in seconds (0: none).
    for_secs: u64,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// A literal block (`|-`) for multi-line text that survives it unchanged,
/// a double-quoted string otherwise.
fn block_or_quoted(s: &str, indent: usize) -> String {
    let safe = s.contains('\n')
        && !s.starts_with([' ', '\t'])
        && !s.contains(['\t', '\r'])
        && s.lines().all(|l| !l.is_empty() && !l.ends_with(' '))
        && !s.ends_with('\n');
    if !safe {
        return q(s);
    }
    let pad = " ".repeat(indent);
    let mut out = String::from("|-");
    for line in s.lines() {
        out.push('\n');
        out.push_str(&pad);
        out.push_str(line);
    }
    out
}

fn selector(slo: &Slo) -> String {
    format!("{{redline_id=\"{}\"}}", slo.id())
}

fn ident_labels(slo: &Slo) -> BTreeMap<String, String> {
    let mut l = slo.labels.clone();
    l.insert("redline_id".into(), slo.id());
    l.insert("redline_service".into(), slo.service.clone());
    l.insert("redline_slo".into(), slo.name.clone());
    l
}

fn ratio_expr(slo: &Slo, window: &str) -> String {
    match &slo.sli {
        Sli::Events { error, total } => {
            format!("({})\n/\n({})", error.at(window), total.at(window))
        }
        Sli::Raw { error_ratio } => error_ratio.at(window),
    }
}

/// Number formatting that is stable and PromQL-friendly.
fn num(v: f64) -> String {
    let s = format!("{v}");
    if s.contains('e') {
        format!("{v:.12}")
    } else {
        s
    }
}

fn groups_for(slo: &Slo) -> Vec<(String, Vec<Rule>)> {
    let id = slo.id();
    let labels = ident_labels(slo);
    let sel = selector(slo);
    // In names, labels and ranges the window is written as Prometheus and
    // Sloth write it (28d is `4w`), so Sloth's series names stay.
    let window = duration::format_prometheus(slo.window_secs);
    let budget = slo.error_budget();
    let record = |name: String, expr: String, extra: &[(&str, String)]| {
        let mut l = labels.clone();
        for (k, v) in extra {
            l.insert((*k).to_string(), v.clone());
        }
        Rule {
            kind: "record",
            name,
            expr,
            for_secs: 0,
            labels: l,
            annotations: BTreeMap::new(),
        }
    };

    let mut recordings = Vec::new();
    if let Sli::Events { error, total } = &slo.sli {
        recordings.push(record(ERRORS_METRIC.into(), error.at(BASE_WINDOW), &[]));
        recordings.push(record(TOTAL_METRIC.into(), total.at(BASE_WINDOW), &[]));
    }
    for w in windows::recorded_with(&slo.alerts, slo.window_secs) {
        let ws = duration::format_prometheus(w);
        recordings.push(record(
            ratio_metric(w),
            ratio_expr(slo, &ws),
            &[("redline_window", ws.clone())],
        ));
    }

    let window_expr = match &slo.sli {
        Sli::Events { .. } => format!(
            "sum_over_time({ERRORS_METRIC}{sel}[{window}])\n/\nsum_over_time({TOTAL_METRIC}{sel}[{window}])"
        ),
        Sli::Raw { .. } => format!("avg_over_time({}{sel}[{window}])", ratio_metric(300)),
    };
    let window_rules = vec![record(
        ratio_metric(slo.window_secs),
        window_expr,
        &[("redline_window", window.clone())],
    )];

    let days = slo.window_secs as f64 / 86_400.0;
    let meta = vec![
        record(
            "slo:objective:ratio".into(),
            format!("vector({})", num(slo.objective / 100.0)),
            &[],
        ),
        record(
            "slo:error_budget:ratio".into(),
            format!("vector({})", num(budget)),
            &[],
        ),
        record(
            "slo:time_period:days".into(),
            format!("vector({})", num(days)),
            &[],
        ),
        record(
            "slo:current_burn_rate:ratio".into(),
            format!("{}{sel}\n/ {}", ratio_metric(300), num(budget)),
            &[],
        ),
        record(
            "slo:period_burn_rate:ratio".into(),
            format!("{}{sel}\n/ {}", ratio_metric(slo.window_secs), num(budget)),
            &[],
        ),
        record(
            "slo:period_error_budget_remaining:ratio".into(),
            format!("1 - slo:period_burn_rate:ratio{sel}"),
            &[],
        ),
        record(
            "redline_slo_info".into(),
            "vector(1)".into(),
            &[
                ("redline_objective", num(slo.objective)),
                ("redline_window", window.clone()),
            ],
        ),
    ];

    let mut alerts = Vec::new();
    let alert_name = slo
        .alerting
        .name
        .clone()
        .unwrap_or_else(|| "SLOErrorBudgetBurn".to_string());
    for severity in ["page", "ticket"] {
        let settings = if severity == "page" {
            &slo.alerting.page
        } else {
            &slo.alerting.ticket
        };
        if settings.disable {
            continue;
        }
        // Conditions with the same `for:` (an OpenSLO `alertAfter`) are one
        // alert; conditions with different ones need an alert each, told
        // apart by `redline_alert_after` so that their series differ.
        let mut by_for: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for a in slo
            .alert_windows()
            .iter()
            .filter(|a| a.severity == severity)
        {
            let cond = {
                // The two windows' series differ in `redline_window`:
                // `and` matches on every label, so it is aggregated away
                // first (as Sloth does). The short window comes first, so
                // the alert's `$value` is the short window's ratio, as in
                // Sloth.
                let t = format!("({} * {})", num(a.factor), num(budget));
                format!(
                    "(\n  max({}{sel} > {t}) without (redline_window)\n  and\n  max({}{sel} > {t}) without (redline_window)\n)",
                    ratio_metric(a.short),
                    ratio_metric(a.long)
                )
            };
            by_for.entry(a.alert_after).or_default().push(cond);
        }
        let mut l = slo.labels.clone();
        l.extend(slo.alerting.labels.clone());
        l.extend(settings.labels.clone());
        l.insert("redline_severity".into(), severity.into());
        let mut ann = BTreeMap::new();
        ann.insert(
            "title".to_string(),
            format!(
                "{severity}: {} SLO {} error budget burn rate is too high",
                slo.service, slo.name
            ),
        );
        ann.insert(
            "summary".to_string(),
            format!(
                "{{{{$labels.redline_service}}}} {{{{$labels.redline_slo}}}} is burning its {} error budget ({}% objective) too fast.",
                match &slo.calendar {
                    Some(c) => format!("{} calendar", c.duration()),
                    None => slo.window(),
                },
                num(slo.objective)
            ),
        );
        ann.extend(slo.alerting.annotations.clone());
        ann.extend(settings.annotations.clone());
        let split = by_for.len() > 1;
        for (for_secs, conds) in by_for {
            let mut l = l.clone();
            if split {
                l.insert(
                    "redline_alert_after".into(),
                    duration::format_prometheus(for_secs),
                );
            }
            alerts.push(Rule {
                kind: "alert",
                name: alert_name.clone(),
                expr: conds.join("\nor\n"),
                for_secs,
                labels: l,
                annotations: ann.clone(),
            });
        }
    }

    let mut groups = vec![
        (format!("redline-slo-sli-recordings-{id}"), recordings),
        (format!("redline-slo-window-{id}"), window_rules),
        (format!("redline-slo-meta-{id}"), meta),
    ];
    if !alerts.is_empty() {
        groups.push((format!("redline-slo-alerts-{id}"), alerts));
    }
    groups
}

/// The rule file for every SLO, as YAML text. Deterministic: the same
/// specs give the same bytes.
pub fn generate(slos: &[Slo]) -> String {
    let mut out = String::new();
    out.push_str("# Generated by `redline slo generate`; do not edit by hand.\n");
    out.push_str(
        "# Groups per SLO: sli-recordings, window (reads the recordings), meta, alerts.\n",
    );
    write_groups(&mut out, slos, 0);
    out
}

/// `groups:` and every SLO's rule groups, each line indented by `indent`
/// spaces (0 for a rule file, 2 under a PrometheusRule's `spec:`).
pub fn write_groups(out: &mut String, slos: &[Slo], indent: usize) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}groups:");
    for slo in slos {
        for (name, rules) in groups_for(slo) {
            let _ = writeln!(out, "{pad}  - name: {}", q(&name));
            let _ = writeln!(out, "{pad}    rules:");
            for r in rules {
                let _ = writeln!(out, "{pad}      - {}: {}", r.kind, q(&r.name));
                let _ = writeln!(
                    out,
                    "{pad}        expr: {}",
                    block_or_quoted(&r.expr, indent + 10)
                );
                if r.for_secs > 0 {
                    let _ = writeln!(
                        out,
                        "{pad}        for: {}",
                        duration::format_prometheus(r.for_secs)
                    );
                }
                for (title, map) in [("labels", &r.labels), ("annotations", &r.annotations)] {
                    if map.is_empty() {
                        continue;
                    }
                    let _ = writeln!(out, "{pad}        {title}:");
                    for (k, v) in map {
                        let key = if crate::spec::valid_label_name(k) {
                            k.clone()
                        } else {
                            q(k)
                        };
                        let _ = writeln!(out, "{pad}          {key}: {}", q(v));
                    }
                }
            }
        }
    }
}
