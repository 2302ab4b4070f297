//! `redline slo status` and `report` against a real Prometheus (Debian's
//! `prometheus` and `promtool`), over a TSDB backfilled with generated
//! request counters whose error ratio is known by construction.
//!
//! One test function shares one Prometheus (building the TSDB is the slow
//! part); each scenario is a separate function called from it.

mod common;
use common::{Prometheus, backfill, fixture, require, slo};
use std::f64::consts::PI;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600;
const DAYS: i64 = 34;
const MINUTES: usize = (DAYS * 1440) as usize;
const DAY: i64 = 86_400;
const BUDGET: f64 = 0.001;

fn at(day: i64, hour: i64, minute: i64) -> i64 {
    START + day * DAY + hour * 3_600 + minute * 60
}

/// The incident: a bad deploy at day 33 12:00, errors at 8% from 12:10 to 12:50.
fn incident(t: i64) -> bool {
    t >= at(33, 12, 10) && t < at(33, 12, 50)
}

/// Error ratio of the minute starting at `t`: a steady 0.02%, a slow leak
/// at 0.15% on days 20–26, and the fast-burn incident.
fn error_ratio(t: i64) -> f64 {
    if incident(t) {
        0.08
    } else if t >= at(20, 0, 0) && t < at(26, 0, 0) {
        0.0015
    } else {
        0.0002
    }
}

/// Requests in the minute starting at `t`: a daily wave between 400 and 1600.
fn requests(m: usize) -> f64 {
    1000.0 + 600.0 * (2.0 * PI * m as f64 / 1440.0).sin()
}

/// The `api` job: traffic swings from 100 to 1900 requests a minute, and a
/// nightly batch makes 1% of requests fail in the quiet hours (under 500 a
/// minute) against 0.01% otherwise. Averaging 5m ratios, as Sloth's
/// window rule does, weighs the quiet hours as much as the busy ones.
fn api_requests(m: usize) -> f64 {
    1000.0 + 900.0 * (2.0 * PI * m as f64 / 1440.0).sin()
}

fn api_error_ratio(m: usize) -> f64 {
    if api_requests(m) < 500.0 {
        0.01
    } else {
        0.0001
    }
}

/// Cumulative (errors, total) at each minute boundary: element m is the
/// counters' value at START + 60 m.
struct Series {
    errors: Vec<f64>,
    total: Vec<f64>,
}

impl Series {
    fn new(requests: impl Fn(usize) -> f64, ratio: impl Fn(usize) -> f64) -> Series {
        let mut errors = vec![0.0];
        let mut total = vec![0.0];
        for m in 0..MINUTES {
            let r = requests(m);
            errors.push(errors[m] + r * ratio(m));
            total.push(total[m] + r);
        }
        Series { errors, total }
    }

    /// The exact error ratio over `secs` ending at `t`.
    fn ratio(&self, t: i64, secs: i64) -> f64 {
        let m = ((t - START) / 60) as usize;
        let k = (secs / 60) as usize;
        (self.errors[m] - self.errors[m - k]) / (self.total[m] - self.total[m - k])
    }

    /// The average of the 5m ratios over `secs` ending at `t`, at a 5m step.
    fn averaged_ratio(&self, t: i64, secs: i64) -> f64 {
        let n = secs / 300;
        (0..n).map(|i| self.ratio(t - i * 300, 300)).sum::<f64>() / n as f64
    }
}

/// The `checkout` job (the scenario with deploys) and the `api` job.
struct Data {
    checkout: Series,
    api: Series,
}

impl Data {
    fn new() -> Data {
        Data {
            checkout: Series::new(requests, |m| error_ratio(START + 60 * m as i64)),
            api: Series::new(api_requests, api_error_ratio),
        }
    }

    fn ratio(&self, t: i64, secs: i64) -> f64 {
        self.checkout.ratio(t, secs)
    }

