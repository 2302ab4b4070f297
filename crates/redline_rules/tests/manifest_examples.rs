//! The example manifests of the README say what redline finds in them:
//! `deployment-good.yaml` is clean, and each `# RL70x` comment in
//! `deployment-bad.yaml` is exactly one finding on that line. RL703 is
//! inactive until configured: the test configures the seed
//! organisation's three variables, as examples/orders-service/redline.toml
//! does.

use redline_k8s::ManifestContext;
use redline_rules::manifests::check_manifest;
use std::path::Path;

fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/manifests")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn good_example_is_clean() {
    let text = example("deployment-good.yaml");
    let d = check_manifest(
        "deployment-good.yaml",
        text.as_bytes(),
        &ManifestContext::default(),
    );
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn bad_example_findings_match_its_comments() {
    let text = example("deployment-bad.yaml");
    let mut want: Vec<(usize, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(pos) = line.find("# RL7") {
            want.push((i + 1, line[pos + 2..pos + 7].to_string()));
        }
    }
    let ctx = ManifestContext {
        required_env: ["DATABASE_URL", "JWT_SECRET", "SERVICE_NAME"]
            .map(String::from)
            .to_vec(),
        ..ManifestContext::default()
    };
    let d = check_manifest("deployment-bad.yaml", text.as_bytes(), &ctx);
    let mut got: Vec<(usize, String)> = d
        .iter()
        .map(|d| (d.span.line, d.rule.to_string()))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{d:#?}");
    assert!(d.iter().all(|d| !d.message.contains("hunter2")));
}
