//! RL702 and RL703 through the binary: the manifest rules' ids reach the
//! report (the driver drops a finding whose id the catalog lacks), and
//! RL703 is inactive until a redline.toml names required variables.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
spec:
  template:
    spec:
      containers:
        - name: orders
          resources:
            limits: {cpu: "2"}
          env:
            - name: GOMAXPROCS
              value: "8"
            - name: SERVICE_NAME
              value: orders
        - name: relay
          env:
            - name: GOMAXPROCS
              value: "zero"
"#;

fn tree(name: &str, config: Option<&str>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-mrules-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("deploy")).unwrap();
    std::fs::write(dir.join("deploy/orders.yaml"), DEPLOYMENT).unwrap();
    if let Some(c) = config {
        std::fs::write(dir.join("redline.toml"), c).unwrap();
    }
    dir
}

/// `redline check --format json .` in `dir`: exit code and (rule, line,
/// severity, message) of each finding.
fn check(dir: &Path) -> (i32, Vec<(String, u64, String, String)>) {
    let out = Command::new(env!("CARGO_BIN_EXE_redline"))
        .current_dir(dir)
        .args(["check", "--no-cache", "--format", "json", "."])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let findings = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["severity"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (out.status.code().unwrap(), findings)
}

fn rules_at(findings: &[(String, u64, String, String)]) -> Vec<(&str, u64)> {
    findings.iter().map(|f| (f.0.as_str(), f.1)).collect()
}

#[test]
fn rl702_reaches_the_report() {
    let dir = tree("rl702", None);
    let (code, findings) = check(&dir);
    assert_eq!(code, 1, "{findings:?}");
    let rl702: Vec<_> = findings.iter().filter(|f| f.0 == "RL702").collect();
    assert_eq!(rl702.len(), 2, "{findings:?}");
    assert_eq!((rl702[0].1, rl702[1].1), (13, 19), "{findings:?}");
    assert!(rl702[0].3.contains("GOMAXPROCS=8"), "{}", rl702[0].3);
    assert!(
        rl702[1].3.contains("not a positive integer"),
        "{}",
        rl702[1].3
    );
}

#[test]
fn rl703_is_off_without_configuration() {
    let dir = tree("rl703-off", None);
    let (_, findings) = check(&dir);
    assert!(
        !findings.iter().any(|f| f.0 == "RL703"),
        "{:?}",
        rules_at(&findings)
    );
    // A redline.toml without required variables leaves it off too.
    let dir = tree(
        "rl703-off-config",
        Some("[env.LOG_LEVEL]\none-of = [\"info\"]\n"),
    );
    let (_, findings) = check(&dir);
    assert!(!findings.iter().any(|f| f.0 == "RL703"), "{findings:?}");
}

#[test]
fn rl703_is_on_when_configured() {
    let dir = tree(
        "rl703-on",
        Some("[manifests]\nrequired-env = [\"SERVICE_NAME\", \"REGION\"]\n"),
    );
    let (code, findings) = check(&dir);
    assert_eq!(code, 1);
    let rl703: Vec<_> = findings.iter().filter(|f| f.0 == "RL703").collect();
    assert_eq!(rl703.len(), 2, "{findings:?}");
    assert_eq!((rl703[0].1, rl703[1].1), (9, 17));
    assert!(rl703[0].3.contains("REGION") && !rl703[0].3.contains("SERVICE_NAME"));
    assert!(
        rl703[1].3.contains("SERVICE_NAME, REGION"),
        "{}",
        rl703[1].3
    );
    // An explicit `[env.NAME] required = true` activates it, and
    // required-env-containers limits it.
    let dir = tree(
        "rl703-env",
        Some("[manifests]\nrequired-env-containers = [\"relay\"]\n[env.REGION]\nrequired = true\n"),
    );
    let (_, findings) = check(&dir);
    let rl703: Vec<_> = findings.iter().filter(|f| f.0 == "RL703").collect();
    assert_eq!(rl703.len(), 1, "{findings:?}");
    assert_eq!((rl703[0].1, rl703[0].2.as_str()), (17, "error"));
    // Only what the configuration requires: the built-in spec's required
    // variables (DATABASE_URL, JWT_SECRET) are not demanded of manifests.
    assert!(
        rl703[0].3.contains("REGION") && !rl703[0].3.contains("DATABASE_URL"),
        "{}",
        rl703[0].3
    );
}

#[test]
fn the_example_service_configures_rl703() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders-service");
    let (code, findings) = check(&example);
    assert_eq!(code, 1);
    let rl703: Vec<_> = findings.iter().filter(|f| f.0 == "RL703").collect();
    assert_eq!(rl703.len(), 1, "{:?}", rules_at(&findings));
    assert!(
        rl703[0].3.contains("outbox-relay") && rl703[0].3.contains("DATABASE_URL, JWT_SECRET"),
        "{}",
        rl703[0].3
    );
}

/// `redline check --format json PATH` in `dir`: exit code, the rule ids
/// found, and standard error.
fn check_path(dir: &Path, path: &str) -> (i32, Vec<String>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_redline"))
        .current_dir(dir)
        .args(["check", "--no-cache", "--format", "json", path])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let rules = serde_json::from_slice::<Value>(&out.stdout)
        .map(|v| {
            v["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["rule"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    (out.status.code().unwrap(), rules, stderr)
}

#[test]
fn manifest_extensions_are_read_in_any_case() {
    // `Orders.YAML` was skipped by a directory scan, and named on the
    // command line it was "not a Go, go.mod or manifest file" (exit 2).
    let dir = std::env::temp_dir().join(format!("redline-mrules-{}-case", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("deploy")).unwrap();
    std::fs::write(dir.join("deploy/Orders.YAML"), DEPLOYMENT).unwrap();
    std::fs::write(dir.join("deploy/relay.Yml"), DEPLOYMENT).unwrap();
    let (code, scanned, stderr) = check_path(&dir, ".");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        scanned.iter().filter(|r| *r == "RL702").count(),
        4,
        "{scanned:?}"
    );
    let (code, named, stderr) = check_path(&dir, "deploy/Orders.YAML");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        named.iter().filter(|r| *r == "RL702").count(),
        2,
        "{named:?} {stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
