//! Helm charts and Kustomize overlays, checked as they are deployed: the
//! real `helm` and `kustomize` render the fixtures in
//! crates/redline_k8s/tests/fixtures/render/
//! (scripts/test.sh installs both), and each finding must point at the
//! template or source file it came from.
//!
//! Without the tools a test says so and passes, unless
//! REDLINE_REQUIRE_TOOLS is set (scripts/test.sh sets it), where a missing
//! tool fails it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{find_tool, render_fixture as fixture};

/// Runs `redline check ARGS` in `dir` with PATH = `path`.
fn run(dir: &Path, args: &[&str], path: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .expect("redline runs")
}

/// A PATH holding only `tools` (symlinked into a fresh directory).
fn path_with(tools: &[&Path]) -> (PathBuf, String) {
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "redline-k8s-path-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for t in tools {
        std::os::unix::fs::symlink(t, dir.join(t.file_name().unwrap())).unwrap();
    }
    let s = dir.to_string_lossy().into_owned();
    (dir, s)
}

#[derive(Debug, Clone)]
struct Finding {
    rule: String,
    severity: String,
    path: String,
    line: usize,
    message: String,
}

/// The findings of a `--format json` run.
fn findings(out: &Output) -> Vec<Finding> {
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| Finding {
            rule: d["rule"].as_str().unwrap().to_string(),
            severity: d["severity"].as_str().unwrap().to_string(),
            path: d["path"].as_str().unwrap().to_string(),
            line: d["line"].as_u64().unwrap() as usize,
            message: d["message"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// The 1-based line of the first line of `file` (in `dir`) whose trimmed
/// text is `text`.
fn line_of(dir: &Path, file: &str, text: &str) -> usize {
    let src = std::fs::read_to_string(dir.join(file)).unwrap();
    src.lines()
        .position(|l| l.trim() == text)
        .unwrap_or_else(|| panic!("{file} has no line `{text}`"))
        + 1
}

fn keys(f: &[Finding]) -> Vec<(String, String, usize)> {
    let mut k: Vec<_> = f
        .iter()
        .map(|f| (f.rule.clone(), f.path.clone(), f.line))
        .collect();
    k.sort();
    k
}

fn key(rule: &str, path: &str, line: usize) -> (String, String, usize) {
    (rule.to_string(), path.to_string(), line)
}

const ARGS: [&str; 6] = [
    "check",
    "--no-cache",
    "--format",
    "json",
    "--ignore",
    "RL703",
];

#[test]
fn chart_defaults_are_clean_and_prod_values_are_traced_to_templates() {
    let Some(helm) = find_tool("helm") else {
        return;
    };
    let dir = fixture("chart-app");
    let (_tmp, path) = path_with(&[&helm]);
    // The chart's own values: a clean Deployment, a hook Job, the worker
    // subchart disabled; the library chart is not rendered; no template is
    // read as raw YAML (no RL000 for the `{{ }}` files).
    let out = run(&dir, &[&ARGS[..], &["--isolated", "."]].concat(), &path);
    let f = findings(&out);
    assert!(
        f.is_empty(),
        "{f:#?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));

    // values-prod.yaml: a CPU limit without GOMAXPROCS, a literal
    // password, and the worker (with its own CPU limit) switched on.
    let out = run(
        &dir,
        &[&ARGS[..], &["--config", "redline.prod.toml", "."]].concat(),
        &path,
    );
    let f = findings(&out);
    let tpl = "deploy/chart/templates/deployment.yaml";
    let worker = "deploy/chart/charts/worker/templates/deployment.yaml";
    assert_eq!(
        keys(&f),
        vec![
            key("RL701", worker, line_of(&dir, worker, "- name: worker")),
            key(
                "RL701",
                tpl,
                line_of(&dir, tpl, "- name: {{ .Chart.Name }}")
            ),
            key("RL704", tpl, line_of(&dir, tpl, "- name: DB_PASSWORD")),
        ],
        "{f:#?}"
    );
    let rl701 = f
        .iter()
        .find(|f| f.rule == "RL701" && f.path == tpl)
        .unwrap();
    for part in [
        "Deployment `shop`",
        "chart `deploy/chart`",
        "release `shop`",
        "namespace `prod`",
        "values-prod.yaml",
        "shop/templates/deployment.yaml",
    ] {
        assert!(
            rl701.message.contains(part),
            "`{part}` in {}",
            rl701.message
        );
    }
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !all.contains("prod-hunter2-password"),
        "a secret was printed"
    );
    assert_eq!(out.status.code(), Some(1));

    // The text report quotes the template line.
    let out = run(
        &dir,
        &[
            "check",
            "--no-cache",
            "--ignore",
            "RL703",
            "--config",
            "redline.prod.toml",
            ".",
        ],
        &path,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("- name: DB_PASSWORD"), "{text}");
    assert!(!text.contains("prod-hunter2-password"), "{text}");
}

#[test]
fn without_helm_one_notice_per_chart() {
    let dir = fixture("chart-app");
    let (_tmp, path) = path_with(&[]);
    let out = run(&dir, &[&ARGS[..], &["--isolated", "."]].concat(), &path);
    let f = findings(&out);
    // One chart to render (the library chart is never rendered, the
    // subchart is part of its parent): one notice, at its Chart.yaml.
    assert_eq!(
        keys(&f),
        vec![key("RL000", "deploy/chart/Chart.yaml", 1)],
        "{f:#?}"
    );
    assert_eq!(f[0].severity, "info");
    assert!(f[0].message.contains("helm"), "{}", f[0].message);
    assert_eq!(out.status.code(), Some(0), "an info does not fail the run");
    // Two renderings configured for the chart: still one notice.
    let out = run(
        &dir,
        &[&ARGS[..], &["--config", "redline.prod.toml", "."]].concat(),
        &path,
    );
    assert_eq!(
        keys(&findings(&out)),
        vec![key("RL000", "deploy/chart/Chart.yaml", 1)]
    );
    // `--helm PATH` that does not exist is a usage error, not a notice.
    let out = run(
        &dir,
        &["check", "--isolated", "--helm", "/nonexistent/helm", "."],
        &path,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent/helm"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_chart_that_does_not_render_is_one_error_with_helms_message() {
    let Some(helm) = find_tool("helm") else {
        return;
    };
    let (_tmp, path) = path_with(&[&helm]);
    // A dependency that is not in charts/ (redline never downloads it).
    let dir = fixture("chart-broken");
    let out = run(&dir, &[&ARGS[..], &["--isolated", "."]].concat(), &path);
    let f = findings(&out);
    assert_eq!(
        keys(&f),
        vec![key("RL000", "chart/Chart.yaml", 1)],
        "{f:#?}"
    );
    assert_eq!(f[0].severity, "error");
    assert!(
        f[0].message.contains("redis") && f[0].message.contains("helm says"),
        "{}",
        f[0].message
    );
    assert_eq!(out.status.code(), Some(1));
    // A template error: helm names the template and line.
    let dir = fixture("chart-template-error");
    let out = run(&dir, &[&ARGS[..], &["--isolated", "."]].concat(), &path);
    let f = findings(&out);
    assert_eq!(
        keys(&f),
        vec![key("RL000", "chart/Chart.yaml", 1)],
        "{f:#?}"
    );
    assert!(
        f[0].message.contains("templates/deployment.yaml"),
        "{}",
        f[0].message
    );
    // Explicitly through --helm, with nothing on PATH.
    let (_tmp2, empty) = path_with(&[]);
    let helm_arg = helm.to_string_lossy().into_owned();
    let out = run(
        &dir,
        &[&ARGS[..], &["--isolated", "--helm", &helm_arg, "."]].concat(),
        &empty,
    );
    assert_eq!(
        keys(&findings(&out)),
        vec![key("RL000", "chart/Chart.yaml", 1)]
    );
}

#[test]
fn overlay_patch_is_traced_to_the_base_and_files_are_not_checked_twice() {
    let Some(kustomize) = find_tool("kustomize") else {
        return;
    };
    let dir = fixture("overlay-app");
    let (_tmp, path) = path_with(&[&kustomize]);
    let out = run(&dir, &[&ARGS[..], &["--isolated", "."]].concat(), &path);
    let f = findings(&out);
    let base = "deploy/base/deployment.yaml";
    let cloneset = "deploy/base/cloneset.yaml";
    let rollout = "deploy/overlays/prod/rollout.yaml";
    // prod patches a CPU limit into the base Deployment and the CloneSet;
    // staging adds nothing. The patches themselves are not raw manifests.
    assert_eq!(
        keys(&f),
        vec![
            key(
                "RL701",
                cloneset,
                line_of(&dir, cloneset, "- name: indexer")
            ),
            key("RL701", base, line_of(&dir, base, "- name: api")),
            key(
                "RL704",
                rollout,
                line_of(&dir, rollout, "- name: API_TOKEN")
            ),
        ],
        "{f:#?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rl701 = f.iter().find(|f| f.path == base).unwrap();
    for part in [
        "Deployment `prod-api`",
        "overlay `deploy/overlays/prod`",
        "patched by deploy/overlays/prod/cpu-limit.yaml",
    ] {
        assert!(
            rl701.message.contains(part),
            "`{part}` in {}",
            rl701.message
        );
    }
    // kustomize lists its patch transformer on every object: only the
    // patches that target an object are named.
    let rl704 = f.iter().find(|f| f.path == rollout).unwrap();
    assert!(!rl704.message.contains("patched by"), "{}", rl704.message);
    // canary deploys the same object the same way: one finding, naming
    // both overlays.
    assert!(
        rl701.message.contains("overlay `deploy/overlays/canary`"),
        "{}",
        rl701.message
    );
    let cs = f.iter().find(|f| f.path == cloneset).unwrap();
    assert!(
        cs.message
            .contains("patched by deploy/overlays/prod/indexer-cpu.yaml"),
        "{}",
        cs.message
    );
    assert!(
        cs.message.contains("CloneSet `prod-indexer`"),
        "{}",
        cs.message
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("tok-0123456789abcdef"));
}

#[test]
fn without_kustomize_one_notice_per_overlay_and_raw_files_checked() {
    let dir = fixture("overlay-app");
    let (_tmp, path) = path_with(&[]);
    let out = run(&dir, &[&ARGS[..], &["--isolated", "."]].concat(), &path);
    let f = findings(&out);
    let notices: Vec<&Finding> = f.iter().filter(|f| f.rule == "RL000").collect();
    assert_eq!(
        notices.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        [
            "deploy/overlays/canary/kustomization.yaml",
            "deploy/overlays/prod/kustomization.yaml",
            "deploy/overlays/staging/kustomization.yaml"
        ],
        "{f:#?}"
    );
    assert!(notices.iter().all(|n| n.severity == "info"));
    // The files as they are: the patch alone is a Deployment with a limit.
    let raw: Vec<(String, String)> = f
        .iter()
        .filter(|f| f.rule != "RL000")
        .map(|f| (f.rule.clone(), f.path.clone()))
        .collect();
    assert!(
        raw.contains(&("RL701".into(), "deploy/overlays/prod/cpu-limit.yaml".into())),
        "{raw:?}"
    );
    // Without kustomize to build what uses it, a component's patch is
    // checked as it is too.
    assert!(
        raw.contains(&(
            "RL701".into(),
            "deploy/components/debug/debug-limits.yaml".into()
        )),
        "{raw:?}"
    );
}

#[test]
fn rendered_output_on_standard_input_still_works() {
    let dir = fixture("chart-app");
    let rendered = "---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: shop\n          resources:\n            limits:\n              cpu: \"2\"\n";
    let mut child = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args([
            "check",
            "--isolated",
            "--format",
            "json",
            "--ignore",
            "RL703",
            "--stdin-filename",
            "rendered.yaml",
            "-",
        ])
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(rendered.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        keys(&findings(&out)),
        vec![key("RL701", "rendered.yaml", 11)]
    );
}

#[test]
fn a_helm_that_hangs_is_stopped_after_the_timeout() {
    let (tmp, path) = path_with(&[]);
    let helm = tmp.join("helm");
    std::fs::write(&helm, "#!/bin/sh\nexec /bin/sleep 30\n").unwrap();
    let mut perms = std::fs::metadata(&helm).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&helm, perms).unwrap();
    let config = tmp.join("redline.toml");
    std::fs::write(
        &config,
        format!(
            "[helm]\nbinary = \"{}\"\ntimeout-seconds = 1\n",
            helm.display()
        ),
    )
    .unwrap();
    let dir = fixture("chart-broken");
    let started = std::time::Instant::now();
    let out = run(
        &dir,
        &[&ARGS[..], &["--config", &config.to_string_lossy(), "."]].concat(),
        &path,
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let f = findings(&out);
    assert_eq!(
        keys(&f),
        vec![key("RL000", "chart/Chart.yaml", 1)],
        "{f:#?}"
    );
    assert!(
        f[0].message.contains("did not finish within 1 s"),
        "{}",
        f[0].message
    );
    assert_eq!(f[0].severity, "error");
}

/// With no `kustomize` but a `kubectl`, overlays are built with
/// `kubectl kustomize DIR` (kubectl takes the directory, no `build`). The
/// stand-in kubectl accepts exactly that form, as kubectl does ("specify
/// one path to kustomization.yaml" otherwise), and runs the real kustomize.
#[test]
fn overlays_build_with_kubectl_kustomize() {
    let Some(kustomize) = find_tool("kustomize") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let kubectl = tmp.path().join("kubectl");
    std::fs::write(
        &kubectl,
        format!(
            "#!/bin/sh\n[ \"$1\" = kustomize ] && [ $# -eq 2 ] || {{ echo 'error: specify one path to kustomization.yaml' >&2; exit 1; }}\nexec '{}' build \"$2\"\n",
            kustomize.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = fixture("overlay-app");
    let (_path_dir, path) = path_with(&[&kubectl]);
    let path = format!("{path}:/bin:/usr/bin");
    let out = run(&dir, &[&ARGS[..], &["--isolated", "."]].concat(), &path);
    let f = findings(&out);
    let rules: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        vec!["RL701", "RL701", "RL704"],
        "{f:#?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        f.iter()
            .any(|f| f.message.contains("overlay `deploy/overlays/prod`")),
        "{f:#?}"
    );
}

/// An overlay that kustomize cannot build (here: a resource that does not
/// exist) is one RL000 at `info`: its kustomization.yaml parses, and a file
/// that parses is never a failing RL000 (the field test's six false
/// errors were overlays needing the network or generated files).
#[test]
fn an_overlay_that_does_not_build_is_info_and_does_not_fail_the_run() {
    let Some(kustomize) = find_tool("kustomize") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - missing.yaml\n",
    )
    .unwrap();
    let (_path_dir, path) = path_with(&[&kustomize]);
    let out = run(
        tmp.path(),
        &[&ARGS[..], &["--isolated", "."]].concat(),
        &path,
    );
    let f = findings(&out);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        (f[0].rule.as_str(), f[0].severity.as_str()),
        ("RL000", "info")
    );
    assert!(f[0].message.contains("cannot build overlay"), "{f:#?}");
    assert_eq!(out.status.code(), Some(0));
}
