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
//! Every fixture lives below `tests/fixtures/` and is read the way
//! `redline check` reads it, with the check engine's own functions: each
//! directory's nearest `redline.toml` (found and read by
//! `redline_check::config`) sets what it sets there (test paths, rule
//! settings, select/ignore, severity, the manifest tables), discovery
//! leaves out what it leaves out (test and tool code, generated files,
//! `vendor/`), and each file is finished as the engine finishes it
//! (suppression comments, severity). Go fixtures are `tests/fixtures/go/`
//! (the manifests discovery keeps there are checked by the manifest
//! rules), manifest fixtures `tests/fixtures/manifests/` (with
//! `# context:` lines, see `harness/mod.rs`), go.mod fixtures
//! `tests/fixtures/go_mod/` (`// context: required-modules=A,B`). A
//! fixture with markers that no test reads fails
//! `every_fixture_with_markers_is_read`.

mod harness;

use harness::{Marker, compare, golden, golden_text, markers_of, relative, walk};
use redline_check::check::finish_file;
use redline_check::config::{Config, Configs, Overrides};
use redline_diagnostics::{Diagnostic, RuleKind};
use redline_go::{DiscoveryOptions, GoFile, Package};
use redline_rules::{
    Context, DOCUMENT_RULES, GO_MOD_RULES, GO_RULES, GoModContext, MANIFEST_RULES, Settings,
    find_rule,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

fn fixtures(kind: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    std::fs::canonicalize(&root).unwrap_or(root)
}

/// The configurations of the fixture trees: each directory's nearest
/// `redline.toml`, found and read as `redline check` finds and reads it.
static CONFIGS: LazyLock<Arc<Configs>> =
    LazyLock::new(|| Arc::new(Configs::discover(Overrides::default(), &fixtures(""))));

/// One package of the Go fixture tree and the configuration of its
/// directory.
struct GoPackage {
    package: Package,
    config: Arc<Config>,
}

/// The Go fixture tree, discovered and parsed once: its packages, the
/// manifests among them (discovery decides which are checked), and the
/// markers of every file discovery keeps.
struct GoTree {
    packages: Vec<GoPackage>,
    manifests: Vec<PathBuf>,
    markers: Vec<Marker>,
    /// Every file discovery kept (Go and manifests).
    read: Vec<PathBuf>,
}

static GO_TREE: LazyLock<GoTree> = LazyLock::new(|| {
    let root = fixtures("go");
    let discovered = redline_go::discover(
        std::slice::from_ref(&root),
        &DiscoveryOptions {
            manifests: true,
            filter: Some(redline_check::check::entry_filter(&CONFIGS)),
            ..DiscoveryOptions::default()
        },
    )
    .expect("the Go fixtures are readable");
    let config_of = |path: &Path| {
        CONFIGS
            .for_file(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let mut groups: std::collections::BTreeMap<(PathBuf, String), Vec<GoFile>> = Default::default();
    let mut markers = Vec::new();
    for f in &discovered.go_files {
        let source: Arc<[u8]> = std::fs::read(&f.path).expect("a fixture").into();
        markers.extend(markers_of(&root, &f.path));
        if redline_go::is_generated(&source) || config_of(&f.path).tests.is_test_source(&source) {
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
        .into_iter()
        .map(|((dir, _), files)| GoPackage {
            package: Package::build(&files.iter().collect::<Vec<_>>()),
            config: CONFIGS
                .for_dir(&dir)
                .expect("the directory's configuration"),
        })
        .collect();
    let manifests: Vec<PathBuf> = discovered
        .manifest_files
        .iter()
        .map(|f| f.path.clone())
        .collect();
    let read = discovered
        .go_files
        .iter()
        .map(|f| f.path.clone())
        .chain(manifests.iter().cloned())
        .collect();
    GoTree {
        packages,
        manifests,
        markers,
        read,
    }
});

/// The findings of one Go rule over the Go fixture tree: each package with
/// its directory's settings, each file finished as `redline check`
/// finishes it (select/ignore, severity, suppression comments).
fn go_findings(id: &str) -> (Vec<Diagnostic>, Vec<Marker>) {
    let rule = GO_RULES
        .iter()
        .find(|r| r.meta().id == id)
        .expect("a Go rule");
    let mut out = Vec::new();
    for GoPackage { package, config } in &GO_TREE.packages {
        for file in &package.files {
            let index = file.index();
            let cx = Context {
                file,
                index: &index,
                package,
                settings: &config.settings,
            };
            let mut found = Vec::new();
            rule.run(&cx, &mut found);
            out.extend(finish_file(
                &file.display,
                &file.source,
                &file.lines,
                found,
                config,
            ));
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
    // The manifest fixtures, and the manifests discovery keeps in the Go
    // tree (named below the fixtures root: `go/…`).
    let inputs = walk(&root)
        .into_iter()
        .filter(|p| redline_k8s::is_manifest_path(p) && !p.starts_with(root.join("render")))
        .map(|p| (root.clone(), p))
        .chain(GO_TREE.manifests.iter().map(|p| (fixtures(""), p.clone())));
    for (base, path) in inputs {
        let text = std::fs::read_to_string(&path).expect("a fixture");
        let settings = harness::manifest_context(&path, &text);
        let display = relative(&base, &path);
        let config = CONFIGS
            .for_file(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let found = redline_rules::manifests::check_manifest_with(
            &display,
            text.as_bytes(),
            &settings,
            &rules,
            &document_rules,
        );
        let lines = redline_diagnostics::LineIndex::new(text.as_bytes());
        out.extend(finish_file(
            &display,
            text.as_bytes(),
            &lines,
            found,
            &config,
        ));
        markers.extend(markers_of(&base, &path));
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

/// No fixture is lost: every file below `tests/fixtures/` that marks a
/// finding is one the rules' tests read (a fixture that discovery leaves
/// out, or that no harness walks, fails here).
#[test]
fn every_fixture_with_markers_is_read() {
    let all = fixtures("");
    let mut read: std::collections::BTreeSet<PathBuf> = GO_TREE.read.iter().cloned().collect();
    read.extend(walk(&fixtures("manifests")));
    read.extend(walk(&fixtures("go_mod")));
    let unread: Vec<String> = walk(&all)
        .into_iter()
        .filter(|p| !markers_of(&all, p).is_empty() && !read.contains(p))
        .map(|p| relative(&all, &p))
        .collect();
    assert!(unread.is_empty(), "fixtures no test reads: {unread:?}");
}

/// Every fixture file is checked with the configuration found next to it
/// (no `redline.toml` above the fixtures configures them all).
#[test]
fn fixture_configurations_are_the_nearest() {
    let mut dir = fixtures("");
    while !dir.join(".git").exists() {
        assert!(
            !dir.join("redline.toml").exists(),
            "{} would configure every fixture",
            dir.join("redline.toml").display()
        );
        if !dir.pop() {
            break;
        }
    }
}
