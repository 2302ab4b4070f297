//! One test per rule, generated from the catalog by build.rs
//! (`cargo test -p redline_rules --test rules RL102` runs RL102's): each
//! runs its rule in-process over the fixtures of its kind and
//!
//! - compares the findings with the fixtures' `want` markers (see
//!   `harness/mod.rs`: missing, unexpected, wrong severity or message);
//! - checks the rule against its metadata: it has a positive fixture, and
//!   it offers a fix exactly when it declares one, of the declared safety
//!   (an id it does not declare it cannot emit: its emitter fills it);
//! - compares its output (messages, help, fixes) with its golden file,
//!   `tests/golden/RLnnn.txt` (`UPDATE_GOLDEN=1` rewrites them).
//!
//! Go fixtures are the tree `crates/redline/tests/fixtures/go/`, read the
//! way `redline check` reads it with no configuration: test and tool code,
//! generated files and `vendor/` are left out, and so are the directories
//! with their own `redline.toml` (the binary's harness checks those end to
//! end); a finding under a `redline:ignore` comment naming the rule is
//! dropped, as the driver drops it. Manifest fixtures are
//! `tests/fixtures/manifests/` (with `# context:` lines and per-directory
//! `redline.toml`, see `manifest_fixtures.rs`), go.mod fixtures
//! `tests/fixtures/go_mod/` (`// context: required-modules=A,B`).

mod harness;

use harness::{Marker, compare, golden, golden_text, markers_of, relative, walk};
use redline_diagnostics::{Diagnostic, RuleKind};
use redline_go::{DiscoveryOptions, GoFile, Package, TestPaths};
use redline_rules::{
    Context, DOCUMENT_RULES, GO_MOD_RULES, GO_RULES, GoModContext, MANIFEST_RULES, Settings,
    find_rule,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

fn go_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../redline/tests/fixtures/go");
    std::fs::canonicalize(&root).unwrap_or(root)
}

fn fixtures(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind)
}

/// The Go fixture tree, parsed once: its packages and its markers.
struct GoTree {
    packages: Vec<Package>,
    markers: Vec<Marker>,
}

/// A directory with its own `redline.toml`, or below one.
fn configured(root: &Path, path: &Path) -> bool {
    path.ancestors()
        .take_while(|a| a.starts_with(root))
        .any(|a| a.join("redline.toml").is_file())
}

static GO_TREE: LazyLock<GoTree> = LazyLock::new(|| {
    let root = go_root();
    let tests = TestPaths::default();
    let filter_root = root.clone();
    let filter_tests = tests.clone();
    let filter: redline_go::EntryFilter = Arc::new(move |path: &Path, is_dir: bool| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        configured(&filter_root, path)
            || if is_dir {
                filter_tests.is_test_dir(name)
            } else {
                filter_tests.is_test_file(name)
            }
    });
    let discovered = redline_go::discover(
        std::slice::from_ref(&root),
        &DiscoveryOptions {
            filter: Some(filter),
            ..DiscoveryOptions::default()
        },
    )
    .expect("the Go fixtures are readable");
    let mut groups: std::collections::BTreeMap<(PathBuf, String), Vec<GoFile>> = Default::default();
    let mut markers = Vec::new();
    for f in &discovered.go_files {
        let source: Arc<[u8]> = std::fs::read(&f.path).expect("a fixture").into();
        markers.extend(markers_of(&root, &f.path));
        if redline_go::is_generated(&source) || tests.is_test_source(&source) {
            continue;
        }
        let Some(file) = GoFile::parse(f.path.clone(), relative(&root, &f.path), source) else {
            continue;
        };
        if redline_go::first_error(&file.tree, &file.source).is_some() {
            continue;
        }
        let dir = f.path.parent().expect("a directory").to_path_buf();
        groups
            .entry((dir, file.package_name.clone()))
            .or_default()
            .push(file);
    }
    let packages = groups
        .values()
        .map(|files| Package::build(&files.iter().collect::<Vec<_>>()))
        .collect();
    GoTree { packages, markers }
});

/// Whether a `redline:ignore` comment naming `rule` covers `line` (on it
/// or the line above), or a `redline:ignore-file` comment the file.
fn suppressed(source: &[u8], line: usize, rule: &str) -> bool {
    let text = String::from_utf8_lossy(source);
    let names = |l: &str, marker: &str| {
        l.find(marker).is_some_and(|i| {
            l[i + marker.len()..]
                .split("--")
                .next()
                .is_some_and(|ids| ids.split([' ', ',']).any(|id| id == rule))
        })
    };
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().any(|l| names(l, "redline:ignore-file "))
        || [line, line.saturating_sub(1)]
            .iter()
            .filter(|n| **n >= 1)
            .filter_map(|n| lines.get(n - 1))
            .any(|l| names(l, "redline:ignore "))
}

fn go_findings(id: &str) -> (Vec<Diagnostic>, Vec<Marker>) {
    let rule = GO_RULES
        .iter()
        .find(|r| r.meta().id == id)
        .expect("a Go rule");
    let settings = Settings::default();
    let mut out = Vec::new();
    for package in &GO_TREE.packages {
        for file in &package.files {
            let index = file.index();
            let cx = Context {
                file,
                index: &index,
                package,
                settings: &settings,
            };
            let mut found = Vec::new();
            rule.run(&cx, &mut found);
            found.retain(|d| !suppressed(&file.source, d.span.line, id));
            out.extend(found);
        }
    }
    (out, GO_TREE.markers.clone())
}

