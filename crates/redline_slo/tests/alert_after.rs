//! OpenSLO `alertAfter` on a burn-rate condition is the generated alert's
//! `for:`, with Prometheus's meaning: `promtool check rules` loads the
//! rules, `promtool test rules` shows the alert pending and then firing,
//! and `status` against a real Prometheus gates only on a condition that
//! held for the whole duration.

mod common;
use common::{Prometheus, backfill, require, slo};
use std::path::Path;
use std::process::Command;

/// An OpenSLO SLO of `job` (99% over 30 days) whose page condition is the
/// 5m burn rate above 2, held for `alert_after` when given.
fn spec(job: &str, conditions: &[(&str, Option<&str>)]) -> String {
    let mut s = format!(
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {{name: s}}\nspec:\n  service: {job}\n  indicator:\n    spec:\n      ratioMetric:\n        bad: {{metricSource: {{type: Prometheus, spec: {{query: 'sum(rate(http_requests_total{{job=\"{job}\",code=\"500\"}}[{{{{.window}}}}]))'}}}}}}\n        total: {{metricSource: {{type: Prometheus, spec: {{query: 'sum(rate(http_requests_total{{job=\"{job}\"}}[{{{{.window}}}}]))'}}}}}}\n  objectives: [{{target: 0.99}}]\n  alertPolicies:\n    - kind: AlertPolicy\n      metadata: {{name: p}}\n      spec:\n        conditions:\n"
    );
    for (i, (lookback, after)) in conditions.iter().enumerate() {
        let after = after
            .map(|a| format!(", alertAfter: {a}"))
            .unwrap_or_default();
        s.push_str(&format!(
            "          - kind: AlertCondition\n            metadata: {{name: c{i}}}\n            spec: {{severity: page, condition: {{kind: burnrate, op: gt, threshold: 2, lookbackWindow: {lookback}{after}}}}}\n"
        ));
    }
    s
}

