//! Young data and new services against a real Prometheus (Debian's
//! `prometheus` and `promtool`): services with 1 minute, 1 hour and 2
//! days of data, one whose counters exist but never moved, one with no
//! series at all. `status` says how much of the window has data, the gate
//! applies `--min-coverage` and `--allow-no-traffic` with the exit codes
//! below, and `report` starts its charts at the first sample.

mod common;
use common::{Prometheus, backfill, require, slo, slo_with_config};
use std::path::Path;
use std::time::Duration;

/// 2026-01-04T00:00:00Z: the evaluation time of every scenario.
const T: i64 = 1_767_484_800;
const MIN: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// (job, seconds of data before T, requests a minute). 0.05% of requests
/// fail: half the budget of a 99.9% objective.
const JOBS: [(&str, i64, f64); 4] = [
    ("minute", MIN, 1000.0),
    ("hour", HOUR, 1000.0),
    ("days", 2 * DAY, 1000.0),
    ("idle", 2 * DAY, 0.0),
];

fn openmetrics() -> String {
    let mut s =
        String::from("# HELP http_requests Requests served.\n# TYPE http_requests counter\n");
    for (job, age, per_minute) in JOBS {
        let minutes = age / MIN;
        for m in 0..=minutes {
            let ts = T - age + m * MIN;
            let total = per_minute * m as f64;
            let errors = total * 0.0005;
            s.push_str(&format!(
                "http_requests_total{{job=\"{job}\",code=\"200\"}} {:.6} {ts}\nhttp_requests_total{{job=\"{job}\",code=\"500\"}} {errors:.6} {ts}\n",
                total - errors
            ));
        }
    }
    // Two samples a minute apart either side of a 5m boundary: the SLO
    // window has data, but no 5m range holds two samples of it.
    for (ts, total) in [(T - 330, 0.0), (T - 270, 1000.0)] {
        s.push_str(&format!(
            "http_requests_total{{job=\"straddle\",code=\"200\"}} {:.6} {ts}\nhttp_requests_total{{job=\"straddle\",code=\"500\"}} {:.6} {ts}\n",
            total * 0.9995,
            total * 0.0005
        ));
    }
    s.push_str("# EOF\n");
    s
}

fn spec(dir: &Path, job: &str) -> String {
    let p = dir.join(format!("{job}.yaml"));
    std::fs::write(
        &p,
        format!(
            "version: prometheus/v1\nservice: {job}\nslos:\n  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(http_requests_total{{job=\"{job}\",code=\"500\"}}[{{{{.window}}}}]))\n        total_query: sum(rate(http_requests_total{{job=\"{job}\"}}[{{{{.window}}}}]))\n"
        ),
    )
    .unwrap();
    p.display().to_string()
}

/// A Prometheus over a TSDB backfilled from `om`, ready to answer.
fn start(dir: &Path, om: &str) -> (Prometheus, String) {
    let tsdb = backfill(&require("promtool"), dir, om);
    let p = Prometheus::start_with(require("prometheus"), dir, &tsdb, &[]);
    let url = p.url();
    (p, url)
}

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
    let v = serde_json::from_str(&out).unwrap_or(serde_json::Value::Null);
    (code, v, err)
}

fn status_text(url: &str, spec: &str, extra: &[&str]) -> (u8, String, String) {
    let t = T.to_string();
    let mut args = vec!["status", spec, "--prometheus", url, "--at", &t];
    args.extend_from_slice(extra);
    slo(&args)
}

fn covered(v: &serde_json::Value) -> i64 {
    v["slos"][0]["coverage"]["covered_secs"]
        .as_i64()
        .unwrap_or_else(|| panic!("no coverage: {v}"))
}

