//! The generated alerts fire, checked by Prometheus's own rule evaluator
//! (`promtool test rules`): a 10% error ratio (100x the budget) pages with
//! the spec's labels and annotations, and no errors page nobody.
//!
//! (The short- and long-window ratios are recorded with different
//! `redline_window` labels; an alert that joined them with a bare `and`
//! would match no pair and never fire.)

mod common;
use common::{require, slo};
use std::process::Command;

const SPEC: &str = r#"version: prometheus/v1
service: api
labels: {team: core}
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code="500"}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting:
      name: ApiBurn
      annotations: {summary: "burning", title: "api availability"}
      page_alert: {labels: {severity: critical}}
      ticket_alert: {labels: {severity: warning}}
"#;

const TESTS: &str = r#"rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  # 10% errors for three hours: both page conditions (1h/5m at 14.4x,
  # 6h/30m at 6x) and both ticket ones hold.
  - interval: 1m
    input_series:
      - series: 'http_requests_total{code="500"}'
        values: '0+10x180'
      - series: 'http_requests_total{code="200"}'
        values: '0+90x180'
    alert_rule_test:
      - eval_time: 90m
        alertname: ApiBurn
        exp_alerts:
          - exp_labels: {team: core, redline_id: api-availability, redline_service: api, redline_slo: availability, severity: critical, redline_severity: page}
            exp_annotations: {summary: burning, title: api availability}
          - exp_labels: {team: core, redline_id: api-availability, redline_service: api, redline_slo: availability, severity: warning, redline_severity: ticket}
            exp_annotations: {summary: burning, title: api availability}
  # No errors: nothing fires.
  - interval: 1m
    input_series:
      - series: 'http_requests_total{code="500"}'
        values: '0x180'
      - series: 'http_requests_total{code="200"}'
        values: '0+100x180'
    alert_rule_test:
      - eval_time: 90m
        alertname: ApiBurn
        exp_alerts: []
"#;

#[test]
fn generated_alerts_fire_in_promtool() {
    let promtool = require("promtool");
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("slo.yaml");
    std::fs::write(&spec, SPEC).unwrap();
    let rules = dir.path().join("rules.yaml");
    let (code, _, err) = slo(&[
        "generate",
        spec.to_str().unwrap(),
        "-o",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let tests = dir.path().join("tests.yaml");
    std::fs::write(&tests, TESTS).unwrap();
    let out = Command::new(promtool)
        .current_dir(dir.path())
        .args(["test", "rules", "tests.yaml"])
        .output()
        .expect("promtool runs");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "promtool test rules failed:\n{text}\n{}",
        std::fs::read_to_string(&rules).unwrap()
    );
    assert!(text.contains("SUCCESS"), "{text}");
}