fn generate(dir: &Path, spec: &str) -> (String, String) {
    let p = dir.join("slo.yaml");
    std::fs::write(&p, spec).unwrap();
    let out = dir.join("rules.yaml");
    let (code, _, err) = slo(&["generate", p.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    (
        out.display().to_string(),
        std::fs::read_to_string(&out).unwrap(),
    )
}

fn promtool(args: &[&str]) -> (bool, String) {
    let o = Command::new(require("promtool"))
        .args(args)
        .output()
        .expect("promtool runs");
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// The page alert's rule text: from its `- alert:` line to the next rule.
fn page_alert(rules: &str) -> String {
    let start = rules.find("- alert:").expect("an alert");
    let rest = &rules[start..];
    let end = rest[1..].find("- alert:").map_or(rest.len(), |i| i + 1);
    rest[..end].to_string()
}

#[test]
fn alert_after_is_the_alerts_for_and_promtool_loads_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, rules) = generate(dir.path(), &spec("web", &[("5m", Some("5m"))]));
    let alert = page_alert(&rules);
    assert!(alert.contains("\n        for: 5m\n"), "{alert}");
    let (ok, said) = promtool(&["check", "rules", &path]);
    assert!(ok, "{said}\n{rules}");
    // Without alertAfter (or with 0m) there is no `for:`.
    for after in [None, Some("0m")] {
        let (_, rules) = generate(dir.path(), &spec("web", &[("5m", after)]));
        assert!(!rules.contains("for:"), "{after:?}: {rules}");
    }
    // Conditions of one severity with different alertAfter: one alert
    // each, told apart by a label so their series differ.
    let (path, rules) = generate(
        dir.path(),
        &spec("web", &[("5m", Some("5m")), ("1h", Some("15m"))]),
    );
    assert_eq!(rules.matches("- alert:").count(), 2, "{rules}");
    assert!(
        rules.contains("for: 5m") && rules.contains("for: 15m"),
        "{rules}"
    );
    assert!(
        rules.contains("redline_alert_after: \"5m\"")
            && rules.contains("redline_alert_after: \"15m\""),
        "{rules}"
    );
    let (ok, said) = promtool(&["check", "rules", &path]);
    assert!(ok, "{said}\n{rules}");
}

/// `promtool test rules`: errors start at minute 10; the 5m condition
/// holds from the next evaluations on. With `for: 5m` the alert is not
/// firing at 13m and is at 20m; without it, it fires at 13m.
#[test]
fn promtool_shows_the_alert_pending_then_firing() {
    let dir = tempfile::tempdir().unwrap();
    for (after, firing_at_13m) in [(Some("5m"), false), (None, true)] {
        let (path, _) = generate(dir.path(), &spec("web", &[("5m", after)]));
        let expected = "          - exp_labels: {redline_id: web-s, redline_service: web, redline_slo: s, redline_severity: page}\n            exp_annotations:\n              title: \"page: web SLO s error budget burn rate is too high\"\n              summary: \"web s is burning its 30d error budget (99% objective) too fast.\"\n";
        let at_13m = if firing_at_13m {
            format!("        exp_alerts:\n{expected}")
        } else {
            "        exp_alerts: []\n".to_string()
        };
        let test = format!(
            "rule_files: [{path}]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      - series: 'http_requests_total{{job=\"web\",code=\"200\"}}'\n        values: '0+100x30'\n      - series: 'http_requests_total{{job=\"web\",code=\"500\"}}'\n        values: '0x10 100+100x20'\n    alert_rule_test:\n      - eval_time: 13m\n        alertname: SLOErrorBudgetBurn\n{at_13m}      - eval_time: 20m\n        alertname: SLOErrorBudgetBurn\n        exp_alerts:\n{expected}"
        );
        let t = dir.path().join("test.yaml");
        std::fs::write(&t, &test).unwrap();
        let (ok, said) = promtool(&["test", "rules", t.to_str().unwrap()]);
        assert!(ok, "alertAfter {after:?}: {said}\n{test}");
    }
}

/// 2026-01-04T00:00:00Z.
const T: i64 = 1_767_484_800;

/// `status`: a burst of errors 3 minutes old holds the condition but not
/// for 5m (pending, the gate passes); one 20 minutes old fires.
#[test]
fn status_gates_on_a_condition_held_for_alert_after() {
    let dir = std::env::temp_dir().join(format!("redline-slo-for-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut om =
        String::from("# HELP http_requests Requests served.\n# TYPE http_requests counter\n");
    for (job, burst) in [("short", 3 * 60), ("long", 20 * 60)] {
        let (mut total, mut errors) = (0.0, 0.0);
        for m in 0..=(2 * 1_440) {
            let ts = T - 2 * 86_400 + m * 60;
            if m > 0 {
                total += 1000.0;
                if ts > T - burst {
                    errors += 500.0;
                }
            }
            om.push_str(&format!(
                "http_requests_total{{job=\"{job}\",code=\"200\"}} {:.6} {ts}\nhttp_requests_total{{job=\"{job}\",code=\"500\"}} {errors:.6} {ts}\n",
                total - errors
            ));
        }
    }
    om.push_str("# EOF\n");
    let tsdb = backfill(&require("promtool"), &dir, &om);
    let prom = Prometheus::start_with(require("prometheus"), &dir, &tsdb, &[]);
    let url = prom.url();
    let t = T.to_string();
    for (job, code, firing, pending) in [("short", 0, false, true), ("long", 1, true, false)] {
        let p = dir.join(format!("{job}.yaml"));
        std::fs::write(&p, spec(job, &[("5m", Some("5m"))])).unwrap();
        let (got, out, err) = slo(&[
            "status",
            p.to_str().unwrap(),
            "--prometheus",
            &url,
            "--at",
            &t,
            "--format",
            "json",
        ]);
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}\n{err}"));
        assert_eq!(got, code, "{job}: {v}\n{err}");
        let a = &v["slos"][0]["alerts"][0];
        assert_eq!(a["for"], "5m", "{v}");
        assert_eq!(a["firing"], firing, "{job}: {v}");
        assert_eq!(
            a["pending"].as_bool().unwrap_or(false),
            pending,
            "{job}: {v}"
        );
        if firing {
            let reason = v["gate"]["reasons"][0].as_str().unwrap();
            assert!(
                reason.contains("page alert firing: burn rate above 2x over 5m and 5m for 5m"),
                "{reason}"
            );
        }
    }
    drop(prom);
}
