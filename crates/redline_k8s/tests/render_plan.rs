//! Which directories are charts and overlays, and which files they own
//! (no tool is run here).

use redline_k8s::render::plan;
use redline_k8s::settings::RenderSettings;
use std::path::{Path, PathBuf};

fn root(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/render")
        .join(name)
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if redline_k8s::is_manifest_path(&p) {
            out.push(p);
        }
    }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap().to_string_lossy().into_owned()
}

#[test]
fn charts_library_charts_and_subcharts() {
    let r = root("chart-app");
    let mut files = Vec::new();
    yaml_files(&r, &mut files);
    let p = plan(&files, &RenderSettings::default()).unwrap();
    let charts: Vec<String> = p.charts.iter().map(|c| rel(&r, &c.dir)).collect();
    // The library chart is not rendered; the subchart renders with its parent.
    assert_eq!(charts, ["deploy/chart"]);
    assert_eq!(p.charts[0].name, "shop");
    assert_eq!(p.charts[0].release, "shop");
    // Every file of both charts (templates, values, the subchart) is owned.
    for f in [
        "deploy/chart/templates/deployment.yaml",
        "deploy/chart/values-prod.yaml",
        "deploy/chart/charts/worker/templates/deployment.yaml",
        "deploy/common/templates/broken-on-its-own.yaml",
    ] {
        assert!(p.chart_files.contains(&r.join(f)), "{f}");
    }
    assert!(p.overlays.is_empty());
}

#[test]
fn overlays_are_kustomizations_no_other_uses() {
    let r = root("overlay-app");
    let mut files = Vec::new();
    yaml_files(&r, &mut files);
    let p = plan(&files, &RenderSettings::default()).unwrap();
    let mut overlays: Vec<String> = p.overlays.iter().map(|o| rel(&r, &o.dir)).collect();
    overlays.sort();
    // The base is used by the overlays; a component is never an entry point.
    assert_eq!(
        overlays,
        [
            "deploy/overlays/canary",
            "deploy/overlays/prod",
            "deploy/overlays/staging"
        ]
    );
    let prod = &p.overlay_files[&r.join("deploy/overlays/prod")];
    for f in [
        "deploy/overlays/prod/cpu-limit.yaml",
        "deploy/overlays/prod/rollout.yaml",
        "deploy/base/deployment.yaml",
        "deploy/base/kustomization.yaml",
    ] {
        assert!(prod.iter().any(|o| o.ends_with(f)), "{f} not in {prod:?}");
    }
    assert!(
        p.component_files
            .iter()
            .any(|f| f.ends_with("deploy/components/debug/debug-limits.yaml")),
        "{:?}",
        p.component_files
    );
}
