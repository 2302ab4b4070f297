//! `slo validate` against `promtool check rules`: the rules generated from
//! every committed fixture pass promtool, and specs whose rules promtool
//! rejects (a `__name__` label, a broken or unknown annotation template)
//! are refused by `validate` too — the same verdict from both.

mod common;
use common::{fixture, require, slo};
use std::process::Command;

fn promtool_accepts(rules: &str) -> (bool, String) {
    let promtool = require("promtool");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rules.yaml");
    std::fs::write(&p, rules).unwrap();
    let o = Command::new(promtool)
        .args(["check", "rules"])
        .arg(&p)
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

#[test]
fn the_rules_of_every_valid_fixture_pass_promtool() {
    let mut checked = 0;
    for name in [
        "sloth.yaml",
        "openslo.yaml",
        "sloth_k8s_raw.yaml",
        "api.yaml",
    ] {
        let path = fixture(name);
        let (code, out, err) = slo(&["validate", &path]);
        if code != 0 {
            // Not a valid fixture (broken.yaml-like): promtool is not asked.
            assert!(out.contains("problems"), "{name}: {out}{err}");
            continue;
        }
        let (code, rules, err) = slo(&["generate", &path]);
        assert_eq!(code, 0, "{name}: {err}");
        let (ok, said) = promtool_accepts(&rules);
        assert!(
            ok,
            "{name}: promtool rejects the generated rules: {said}\n{rules}"
        );
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} fixtures validated");
}

const BASE: &str = "version: prometheus/v1\nservice: api\nslos:\n  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(http_errors_total[{{.window}}]))\n        total_query: sum(rate(http_requests_total[{{.window}}]))\n";

/// Specs whose generated rules promtool rejects: `validate` must reject
/// each one as well, and promtool must really reject its rules (so the
/// test follows promtool, not redline's idea of it).
#[test]
fn what_promtool_rejects_validate_rejects() {
    let cases = [
        (
            "a __name__ label",
            format!("{BASE}    labels:\n      __name__: x\n"),
            "__name__",
        ),
        (
            "an unclosed annotation action",
            format!(
                "{BASE}    alerting:\n      annotations:\n        summary: \"{{{{ $labels.instance\"\n"
            ),
            "unclosed action",
        ),
        (
            "an unknown template function",
            format!(
                "{BASE}    alerting:\n      annotations:\n        summary: \"{{{{ nosuch $value }}}}\"\n"
            ),
            "not defined",
        ),
        (
            "an unbalanced if",
            format!(
                "{BASE}    alerting:\n      page_alert:\n        annotations:\n          runbook: \"{{{{ if $value }}}}high\"\n"
            ),
            "unexpected EOF",
        ),
        (
            "an undefined variable in a label",
            format!("{BASE}    alerting:\n      labels:\n        team: \"{{{{ $team }}}}\"\n"),
            "undefined variable",
        ),
    ];
    for (what, spec, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("slo.yaml");
        std::fs::write(&p, &spec).unwrap();
        let path = p.display().to_string();
        // promtool on the rules the spec would generate.
        let loaded = redline_slo::spec::load(&path, &spec, redline_slo::spec::DEFAULT_WINDOW_SECS);
        assert_eq!(loaded.slos.len(), 1, "{what}: {:?}", loaded.problems);
        let rules = redline_slo::prometheus_rules::generate(&loaded.slos);
        let (ok, said) = promtool_accepts(&rules);
        assert!(
            !ok,
            "{what}: promtool accepts it, the case is wrong:\n{rules}"
        );
        // validate.
        let (code, out, err) = slo(&["validate", &path]);
        assert_eq!(
            code, 1,
            "{what}: validate accepts what promtool rejects ({said}): {out}{err}"
        );
        assert!(out.contains(expected), "{what}: {out}");
    }
}
