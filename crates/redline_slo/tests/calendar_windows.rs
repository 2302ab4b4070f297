//! OpenSLO calendar-aligned windows against a real Prometheus (Debian's
//! `prometheus` and `promtool`): `status` and `report` compute the budget
//! over the current calendar period, aligned to `startTime` in
//! `timeZone`, not over the last 30 days; the gate judges young data
//! inside the period, and not the young period itself.

mod common;
use common::{Prometheus, backfill, require, slo};
use std::path::Path;

/// 2026-03-10T12:00:00Z: the evaluation time. The current month in New
/// York began 2026-03-01 00:00 EST (05:00Z) and ends 2026-04-01 00:00 EDT
/// (04:00Z), across the change to summer time on 2026-03-08.
const T: i64 = 1_773_144_000;
/// 2026-02-20T00:00:00Z: six hours of 10% errors, inside the rolling 30
/// days before T but before the current calendar month.
const BURST: i64 = 1_771_545_600;
const MIN: i64 = 60;
const DAY: i64 = 86_400;

fn openmetrics() -> String {
    let mut s =
        String::from("# HELP http_requests Requests served.\n# TYPE http_requests counter\n");
    // (job, seconds of data before T)
    for (job, age) in [("api", 40 * DAY), ("young", 30 * MIN)] {
        let (mut total, mut errors) = (0.0, 0.0);
        for m in 0..=(age / MIN) {
            let ts = T - age + m * MIN;
            if m > 0 {
                let share = if (BURST..BURST + 6 * 3_600).contains(&ts) {
                    0.1
                } else {
                    0.0005
                };
                total += 1000.0;
                errors += 1000.0 * share;
            }
            s.push_str(&format!(
                "http_requests_total{{job=\"{job}\",code=\"200\"}} {:.6} {ts}\nhttp_requests_total{{job=\"{job}\",code=\"500\"}} {errors:.6} {ts}\n",
                total - errors
            ));
        }
    }
    s.push_str("# EOF\n");
    s
}

const SLI: &str = "  indicator:\n    spec:\n      ratioMetric:\n        bad: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total{job=\"JOB\",code=\"500\"}[{{.window}}]))'}}}\n        total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total{job=\"JOB\"}[{{.window}}]))'}}}\n";

fn calendar_spec(dir: &Path, file: &str, job: &str, window: &str) -> String {
    let p = dir.join(file);
    std::fs::write(
        &p,
        format!(
            "apiVersion: openslo/v1\nkind: SLO\nmetadata: {{name: availability}}\nspec:\n  service: {job}\n  budgetingMethod: Occurrences\n  timeWindow:\n{window}  objectives: [{{target: 0.999}}]\n{}",
            SLI.replace("JOB", job)
        ),
    )
    .unwrap();
    p.display().to_string()
}

const MONTH: &str = "    - duration: 1M\n      isRolling: false\n      calendar:\n        startTime: 2022-01-01 00:00:00\n        timeZone: America/New_York\n";

fn status(url: &str, spec: &str, extra: &[&str]) -> (u8, serde_json::Value, String) {
    let t = T.to_string();
    let mut args = vec![
        "status",
        spec,
        "--prometheus",
        url,
        "--at",
        &t,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = slo(&args);
    let v = serde_json::from_str(&out).unwrap_or_else(|_| panic!("not JSON: {out}\n{err}"));
    (code, v, err)
}

#[test]
fn calendar_periods_reset_the_budget() {
    let dir = std::env::temp_dir().join(format!("redline-slo-calendar-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let tsdb = backfill(&require("promtool"), &dir, &openmetrics());
    let prom = Prometheus::start_with(require("prometheus"), &dir, &tsdb, &[]);
    let url = prom.url();
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs).unwrap();

    // The same SLI over a rolling 30 days sees February's burst.
    let rolling = calendar_spec(
        &specs,
        "rolling.yaml",
        "api",
        "    - duration: 30d\n      isRolling: true\n",
    );
    let (code, v, err) = status(&url, &rolling, &[]);
    assert_eq!(code, 1, "{v}\n{err}");
    let rolling_left = v["slos"][0]["budget_remaining_pct"].as_f64().unwrap();
    assert!(rolling_left < 0.0, "{v}");
    assert!(v["slos"][0].get("period").is_none(), "{v}");

    // The calendar month began after it: half the budget is spent (0.05%
    // errors against 0.1%), and the period is named with its end.
    let month = calendar_spec(&specs, "month.yaml", "api", MONTH);
    let (code, v, err) = status(&url, &month, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    let s = &v["slos"][0];
    assert_eq!(s["window"], "1M");
    assert_eq!(s["period"]["start"], "2026-03-01T05:00:00Z", "{v}");
    assert_eq!(s["period"]["end"], "2026-04-01T04:00:00Z", "{v}");
    assert_eq!(s["period"]["time_zone"], "America/New_York");
    assert_eq!(s["period"]["elapsed"], "9d7h");
    let consumed = s["budget_consumed_pct"].as_f64().unwrap();
    assert!((consumed - 50.0).abs() < 0.01, "{v}");
    assert_eq!(s["coverage"]["covered_pct"], 100.0, "{v}");
    assert!(v["gate"]["warnings"].as_array().unwrap().is_empty(), "{v}");
    let t = T.to_string();
    let (code, out, err) = slo(&["status", &month, "--prometheus", &url, "--at", &t]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("window 1M (calendar)")
            && out.contains(
                "period  2026-03-01T05:00:00Z to 2026-04-01T04:00:00Z (America/New_York): 9d7h passed, 21d16h to go"
            )
            && out.contains("data  the whole 1M period so far"),
        "{out}"
    );

    // The report charts the period so far, to the period's end.
    let html = dir.join("month.html");
    let (code, out, err) = slo(&[
        "report",
        &month,
        "--prometheus",
        &url,
        "--at",
        &t,
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("over the current 1M calendar period (2026-03-01T05:00:00Z – 2026-04-01T04:00:00Z, aligned in America/New_York)"),
        "{page}"
    );
    assert!(page.contains("remaining now: <b>50.00%</b>"), "{page}");
    assert!(page.contains("class=\"future\""), "no rest of the period");

    // A period that began two minutes ago: the budget is over the last
    // 5m (said in a warning), and the gate passes: the data is older than
    // the period, so it is not young.
    let day = calendar_spec(
        &specs,
        "day.yaml",
        "api",
        "    - duration: 1d\n      calendar: {startTime: '2026-01-01 11:58:00', timeZone: UTC}\n",
    );
    let (code, v, err) = status(&url, &day, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["slos"][0]["period"]["start"], "2026-03-10T11:58:00Z");
    let w = v["gate"]["warnings"][0].as_str().unwrap_or_default();
    assert!(
        w.contains("the 1d period began at 2026-03-10T11:58:00Z, 2m ago"),
        "{v}"
    );

    // Data younger than the period is young: 30 minutes fail the default
    // --min-coverage (the fast page alert's 1h window).
    let young = calendar_spec(&specs, "young.yaml", "young", MONTH);
    let (code, v, err) = status(&url, &young, &[]);
    assert_eq!(code, 1, "{v}\n{err}");
    let reason = v["gate"]["reasons"][0].as_str().unwrap();
    assert!(
        reason.contains("only 30m of data in the current 1M period (from 2026-03-01T05:00:00Z)"),
        "{reason}"
    );
    let (code, v, err) = status(&url, &young, &["--min-coverage", "0"]);
    assert_eq!(code, 0, "{v}\n{err}");
    drop(prom);
}