#[test]
fn young_data_and_new_services() {
    let dir = std::env::temp_dir().join(format!("redline-slo-young-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (_prom, url) = start(&dir, &openmetrics());
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs).unwrap();

    one_minute(&url, &spec(&specs, "minute"), &specs);
    one_hour(&url, &spec(&specs, "hour"));
    two_days(&url, &spec(&specs, "days"), &specs);
    no_traffic(&url, &spec(&specs, "idle"), &spec(&specs, "ghost"), &specs);
    younger_than_a_step(&url, &spec(&specs, "straddle"), &specs);
    policies_from_redline_toml(
        &url,
        &spec(&specs, "minute"),
        &spec(&specs, "idle"),
        &spec(&specs, "ghost"),
        &specs,
    );
}

/// `[slo] min-coverage` and `allow-no-traffic` of redline.toml are the
/// defaults of the flags, and the flags override them; `report
/// --allow-no-traffic` writes the report of a service without series.
fn policies_from_redline_toml(url: &str, minute: &str, idle: &str, ghost: &str, dir: &Path) {
    let config = dir.join("redline.toml");
    let t = T.to_string();
    let run = |toml: &str, args: &[&str]| {
        std::fs::write(&config, toml).unwrap();
        let mut all = vec![
            "status",
            "--prometheus",
            url,
            "--at",
            &t,
            "--format",
            "json",
        ];
        all.extend_from_slice(args);
        let (code, out, err) = slo_with_config(Some(&config), &all);
        (code, format!("{out}{err}"))
    };
    // One minute of data: the config's 0 turns the coverage check off; the
    // flag puts it back.
    let (code, out) = run("[slo]\nmin-coverage = \"0\"\n", &[minute]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(
        "[slo]\nmin-coverage = \"0\"\n",
        &[minute, "--min-coverage", "1h"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("less than --min-coverage 1h"), "{out}");
    // No traffic: the config lets it through, `--allow-no-traffic=false`
    // does not.
    let (code, out) = run("[slo]\nallow-no-traffic = true\n", &[idle]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("passed because of --allow-no-traffic"),
        "{out}"
    );
    let (code, out) = run(
        "[slo]\nallow-no-traffic = true\n",
        &[idle, "--allow-no-traffic=false"],
    );
    assert_eq!(code, 1, "{out}");
    let (code, out) = run("", &[ghost, "--allow-no-traffic=true"]);
    assert_eq!(code, 0, "{out}");

    // `report`: no series is an error (young_data's no_traffic), unless
    // allowed by the flag or the config: then the report says so.
    for (toml, flag) in [
        ("", Some("--allow-no-traffic")),
        ("[slo]\nallow-no-traffic = true\n", None),
    ] {
        std::fs::write(&config, toml).unwrap();
        let html = dir.join("ghost-allowed.html");
        let _ = std::fs::remove_file(&html);
        let mut args = vec![
            "report",
            ghost,
            "--prometheus",
            url,
            "--at",
            &t,
            "-o",
            html.to_str().unwrap(),
        ];
        args.extend(flag);
        let (code, out, err) = slo_with_config(Some(&config), &args);
        assert_eq!(code, 0, "{toml} {flag:?}: {out}{err}");
        assert!(
            out.contains(
                "no traffic: `sum(rate(http_requests_total{job=\"ghost\"}[5m]))` has no point from"
            ),
            "{out}"
        );
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(
            page.contains("not known yet")
                && page.contains("written because of --allow-no-traffic"),
            "{page}"
        );
    }
    // Counters that never moved: the report says there is no traffic, and
    // shows no budget (it drew a flat 100% before).
    let html = dir.join("idle.html");
    let (code, out, err) = slo(&[
        "report",
        idle,
        "--prometheus",
        url,
        "--at",
        &t,
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("no traffic: no request in the 30d window"),
        "{out}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("not known yet"), "{page}");
    assert!(
        !page.contains("100.00%"),
        "no traffic shown as a full budget"
    );
}

fn younger_than_a_step(url: &str, spec: &str, dir: &Path) {
    // `status`: the short windows without two samples are "no traffic",
    // not an error; the coverage counts from the first sample.
    let (code, v, err) = status(url, spec, &[]);
    assert_eq!(code, 1, "{v}\n{err}");
    assert_eq!(covered(&v), 330, "{v}");
    assert!(v["slos"][0]["burn_rates"]["5m"].is_null(), "{v}");
    let (code, v, err) = status(url, spec, &["--min-coverage", "0"]);
    assert_eq!(code, 0, "{v}\n{err}");
    // `report`: written, with nothing to chart and no budget claimed.
    let html = dir.join("straddle.html");
    let t = T.to_string();
    let (code, out, err) = slo(&[
        "report",
        spec,
        "--prometheus",
        url,
        "--at",
        &t,
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("less than one 5m step of data"), "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("not known yet"), "a budget is claimed");
    assert!(
        !page.contains("100.00%"),
        "young data shown as a full budget"
    );
}

fn one_minute(url: &str, spec: &str, dir: &Path) {
    // The default policy fails closed: a minute is less than the 1h window
    // of the fast page alert.
    let (code, v, err) = status(url, spec, &[]);
    assert_eq!(code, 1, "{v}\n{err}");
    assert_eq!(covered(&v), 60, "{v}");
    let c = &v["slos"][0]["coverage"];
    assert_eq!(c["data_from"], "2026-01-03T23:59:00Z", "{v}");
    assert_eq!(c["covered"], "1m");
    assert!(c["covered_pct"].as_f64().unwrap() < 0.01, "{v}");
    let reason = v["gate"]["reasons"][0].as_str().unwrap();
    assert!(
        reason.contains("only 1m of data in the 30d window")
            && reason.contains("--min-coverage 1h"),
        "{reason}"
    );
    // The budget is still computed, never shown as untouched.
    let remaining = v["slos"][0]["budget_remaining_pct"].as_f64().unwrap();
    assert!((remaining - 50.0).abs() < 5.0, "{v}");
    // Turning the check off, or a smaller floor, passes with a warning.
    for policy in ["0", "30s"] {
        let (code, v, err) = status(url, spec, &["--min-coverage", policy]);
        assert_eq!(code, 0, "--min-coverage {policy}: {v}\n{err}");
        let w = v["gate"]["warnings"][0].as_str().unwrap_or_default();
        assert!(w.contains("covers only 1m of the 30d window"), "{v}");
    }
    let (code, out, _) = status_text(url, spec, &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("data  1m of the 30d window (0.00%), from 2026-01-03T23:59:00Z"),
        "{out}"
    );
    assert!(out.contains("gate: FAILED"), "{out}");
    // The report works from the first sample.
    let html = dir.join("minute.html");
    let t = T.to_string();
    let (code, out, err) = slo(&[
        "report",
        spec,
        "--prometheus",
        url,
        "--at",
        &t,
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("class=\"nodata\""), "no shaded no-data part");
    assert!(out.contains("minute/availability: "), "{out}");
}

fn one_hour(url: &str, spec: &str) {
    let (code, v, err) = status(url, spec, &[]);
    assert_eq!(code, 0, "exactly the default 1h: {v}\n{err}");
    assert_eq!(covered(&v), HOUR, "{v}");
    assert_eq!(
        v["slos"][0]["coverage"]["data_from"],
        "2026-01-03T23:00:00Z"
    );
    assert!(
        v["gate"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("covers only 1h of the 30d window"),
        "{v}"
    );
    for (policy, expected) in [("2h", 1), ("5%", 1), ("1h", 0), ("0.1%", 0)] {
        let (code, v, err) = status(url, spec, &["--min-coverage", policy]);
        assert_eq!(code, expected, "--min-coverage {policy}: {v}\n{err}");
    }
    let (code, _, err) = status(url, spec, &["--min-coverage", "an hour"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--min-coverage an hour"), "{err}");
}

fn two_days(url: &str, spec: &str, dir: &Path) {
    let (code, v, err) = status(url, spec, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(covered(&v), 2 * DAY, "{v}");
    let pct = v["slos"][0]["coverage"]["covered_pct"].as_f64().unwrap();
    assert!((pct - 6.6667).abs() < 0.01, "{pct}");
    for (policy, expected) in [("5%", 0), ("10%", 1), ("3d", 1), ("2d", 0)] {
        let (code, v, err) = status(url, spec, &["--min-coverage", policy]);
        assert_eq!(code, expected, "--min-coverage {policy}: {v}\n{err}");
    }
    // The report's series start at the first sample: no flat 100% line
    // over the 28 days without data.
    let loaded = redline_slo::spec::load(
        spec,
        &std::fs::read_to_string(spec).unwrap(),
        redline_slo::spec::DEFAULT_WINDOW_SECS,
    );
    let client = redline_slo::prom::Client::new(redline_slo::prom::ClientOptions {
        url: url.to_string(),
        timeout: Duration::from_secs(30),
        retries: 0,
        ..Default::default()
    })
    .unwrap();
    let r = redline_slo::report::build(&client, &loaded.slos[0], T, &[]).unwrap();
    assert_eq!(r.start, T - 30 * DAY);
    assert!(
        (r.data_from - (T - 2 * DAY)).abs() <= 300,
        "data from {}",
        r.data_from
    );
    for (what, series) in [("remaining", &r.remaining), ("ratio", &r.ratio)] {
        let first = series.first().unwrap().0;
        assert!(
            first >= T - 2 * DAY,
            "{what} starts at {first}, before the data"
        );
    }
    for (w, series) in &r.burns {
        assert!(series.iter().all(|p| p.0 >= T - 2 * DAY), "burn {w}");
    }
    assert!(
        r.note
            .as_deref()
            .unwrap_or("")
            .contains("2d of the 30d window")
    );
    // Half the budget is spent over the data there is.
    let last = r.remaining.last().unwrap().1;
    assert!((last - 50.0).abs() < 5.0, "remaining {last}");
    let html = dir.join("days.html");
    let t = T.to_string();
    let (code, out, err) = slo(&[
        "report",
        spec,
        "--prometheus",
        url,
        "--at",
        &t,
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("days/availability: data from 2026-01-02"),
        "{out}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("class=\"nodata\"").count(), 3, "each chart");
}

fn no_traffic(url: &str, idle: &str, ghost: &str, dir: &Path) {
    // Counters that exist and never moved: no traffic. Without the flag
    // the gate fails and says which flag lets it pass.
    let (code, v, err) = status(url, idle, &[]);
    assert_eq!(code, 1, "{v}\n{err}");
    assert_eq!(v["slos"][0]["traffic"], false);
    assert!(v["slos"][0]["budget_remaining_pct"].is_null(), "{v}");
    let reason = v["gate"]["reasons"][0].as_str().unwrap();
    assert!(
        reason.contains("no traffic") && reason.contains("--allow-no-traffic"),
        "{reason}"
    );
    assert!(
        reason.contains("`sum(rate(http_requests_total{job=\"idle\"}[30d]))` answered 0"),
        "{reason}"
    );
    let (code, v, err) = status(url, idle, &["--allow-no-traffic"]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert!(
        v["gate"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("passed because of --allow-no-traffic"),
        "{v}"
    );
    let (code, out, _) = status_text(url, idle, &["--allow-no-traffic"]);
    assert_eq!(code, 0);
    assert!(out.contains("no traffic: `sum(rate("), "{out}");
    assert!(out.contains("gate: passed"), "{out}");

    // No series at all: a new service, or a wrong metric name. An error
    // (exit 2) that names the query and the flag; with the flag it passes.
    let (code, _, err) = status(url, ghost, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no data for `sum(rate(http_requests_total{job=\"ghost\"}[30d]))`")
            && err.contains("--allow-no-traffic"),
        "{err}"
    );
    let (code, v, err) = status(url, ghost, &["--allow-no-traffic"]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert!(
        v["gate"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("returned no series"),
        "{v}"
    );
    // The report's "no data" error names the queries that were empty.
    let html = dir.join("ghost.html");
    let t = T.to_string();
    let (code, out, err) = slo(&[
        "report",
        ghost,
        "--prometheus",
        url,
        "--at",
        &t,
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("`sum(rate(http_requests_total{job=\"ghost\"}[5m]))` has no point from")
            && err.contains(
                "`sum(rate(http_requests_total{job=\"ghost\"}[30d]))` returned no series"
            ),
        "{err}"
    );
    assert!(!html.exists());
}