fn manifest_findings(id: &str) -> (Vec<Diagnostic>, Vec<Marker>) {
    // A rule runs per container or per document: the other list is empty.
    let rules: Vec<_> = MANIFEST_RULES
        .iter()
        .copied()
        .filter(|r| r.meta().id == id)
        .collect();
    let document_rules: Vec<_> = DOCUMENT_RULES
        .iter()
        .copied()
        .filter(|r| r.meta().id == id)
        .collect();
    assert_eq!(
        rules.len() + document_rules.len(),
        1,
        "{id}: one manifest rule"
    );
    let root = fixtures("manifests");
    let mut out = Vec::new();
    let mut markers = Vec::new();
    for path in walk(&root) {
        if !redline_k8s::is_manifest_path(&path) || path.starts_with(root.join("render")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a fixture");
        let settings = harness::manifest_context(&path, &text);
        out.extend(redline_rules::manifests::check_manifest_with(
            &relative(&root, &path),
            text.as_bytes(),
            &settings,
            &rules,
            &document_rules,
        ));
        markers.extend(markers_of(&root, &path));
    }
    (out, markers)
}

fn go_mod_findings(id: &str) -> (Vec<Diagnostic>, Vec<Marker>) {
    let rule = GO_MOD_RULES
        .iter()
        .find(|r| r.meta().id == id)
        .expect("a go.mod rule");
    let root = fixtures("go_mod");
    let mut out = Vec::new();
    let mut markers = Vec::new();
    for path in walk(&root) {
        if path.file_name().and_then(|n| n.to_str()) != Some("go.mod") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a fixture");
        let mut settings = Settings::default();
        for line in text.lines() {
            if let Some(rest) = line.trim().strip_prefix("// context: required-modules=") {
                settings.required_modules = rest.split(',').map(String::from).collect();
            }
        }
        let go_mod = redline_go::parse_go_mod(&text).expect("the fixture parses");
        let lines = redline_diagnostics::LineIndex::new(text.as_bytes());
        let cx = GoModContext {
            go_mod: &go_mod,
            lines: &lines,
            settings: &settings,
        };
        let display = relative(&root, &path);
        rule.check(
            &cx,
            &mut redline_diagnostics::Emitter::new(rule.meta(), &display, &mut out),
        );
        markers.extend(markers_of(&root, &path));
    }
    (out, markers)
}

/// The generated test of one rule.
fn check_rule(id: &str) {
    let meta = find_rule(id).unwrap_or_else(|| panic!("{id} is not in the catalog"));
    let (mut findings, markers) = match meta.kind {
        RuleKind::Go => go_findings(id),
        RuleKind::Manifest => manifest_findings(id),
        RuleKind::GoMod => go_mod_findings(id),
        RuleKind::Driver => panic!("{id} is reported by the driver, not a rule"),
    };
    // The loader's RL000 belongs to the driver's tests.
    findings.retain(|d| d.rule.id == id);
    redline_diagnostics::sort(&mut findings);
    let markers: Vec<Marker> = markers.into_iter().filter(|m| m.rule == id).collect();
    let mut failures = compare(&markers, &findings);
    if markers.is_empty() {
        failures.push(format!("{id}: no fixture expects a finding of this rule"));
    }
    match meta.fix {
        Some(applicability) => {
            if !findings.iter().any(|d| d.fix.is_some()) {
                failures.push(format!(
                    "{id} declares a {applicability:?} fix, but no fixture finding offers one"
                ));
            }
            for d in findings.iter().filter(|d| d.fix.is_some()) {
                let a = d.fix.as_ref().map(|f| f.applicability);
                if a != Some(applicability) {
                    failures.push(format!(
                        "{}:{}: {id} offers a {a:?} fix but declares {applicability:?}",
                        d.path, d.span.line
                    ));
                }
            }
        }
        None => {
            for d in findings.iter().filter(|d| d.fix.is_some()) {
                failures.push(format!(
                    "{}:{}: {id} offers a fix but declares none",
                    d.path, d.span.line
                ));
            }
        }
    }
    if let Some(diff) = golden(&format!("{id}.txt"), &golden_text(&findings)) {
        failures.push(diff);
    }
    assert!(failures.is_empty(), "{id}:\n{}", failures.join("\n"));
}

// One `#[test] fn RLnnn_name()` per rule of the catalog.
include!(concat!(env!("OUT_DIR"), "/rule_tests.rs"));

/// build.rs found every rule the registry lists (it reads the rule files'
/// `declare_rule!` blocks), so no rule goes without its test.
#[test]
fn every_rule_has_a_generated_test() {
    let mut registered: Vec<&str> = GO_RULES
        .iter()
        .map(|r| r.meta().id)
        .chain(GO_MOD_RULES.iter().map(|r| r.meta().id))
        .chain(MANIFEST_RULES.iter().map(|r| r.meta().id))
        .chain(DOCUMENT_RULES.iter().map(|r| r.meta().id))
        .collect();
    registered.sort();
    let mut generated: Vec<&str> = GENERATED.to_vec();
    generated.sort();
    assert_eq!(generated, registered);
}
