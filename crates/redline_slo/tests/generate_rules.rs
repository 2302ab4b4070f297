//! `redline slo generate` output passes `promtool check rules` and is
//! deterministic.

mod common;
use common::{fixture, require, slo};

#[test]
fn generated_rules_pass_promtool_and_are_deterministic() {
    let promtool = require("promtool");
    let dir = std::env::temp_dir().join(format!("redline-slo-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("rules.yaml");
    let files = [
        fixture("sloth.yaml"),
        fixture("openslo.yaml"),
        fixture("sloth_k8s_raw.yaml"),
    ];
    let (code, _, err) = slo(&[
        "generate",
        &files[0],
        &files[1],
        &files[2],
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let first = std::fs::read_to_string(&out).unwrap();
    let (code, stdout, err) = slo(&["generate", &files[0], &files[1], &files[2]]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(first, stdout, "generate is not deterministic");
    let check = std::process::Command::new(promtool)
        .args(["check", "rules"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout).to_string()
        + &String::from_utf8_lossy(&check.stderr);
    assert!(
        check.status.success(),
        "promtool check rules failed:\n{text}\n{first}"
    );
    assert!(text.contains("SUCCESS"), "{text}");
    // The 7d OpenSLO window scales the alert windows: 1h → 14m, 6h → 1h24m.
    assert!(
        first.contains("slo:sli_error:ratio_rate14m{redline_id=\"search-search-latency\"}"),
        "{first}"
    );
    assert!(first.contains(
        "sum_over_time(slo:sli_errors:rate5m{redline_id=\"checkout-requests-availability\"}[30d])"
    ));
    // Raw SLIs average (documented), disabled alerts are left out.
    assert!(first.contains("expr: \"avg_over_time(slo:sli_error:ratio_rate5m{redline_id=\\\"ledger-writes\\\"}[30d])\""), "{first}");
    let ledger_alerts = &first[first.find("redline-slo-alerts-ledger-writes").unwrap()..];
    assert!(
        ledger_alerts.contains("redline_severity: \"ticket\"")
            && !ledger_alerts.contains("redline_severity: \"page\"")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn validate_reports_every_problem_with_positions() {
    let (code, out, _) = slo(&["validate", &fixture("broken.yaml")]);
    assert_eq!(code, 1, "{out}");
    let path = fixture("broken.yaml");
    for expected in [
        format!("{path}:5:16: error: objective 100.5 is out of range"),
        format!("{path}:8:22: error: error_query has no `{{{{.window}}}}` placeholder"),
        format!("{path}:9:22: error: total_query is not valid PromQL"),
        format!("{path}:10:11: error: duplicate SLO `availability`"),
        format!(
            "{path}:11:16: error: the page alert (1h and 5m windows at 14.4x burn) can never fire"
        ),
        format!("{path}:15:5: error: missing `objective`"),
        format!("{path}:16:5: error: unknown key `objectve` in an SLO (did you mean `objective`?)"),
    ] {
        assert!(out.contains(&expected), "missing `{expected}` in:\n{out}");
    }
    assert!(out.contains("7 problems"), "{out}");
    let (code, out, _) = slo(&["validate", &fixture("sloth.yaml"), &fixture("openslo.yaml")]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = slo(&["validate", "--format", "json", &fixture("broken.yaml")]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(7), "{v}");
    assert_eq!(v["problems"][0]["line"], 5);
    assert_eq!(v["problems"][0]["column"], 16);
}

#[test]
fn a_grammar_error_inside_a_block_scalar_names_the_token_and_its_line() {
    let dir = std::env::temp_dir().join(format!("redline-slo-grammar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("slo.yaml");
    std::fs::write(
        &spec,
        "version: prometheus/v1\nservice: orders\nslos:\n  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: |\n          sum(rate(http_requests_total{code=~\"5..\"}[{{.window}}]))\n            sum(rate(other[{{.window}}]))\n        total_query: sum(rate(http_requests_total[{{.window}}]))\n",
    )
    .unwrap();
    let (code, out, _) = slo(&["validate", spec.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(":9:11: error: error_query is not valid PromQL: unexpected `sum` at line 2, column 3 of the query: an operator (or a comma) is missing before it"),
        "{out}"
    );
    assert!(out.contains("\n1 problem\n"), "{out}");
    let _ = std::fs::remove_dir_all(dir);
}