    fn openmetrics(&self) -> String {
        let mut s = String::with_capacity(16 << 20);
        s.push_str("# HELP http_requests Requests served.\n# TYPE http_requests counter\n");
        for m in 0..=MINUTES {
            let ts = START + 60 * m as i64;
            for (job, d) in [("checkout", &self.checkout), ("api", &self.api)] {
                let ok = d.total[m] - d.errors[m];
                s.push_str(&format!(
                    "http_requests_total{{job=\"{job}\",code=\"200\"}} {ok:.6} {ts}\nhttp_requests_total{{job=\"{job}\",code=\"500\"}} {:.6} {ts}\n",
                    d.errors[m]
                ));
            }
        }
        s.push_str("# EOF\n");
        s
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

fn move_blocks(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            std::fs::rename(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn status_json(url: &str, t: i64, extra: &[&str]) -> (u8, serde_json::Value, String) {
    let spec = fixture("sloth.yaml");
    let ts = t.to_string();
    let mut args = vec![
        "status",
        spec.as_str(),
        "--prometheus",
        url,
        "--at",
        ts.as_str(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = slo(&args);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("status printed no JSON ({e}): {out}\n{err}"));
    (code, v, err)
}

#[test]
fn against_a_real_prometheus() {
    let prometheus = require("prometheus");
    let promtool = require("promtool");
    let dir = std::env::temp_dir().join(format!("redline-slo-prom-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = Data::new();
    let t0 = Instant::now();
    let tsdb = backfill(&promtool, &dir, &data.openmetrics());
    eprintln!("backfilled {DAYS} days in {:?}", t0.elapsed());
    // No background compaction: the rule backfill below adds blocks.
    let mut prom = Prometheus::start_with(
        &prometheus,
        &dir,
        &tsdb,
        &[
            "--storage.tsdb.min-block-duration=2h",
            "--storage.tsdb.max-block-duration=2h",
        ],
    );
    let url = prom.url();

    budget_is_exact(&url, &data);
    averaging_would_misread_the_budget(&url, &data);
    alerts_fire_at_the_right_instants(&url, &data);
    gate_exit_codes(&url);
    report_attributes_the_incident_to_its_deploy(&url, &dir);
    empty_results_are_errors(&url, &dir);
    generated_rules_agree_with_status(&mut prom, &promtool, &data);
}

fn budget_is_exact(url: &str, data: &Data) {
    for t in [at(30, 0, 0), at(33, 11, 0), at(33, 23, 0)] {
        let (_, v, err) = status_json(url, t, &[]);
        let s = &v["slos"][0];
        let expected = data.ratio(t, 30 * DAY) / BUDGET * 100.0;
        let consumed = s["budget_consumed_pct"]
            .as_f64()
            .unwrap_or_else(|| panic!("{v}\n{err}"));
        let remaining = s["budget_remaining_pct"].as_f64().unwrap();
        assert!(
            (consumed - expected).abs() < 0.1,
            "at {t}: consumed {consumed} vs generator {expected}"
        );
        assert!(
            (remaining - (100.0 - expected)).abs() < 0.1,
            "at {t}: remaining {remaining}"
        );
        // The naive average of 5m ratios would be off: traffic varies.
        assert_eq!(s["window"], "30d");
        assert_eq!(s["objective"], 99.9);
        for key in ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] {
            assert!(
                s["burn_rates"][key].is_number(),
                "burn rate {key} missing: {s}"
            );
        }
        let b1h = s["burn_rates"]["1h"].as_f64().unwrap();
        let e1h = data.ratio(t, 3_600) / BUDGET;
        assert!(
            (b1h - e1h).abs() < 0.01 * e1h.max(1.0),
            "1h burn {b1h} vs {e1h}"
        );
    }
    // The contract's keys.
    let (_, v, _) = status_json(url, at(33, 11, 0), &[]);
    assert_eq!(v["version"], 1);
    assert_eq!(v["at"], "2026-02-03T11:00:00Z");
    assert!(v["gate"]["passed"].is_boolean() && v["gate"]["reasons"].is_array());
    let a = &v["slos"][0]["alerts"][0];
    assert_eq!(
        (
            a["severity"].as_str(),
            a["long"].as_str(),
            a["short"].as_str(),
            a["factor"].as_f64()
        ),
        (Some("page"), Some("1h"), Some("5m"), Some(14.4))
    );
}

/// The claim of the README: with traffic that varies, the exact budget and
/// Sloth's average of 5m ratios differ by far more than the 0.1 points the
/// gate needs.
fn averaging_would_misread_the_budget(url: &str, data: &Data) {
    let t = at(33, 0, 0);
    let (code, out, err) = slo(&[
        "status",
        &fixture("api.yaml"),
        "--prometheus",
        url,
        "--at",
        &t.to_string(),
        "--format",
        "json",
    ]);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let consumed = v["slos"][0]["budget_consumed_pct"].as_f64().unwrap();
    let exact = data.api.ratio(t, 30 * DAY) / BUDGET * 100.0;
    assert!(
        (consumed - exact).abs() < 0.1,
        "api: consumed {consumed} vs generator {exact}"
    );
    // Sloth's window rule, asked of the same Prometheus.
    let client = redline_slo::prom::Client::new(redline_slo::prom::ClientOptions {
        url: url.to_string(),
        timeout: Duration::from_secs(30),
        retries: 0,
        ..Default::default()
    })
    .unwrap();
    let sloth = client
        .query_one(
            "avg_over_time((sum(rate(http_requests_total{job=\"api\",code=\"500\"}[5m])) / sum(rate(http_requests_total{job=\"api\"}[5m])))[30d:5m])",
            t,
        )
        .unwrap()
        / BUDGET
        * 100.0;
    let averaged = data.api.averaged_ratio(t, 30 * DAY) / BUDGET * 100.0;
    assert!(
        (sloth - averaged).abs() < 1.0,
        "Sloth-style {sloth} vs generator average {averaged}"
    );
    assert!(
        (sloth - exact).abs() > 50.0,
        "averaging should misread this budget badly: averaged {sloth}%, exact {exact}%"
    );
    // The gate sees a spent budget where Sloth's number would say the opposite.
    assert_eq!(code, u8::from(exact >= 100.0), "{out}");
}

fn alerts_fire_at_the_right_instants(url: &str, data: &Data) {
    let conds = [
        (3_600, 300, 14.4),
        (21_600, 1_800, 6.0),
        (86_400, 7_200, 3.0),
        (259_200, 21_600, 1.0),
    ];
    let instants = [
        at(19, 12, 0),  // steady: nothing fires
        at(23, 0, 0),   // slow leak for 3 days: the 3d/6h ticket
        at(33, 12, 20), // ten minutes into the incident: not long enough for 1h
        at(33, 12, 40), // thirty minutes in: page 1h/5m
        at(33, 12, 50), // forty minutes in: 6h/30m too
        at(33, 13, 5),  // after the incident: 1h/5m stops, 6h/30m still on
        at(33, 13, 30), // 30m window clear: no page
    ];
    let mut fired = Vec::new();
    for t in instants {
        let (_, v, err) = status_json(url, t, &[]);
        let alerts = v["slos"][0]["alerts"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}\n{err}"));
        for (i, (long, short, factor)) in conds.iter().enumerate() {
            let expected =
                data.ratio(t, *long) > factor * BUDGET && data.ratio(t, *short) > factor * BUDGET;
            assert_eq!(
                alerts[i]["firing"], expected,
                "alert {i} at {t} ({}): {v}",
                alerts[i]
            );
        }
        fired.push(
            alerts
                .iter()
                .map(|a| a["firing"].as_bool() == Some(true))
                .collect::<Vec<_>>(),
        );
    }
    // The scenario really exercises each state.
    assert_eq!(fired[0], [false, false, false, false]);
    assert_eq!(fired[1], [false, false, false, true]);
    assert!(!fired[2][0]);
    assert!(fired[3][0]);
    assert!(fired[4][0] && fired[4][1]);
    assert!(!fired[5][0] && fired[5][1]);
    assert!(!fired[6][0] && !fired[6][1]);
}

fn gate_exit_codes(url: &str) {
    let (code, v, _) = status_json(url, at(33, 11, 0), &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["gate"]["passed"], true);
    // About 46% of the budget is left: a 60% floor fails the gate.
    let (code, v, _) = status_json(url, at(33, 11, 0), &["--fail-below", "60"]);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["gate"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("at or below --fail-below 60%"),
        "{v}"
    );
    // A page-level burn fails the gate whatever the budget.
    let (code, v, _) = status_json(url, at(33, 12, 40), &[]);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["gate"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("page alert firing"),
        "{v}"
    );
    // The text form says the same.
    let spec = fixture("sloth.yaml");
    let t = at(33, 12, 40).to_string();
    let (code, out, _) = slo(&["status", &spec, "--prometheus", url, "--at", &t]);
    assert_eq!(code, 1);
    assert!(
        out.contains("gate: FAILED") && out.contains("FIRING"),
        "{out}"
    );
}

fn report_attributes_the_incident_to_its_deploy(url: &str, dir: &Path) {
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        [
            r#"{"time": "2026-01-11T09:00:00Z", "service": "checkout", "commit": "1111111", "description": "add coupons"}"#,
            r#"{"time": "2026-02-03T09:00:00Z", "service": "checkout", "commit": "2222222", "description": "refactor logging"}"#,
            r#"{"time": "2026-02-03T11:50:00Z", "service": "search", "commit": "9999999", "description": "other service"}"#,
            r#"{"time": "2026-02-03T12:00:00Z", "service": "checkout", "commit": "abc1234", "description": "switch payment provider"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let html = dir.join("report.html");
    let t = at(34, 0, 0).to_string();
    let (code, out, err) = slo(&[
        "report",
        &fixture("sloth.yaml"),
        "--prometheus",
        url,
        "--at",
        &t,
        "--events",
        events.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 fast-burn periods"), "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    let table = &page[page
        .find("class=\"attribution\"")
        .expect("no attribution table")..];
    let row = &table[..table.find("</table>").unwrap()];
    assert!(
        row.contains("most likely: 2026-02-03T12:00:00Z abc1234 — switch payment provider"),
        "{row}"
    );
    assert!(
        !row.contains("9999999") && !row.contains("2222222"),
        "{row}"
    );
    assert_eq!(page.matches("<svg").count(), 3, "three charts per SLO");
    assert!(!page.contains("src=") && !page.contains("href=") && !page.contains("url("));
    assert!(
        !page.contains("<script") && !page.contains("<link"),
        "the report must be self-contained"
    );
    if let Ok(keep) = std::env::var("REDLINE_SLO_KEEP_REPORT") {
        let _ = std::fs::copy(&html, keep);
    }

    // The same attribution from a git repository's commit times.
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for (args, date) in [
        (&["init", "-q"][..], "2026-02-03T09:00:00Z"),
        (
            &["commit", "-q", "--allow-empty", "-m", "refactor logging"][..],
            "2026-02-03T09:00:00Z",
        ),
        (
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "switch payment provider",
            ][..],
            "2026-02-03T12:00:00Z",
        ),
    ] {
        let out = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .env("GIT_COMMITTER_DATE", date)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .expect("git is needed for this test");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (code, out, err) = slo(&[
        "report",
        &fixture("sloth.yaml"),
        "--prometheus",
        url,
        "--at",
        &t,
        "--events-from-git",
        repo.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    let table = &page[page
        .find("class=\"attribution\"")
        .expect("no attribution table")..];
    let row = &table[..table.find("</table>").unwrap()];
    assert!(
        row.contains("most likely: 2026-02-03T12:00:00Z")
            && row.contains("switch payment provider"),
        "{row}"
    );
    assert!(!row.contains("refactor logging"), "{row}");
}

fn empty_results_are_errors(url: &str, dir: &Path) {
    let spec = dir.join("missing.yaml");
    std::fs::write(
        &spec,
        "version: prometheus/v1\nservice: ghost\nslos:\n  - name: nothing\n    objective: 99\n    sli:\n      events:\n        error_query: sum(rate(no_such_metric{code=\"500\"}[{{.window}}]))\n        total_query: sum(rate(no_such_metric[{{.window}}]))\n",
    )
    .unwrap();
    let t = at(33, 11, 0).to_string();
    let (code, out, err) = slo(&[
        "status",
        spec.to_str().unwrap(),
        "--prometheus",
        url,
        "--at",
        &t,
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("no data for `sum(rate(no_such_metric[30d]))`"),
        "{err}"
    );
    assert!(out.is_empty(), "no number may be printed: {out}");
}

/// One group of a generated rule file, keeping the rules whose text
/// matches `keep` (the output's layout is fixed: one `- record:` per rule).
fn pick_rules(text: &str, group_prefix: &str, keep: &dyn Fn(&str) -> bool) -> String {
    let group = text
        .split("\n  - name: ")
        .find(|g| g.starts_with(&format!("\"{group_prefix}")))
        .unwrap_or_else(|| panic!("no group {group_prefix} in:\n{text}"));
    let mut parts = group.split("\n      - ");
    let head = parts.next().unwrap();
    let mut out = format!("groups:\n  - name: {head}");
    for rule in parts.filter(|r| keep(r)) {
        out.push_str("\n      - ");
        out.push_str(rule.trim_end());
    }
    out.push('\n');
    out
}

fn generated_rules_agree_with_status(prom: &mut Prometheus, promtool: &str, data: &Data) {
    let rules = prom.dir.join("rules.yaml");
    // A 7d window keeps the rule backfill short (promtool runs one range
    // query per rule and 2h block); the arithmetic is the same as for 30d.
    let (code, _, err) = slo(&[
        "generate",
        &fixture("sloth.yaml"),
        "--window",
        "7d",
        "-o",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&rules).unwrap();
    // Backfill in dependency order: the recordings, then what reads them.
    // Only the two 5m rates that the window rule sums need the whole window;
    // the other recordings are checked at `t` alone.
    // Evening after the incident: the incident is inside the window and far
    // from its edges, where a rule evaluated on promtool's grid (up to one
    // interval before `t`) would see a few minutes less of it.
    let t = at(33, 23, 0);
    let url = prom.url();
    let base = |r: &str| r.contains("slo:sli_errors:rate5m") || r.contains("slo:sli_total:rate5m");
    let passes: [Vec<(String, i64)>; 2] = [
        vec![
            (
                pick_rules(&text, "redline-slo-sli-recordings-", &base),
                t - 7 * DAY - 600,
            ),
            (
                pick_rules(&text, "redline-slo-sli-recordings-", &|r| !base(r)),
                t - 600,
            ),
        ],
        vec![(pick_rules(&text, "redline-slo-window-", &|_| true), t - 600)],
    ];
    for (i, pass) in passes.iter().enumerate() {
        for (k, (rules, from)) in pass.iter().enumerate() {
            let file = prom.dir.join(format!("pass{i}-{k}.yaml"));
            std::fs::write(&file, rules).unwrap();
            let out = prom.dir.join(format!("pass{i}-{k}-blocks"));
            let t0 = Instant::now();
            run(Command::new(promtool)
                .args(["tsdb", "create-blocks-from", "rules", "--eval-interval=5m"])
                .arg(format!("--url={url}"))
                .arg(format!("--start={from}"))
                // The end is exclusive: go past `t` so that `t` is evaluated.
                .arg(format!("--end={}", t + 600))
                .arg(format!("--output-dir={}", out.display()))
                .arg(&file));
            eprintln!("rule backfill pass {i}-{k} in {:?}", t0.elapsed());
        }
        prom.stop();
        for k in 0..pass.len() {
            move_blocks(&prom.dir.join(format!("pass{i}-{k}-blocks")), &prom.data);
        }
        prom.start();
    }
    let client = redline_slo::prom::Client::new(redline_slo::prom::ClientOptions {
        url: url.clone(),
        timeout: Duration::from_secs(10),
        retries: 0,
        ..Default::default()
    })
    .unwrap();
    let id = "{redline_id=\"checkout-requests-availability\"}";
    // 7d as Prometheus and Sloth write it.
    let window_rule = format!("slo:sli_error:ratio_rate1w{id}");
    let recorded = client
        .query_one(&window_rule, t)
        .expect("the window rule recorded nothing");
    // promtool evaluates on its own grid, a little before `t`: compare
    // with status at the instant the rule was evaluated.
    let evaluated = client
        .query_one(&format!("timestamp({window_rule})"), t)
        .unwrap();
    assert!(
        (t as f64 - evaluated).abs() < 600.0,
        "evaluated at {evaluated}"
    );
    let (_, v, _) = status_json(&url, evaluated.round() as i64, &["--window", "7d"]);
    let status_ratio = v["slos"][0]["sli_error_ratio"].as_f64().unwrap();
    assert_eq!(v["slos"][0]["window"], "7d");
    let expected = data.ratio(t, 7 * DAY);
    assert!(
        ((recorded - status_ratio) / BUDGET * 100.0).abs() < 0.1,
        "recorded window ratio {recorded} vs status {status_ratio} (generator at t: {expected})"
    );
    let recorded_1h = client
        .query_one(&format!("slo:sli_error:ratio_rate1h{id}"), t)
        .unwrap();
    assert!(
        (recorded_1h - data.ratio(t, 3_600)).abs() < 1e-3 * data.ratio(t, 3_600),
        "1h {recorded_1h}"
    );
}
