//! RL801 `slo-spec-missing` through `redline check`: `[slo] specs` in
//! redline.toml turns it on, globs are relative to that file, and workloads
//! rendered from a Kustomize overlay are checked as deployed (their names
//! and labels after the overlay).

use std::path::Path;
use std::process::{Command, Output};

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn check(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(["check", "--no-cache", "--format", "json"])
        .args(extra)
        .arg(".")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("redline runs")
}

/// (rule, path, line, message) of every finding.
fn findings(out: &Output) -> Vec<(String, String, u64, String)> {
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["path"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: NAME\n";

#[test]
fn configured_specs_turn_rl801_on_for_uncovered_workloads() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(
        dir,
        "deploy/orders.yaml",
        &DEPLOYMENT.replace("NAME", "orders"),
    );
    write(
        dir,
        "deploy/billing.yaml",
        &DEPLOYMENT.replace("NAME", "billing"),
    );
    // Without `[slo] specs`, RL801 is off.
    let out = check(dir, &[]);
    assert!(findings(&out).is_empty(), "{:?}", findings(&out));
    write(dir, "redline.toml", "[slo]\nspecs = [\"slo/*.yaml\"]\n");
    write(
        dir,
        "slo/orders.yaml",
        "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata: {name: orders}\nspec:\n  service: orders\n  slos:\n    - name: availability\n      objective: 99.9\n      sli:\n        raw:\n          errorRatioQuery: sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))\n",
    );
    let out = check(dir, &[]);
    let f = findings(&out);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].0.as_str(), f[0].1.as_str(), f[0].2),
        ("RL801", "deploy/billing.yaml", 4)
    );
    assert!(f[0].3.contains("`billing`"), "{}", f[0].3);
    assert_eq!(out.status.code(), Some(1));
    // A glob that matches nothing is a configuration error, with the line.
    write(dir, "redline.toml", "[slo]\nspecs = [\"slos/*.yaml\"]\n");
    let out = check(dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("redline.toml:2") && err.contains("`slos/*.yaml` matches no file"),
        "{err}"
    );
}

#[test]
fn workloads_rendered_from_an_overlay_are_checked_as_deployed() {
    let Some(kubectl) = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    }) else {
        if std::env::var_os("REDLINE_REQUIRE_TOOLS").is_some() {
            panic!("`kubectl` is not on PATH: scripts/test.sh installs it");
        }
        eprintln!("skipped: `kubectl` is not on PATH");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(
        dir,
        "redline.toml",
        &format!(
            "[kustomize]\nbinary = \"{}\"\n\n[slo]\nspecs = [\"slo/**/*.yaml\"]\n",
            kubectl.display()
        ),
    );
    write(
        dir,
        "slo/team/orders.yaml",
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: availability}\nspec:\n  service: orders\n  budgetingMethod: Occurrences\n  objectives: [{target: 0.999}]\n  indicator:\n    spec:\n      ratioMetric:\n        bad: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(e[{{.window}}]))'}}}\n        total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(t[{{.window}}]))'}}}\n",
    );
    // orders carries its service label; billing has none, so its rendered
    // name (with the overlay's prefix) is its service.
    write(
        dir,
        "deploy/base/orders.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: orders\nspec:\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: orders\n    spec:\n      containers:\n        - name: app\n          image: orders\n",
    );
    write(
        dir,
        "deploy/base/billing.yaml",
        &DEPLOYMENT.replace("NAME", "billing"),
    );
    write(
        dir,
        "deploy/base/kustomization.yaml",
        "resources:\n  - orders.yaml\n  - billing.yaml\n",
    );
    write(
        dir,
        "deploy/overlays/prod/kustomization.yaml",
        "namePrefix: prod-\nresources:\n  - ../../base\n",
    );
    let out = check(dir, &[]);
    let f = findings(&out);
    let rl801: Vec<_> = f.iter().filter(|f| f.0 == "RL801").collect();
    assert_eq!(
        rl801.len(),
        1,
        "{f:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rl801[0].1, "deploy/base/billing.yaml", "{f:?}");
    assert!(
        rl801[0].3.contains("service `prod-billing`"),
        "{}",
        rl801[0].3
    );
}
