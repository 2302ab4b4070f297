//! The render cache: a chart or overlay whose inputs did not change is not
//! rendered again, gives the same findings from the cache, and is rendered
//! again when one of its inputs changes. The real `helm` and `kustomize`
//! (scripts/test.sh installs both) run behind a wrapper that counts its
//! runs. Without the tools a test says so and passes, unless
//! REDLINE_REQUIRE_TOOLS is set.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{find_tool, git, render_fixture as fixture};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A directory with `name`, a script that appends a line to `count` and
/// runs `real` with its arguments.
fn counting(dir: &Path, name: &str, real: &Path, count: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join(name);
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> '{}'\nexec '{}' \"$@\"\n",
            count.display(),
            real.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("{}:/bin:/usr/bin", bin.display())
}

fn runs(count: &Path) -> usize {
    std::fs::read_to_string(count)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

fn check(dir: &Path, cache: &Path, path: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .args([
            "check",
            "--format",
            "json",
            "--ignore",
            "RL703",
            "--cache-dir",
        ])
        .arg(cache)
        .args(extra)
        .arg(".")
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("REDLINE_CACHE_DIR")
        .output()
        .expect("redline runs")
}

/// Every finding as (rule, path, line, column, message), sorted.
fn findings(out: &Output) -> Vec<(String, String, u64, u64, String)> {
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut f: Vec<_> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["path"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap_or(0),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    f.sort();
    f
}

#[test]
fn a_cached_chart_gives_the_same_findings_and_a_changed_values_file_misses() {
    let Some(helm) = find_tool("helm") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    copy_tree(&fixture("chart-app"), &tree);
    let cache = tmp.path().join("cache");
    let count = tmp.path().join("count");
    let path = counting(tmp.path(), "helm", &helm, &count);
    let prod = ["--config", "redline.prod.toml"];
    // The prod values file outside the chart directory (found relative to
    // redline.toml), so that editing it leaves the chart's own files as
    // they were: every file below the chart directory is an input of
    // every rendering of the chart.
    std::fs::rename(
        tree.join("deploy/chart/values-prod.yaml"),
        tree.join("values-prod.yaml"),
    )
    .unwrap();

    // redline.prod.toml renders the chart twice (prod values, canary).
    let first = check(&tree, &cache, &path, &prod);
    let f1 = findings(&first);
    assert_eq!(
        runs(&count),
        2,
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        f1.iter()
            .any(|f| f.0 == "RL701" && f.1.contains("charts/worker")),
        "{f1:#?}"
    );
    // Nothing changed: helm does not run, the findings are the same.
    let second = check(&tree, &cache, &path, &prod);
    assert_eq!(runs(&count), 2, "helm ran again on a cache hit");
    assert_eq!(findings(&second), f1);
    assert_eq!(second.status.code(), first.status.code());

    // The prod values file changes (the worker is switched off): that
    // rendering misses, the canary one (chart's own values) still hits.
    let values = tree.join("values-prod.yaml");
    let text = std::fs::read_to_string(&values).unwrap();
    std::fs::write(&values, text.replace("enabled: true", "enabled: false")).unwrap();
    let third = check(&tree, &cache, &path, &prod);
    assert_eq!(
        runs(&count),
        3,
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
    let f3 = findings(&third);
    assert!(
        !f3.iter().any(|f| f.1.contains("charts/worker")),
        "stale rendering from the cache: {f3:#?}"
    );
    assert_eq!(f3.len(), f1.len() - 1, "{f3:#?}");

    // A template changes: both renderings miss.
    let tpl = tree.join("deploy/chart/templates/service.yaml");
    let mut text = std::fs::read_to_string(&tpl).unwrap();
    text.push_str("\n# edited\n");
    std::fs::write(&tpl, text).unwrap();
    check(&tree, &cache, &path, &prod);
    assert_eq!(runs(&count), 5);

    // --no-cache renders every time.
    Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(["check", "--no-cache", "--config", "redline.prod.toml", "."])
        .current_dir(&tree)
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(runs(&count), 7);
}

/// The base revision of `--new-from-rev` is checked out elsewhere: an
/// overlay built in one copy of the tree is a cache hit in another, and its
/// findings (traced through kustomize's origin annotations, which name
/// files relative to the build directory) point at the same files.
#[test]
fn a_cached_overlay_serves_another_copy_of_the_tree_and_an_edited_patch_misses() {
    let Some(kustomize) = find_tool("kustomize") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("elsewhere/b");
    copy_tree(&fixture("overlay-app"), &a);
    copy_tree(&fixture("overlay-app"), &b);
    let cache = tmp.path().join("cache");
    let count = tmp.path().join("count");
    let path = counting(tmp.path(), "kustomize", &kustomize, &count);

    let first = check(&a, &cache, &path, &["--isolated"]);
    let f1 = findings(&first);
    let built = runs(&count);
    assert_eq!(
        built,
        3,
        "three overlays: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        f1.iter().any(|f| f
            .4
            .contains("patched by deploy/overlays/prod/cpu-limit.yaml")),
        "{f1:#?}"
    );
    assert_eq!(findings(&check(&a, &cache, &path, &["--isolated"])), f1);
    assert_eq!(runs(&count), built, "kustomize ran again on a cache hit");

    let other = check(&b, &cache, &path, &["--isolated"]);
    assert_eq!(runs(&count), built, "the other copy was built again");
    assert_eq!(findings(&other), f1);

    // A patch of one overlay changes: that overlay is built again, the
    // two others are not; the base changes: all three.
    let patch = b.join("deploy/overlays/prod/cpu-limit.yaml");
    let text = std::fs::read_to_string(&patch).unwrap();
    std::fs::write(&patch, text.replace("cpu: \"2\"", "cpu: \"3\"")).unwrap();
    check(&b, &cache, &path, &["--isolated"]);
    assert_eq!(runs(&count), built + 1);
    let base = b.join("deploy/base/deployment.yaml");
    let mut text = std::fs::read_to_string(&base).unwrap();
    text.push_str("# edited\n");
    std::fs::write(&base, text).unwrap();
    check(&b, &cache, &path, &["--isolated"]);
    assert_eq!(runs(&count), built + 4);
}

/// The "compared with" note of a `--new-from-rev` run.
fn compared(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines()
        .find(|l| l.starts_with("redline: compared with "))
        .unwrap_or_else(|| panic!("no comparison note in {err}"))
        .to_string()
}

#[test]
fn the_base_findings_cache_follows_the_rendering_tool_and_never_keeps_a_failed_build() {
    let Some(kustomize) = find_tool("kustomize") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    copy_tree(&fixture("overlay-app"), &a);
    git(&a, &["init", "-q"]);
    git(&a, &["add", "-A"]);
    git(&a, &["commit", "-q", "-m", "base"]);
    let cache = tmp.path().join("cache");
    let count = tmp.path().join("count");
    let path = counting(tmp.path(), "kustomize", &kustomize, &count);
    let gate = || check(&a, &cache, &path, &["--isolated", "--new-from-rev", "HEAD"]);

    let first = gate();
    assert!(
        !compared(&first).contains("from the cache"),
        "{}",
        compared(&first)
    );
    let built = runs(&count);
    assert_eq!(built, 3, "{}", String::from_utf8_lossy(&first.stderr));
    let second = gate();
    assert!(
        compared(&second).contains("from the cache"),
        "{}",
        compared(&second)
    );
    assert_eq!(findings(&second), findings(&first));
    assert_eq!(runs(&count), built);

    // The tool is replaced by another build: the base is checked again
    // (its overlays were built by the old one).
    let script = tmp.path().join("bin/kustomize");
    let mut text = std::fs::read_to_string(&script).unwrap();
    text.push_str("# rebuilt\n");
    std::fs::write(&script, text).unwrap();
    let third = gate();
    assert!(
        !compared(&third).contains("from the cache"),
        "{}",
        compared(&third)
    );
    let fourth = gate();
    assert!(
        compared(&fourth).contains("from the cache"),
        "{}",
        compared(&fourth)
    );

    // A base with an overlay that does not build: its findings are never
    // stored (a failure may not happen the next time).
    let broken = a.join("deploy/overlays/broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- missing.yaml\n",
    )
    .unwrap();
    git(&a, &["add", "-A"]);
    git(&a, &["commit", "-q", "-m", "broken overlay"]);
    for _ in 0..2 {
        let out = gate();
        assert!(
            !compared(&out).contains("from the cache"),
            "{}",
            compared(&out)
        );
    }
}
