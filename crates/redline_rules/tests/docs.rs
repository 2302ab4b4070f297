//! docs/rules.md is generated from the rules' documentation and must be
//! current; no rule's documentation points at a file the repository lacks.

use std::path::PathBuf;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn docs_rules_md_is_generated_from_the_rule_docs() {
    let path = repo_root().join("docs/rules.md");
    let generated = redline_rules::catalog_markdown();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &generated).expect("write docs/rules.md");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/rules.md is stale: run `UPDATE_GOLDEN=1 cargo test -p redline_rules --test docs`"
    );
    for r in redline_rules::ALL_RULES {
        assert!(committed.contains(&format!("## {} `{}`", r.id, r.name)));
    }
}

#[test]
fn rule_docs_point_only_at_files_the_repository_has() {
    for r in redline_rules::ALL_RULES {
        let doc = r.documentation();
        assert!(
            !doc.contains("RULES.md"),
            "{}: the documentation points at RULES.md, which the repository does not have (say docs/rules.md)",
            r.id
        );
    }
}

#[test]
fn messages_and_help_point_only_at_files_the_repository_has() {
    // The golden outputs carry every message and help text the fixtures
    // produce.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/golden") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        read += 1;
        assert!(
            !text.contains("RULES.md"),
            "{}: a message or help text points at RULES.md, which the repository does not have",
            path.display()
        );
    }
    assert!(read > 10, "only {read} golden files in {}", dir.display());
}
