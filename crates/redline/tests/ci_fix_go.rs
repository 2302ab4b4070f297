//! After every fix, the Go is still Go: RL101's fix applied to every
//! syntactic position of `redline_rules/tests/fixtures/go/rl101/positions` (copied into a
//! Go module, without the `// want` markers) leaves a module that parses,
//! is gofmt-clean and passes `go vet` with Go itself; and `--fix` over the
//! whole fixture suite never turns a file that parsed into one that does
//! not, nor a gofmt-clean file into one that is not.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../redline_rules/tests/fixtures/go")
}

/// `go` from PATH, else Go's default install location.
fn go() -> PathBuf {
    let on_path = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if on_path {
        return PathBuf::from("go");
    }
    let default = PathBuf::from("/usr/local/go/bin/go");
    assert!(
        default.is_file(),
        "Go is needed for this test (install Go 1.26 and put `go` on PATH)"
    );
    default
}

fn gofmt() -> PathBuf {
    let go = go();
    match go.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("gofmt"),
        _ => PathBuf::from("gofmt"),
    }
}

/// Runs `go ARGS` in `dir` offline; panics with Go's output on failure.
fn run_go(dir: &Path, args: &[&str]) {
    let out = Command::new(go())
        .args(args)
        .current_dir(dir)
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOWORK", "off")
        .output()
        .expect("go runs");
    assert!(
        out.status.success(),
        "go {args:?} failed in {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Files gofmt would change (`gofmt -l`).
fn gofmt_list(dir: &Path) -> Vec<String> {
    let out = Command::new(gofmt())
        .arg("-l")
        .arg(".")
        .current_dir(dir)
        .output()
        .expect("gofmt runs");
    let mut files: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    files.sort();
    files
}

/// The source without trailing `// want …` markers.
fn strip_markers(src: &str) -> String {
    src.lines()
        .map(|l| match l.find(" // want RL") {
            Some(i) => l[..i].trim_end(),
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn findings(out: &std::process::Output) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_string(),
                d["path"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn fixed_positions_module_parses_is_gofmt_clean_and_passes_go_vet() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("go.mod"),
        "module example.com/fixmod\n\ngo 1.26\n",
    )
    .expect("go.mod");
    let pkg = dir.path().join("positions");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    let mut expected_fixes = 0;
    // decode.go imports a module that is not available offline; its
    // positions are the same as these.
    for name in ["positions.go", "typeparams.go"] {
        let src = std::fs::read_to_string(fixtures().join("rl101/positions").join(name))
            .expect("fixture");
        expected_fixes += src.matches("// want RL101").count();
        std::fs::write(pkg.join(name), strip_markers(&src)).expect("write");
    }
    assert!(
        expected_fixes >= 35,
        "positions fixture shrank: {expected_fixes}"
    );
    // The module is valid, gofmt-clean Go before the fix.
    let gofmt_w = Command::new(gofmt())
        .args(["-w", "."])
        .current_dir(dir.path())
        .status()
        .expect("gofmt");
    assert!(gofmt_w.success());
    run_go(dir.path(), &["vet", "./..."]);

    let out = redline(
        dir.path(),
        &["check", "--fix", "--format", "json", "positions"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("fixed {expected_fixes} findings")),
        "{stderr}"
    );
    assert!(!stderr.contains("fix skipped"), "{stderr}");
    let left = findings(&out);
    assert!(
        !left
            .iter()
            .any(|(rule, _)| rule == "RL101" || rule == "RL000"),
        "after --fix: {left:?}\n{stderr}"
    );
    let fixed = std::fs::read_to_string(pkg.join("positions.go")).expect("read");
    assert!(fixed.contains("if p := (&Index{}); p != nil {"), "{fixed}");
    assert!(fixed.contains("_ = (&Index{}).Len()"), "{fixed}");
    assert!(fixed.contains("if use(&Index{}); true {"), "{fixed}");
    for expected in [
        "for k := range *(&Index{}) {",
        "switch (&Index{}) {",
        "switch p := (&Index{}); any(p).(type) {",
        "} else if p := (&Index{}); p != nil {",
        "for p := (*Index)(nil); p == nil; p = (&Index{}) {",
        "if g := (&Generic[string]{}); g != nil {",
        // A map type literal is not ambiguous in a header (gofmt would
        // strip parentheses around a whole condition).
        "if m := &map[string]int{}; m != nil {",
        "f := (&Index{}).Len",
        "_ = (*&Index{})[\"k\"]",
        "case ch <- &Index{}:",
        "if func() bool { return &Index{} != nil }() {",
    ] {
        assert!(fixed.contains(expected), "{expected}\n{fixed}");
    }
    let generic = std::fs::read_to_string(pkg.join("typeparams.go")).expect("read");
    assert_eq!(generic.matches("&Index{}").count(), 2, "{generic}");
    assert_eq!(generic.matches("new(Index)").count(), 4, "{generic}");
    assert_eq!(
        gofmt_list(dir.path()),
        Vec::<String>::new(),
        "gofmt -l after the fix:\n{fixed}"
    );
    run_go(dir.path(), &["vet", "./..."]);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

#[test]
fn fix_over_the_fixture_suite_keeps_every_file_parsing_and_formatted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("go");
    copy_tree(&fixtures(), &tree);
    let before = redline(dir.path(), &["check", "--format", "json", "go"]);
    let broken_before: Vec<_> = findings(&before)
        .into_iter()
        .filter(|(rule, _)| rule == "RL000")
        .collect();
    let unformatted_before = gofmt_list(&tree);
    let out = redline(
        dir.path(),
        &["check", "--fix", "--unsafe-fixes", "--format", "json", "go"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("fixed 0 findings"),
        "the suite has fixes: {stderr}"
    );
    let broken_after: Vec<_> = findings(&out)
        .into_iter()
        .filter(|(rule, _)| rule == "RL000")
        .collect();
    assert_eq!(
        broken_before, broken_after,
        "a fix broke a file's syntax\n{stderr}"
    );
    let unformatted_after = gofmt_list(&tree);
    let newly: Vec<_> = unformatted_after
        .iter()
        .filter(|f| !unformatted_before.contains(f))
        .collect();
    assert!(newly.is_empty(), "not gofmt-clean after the fix: {newly:?}");
}

/// gofmt aligns the trailing comments of a block: a fix that shortens one
/// of its lines (not the widest) pads the comment back to its column, so
/// the block stays gofmt-clean (two fixes on one line included: the second
/// waits a round).
#[test]
fn fix_keeps_aligned_trailing_comments_gofmt_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("p.go");
    std::fs::write(
        &file,
        "package p\n\nfunc use(a ...any) {}\n\nfunc f() {\n\ta := new(map[string]int) // one\n\tuse(new(map[int]int), new(map[int]bool)) // two\n\ttheLongestLineOfTheBlockWithoutAnyFixAtAll := 1 // three\n\tuse(a, theLongestLineOfTheBlockWithoutAnyFixAtAll)\n}\n",
    )
    .expect("write");
    let status = Command::new(gofmt())
        .arg("-w")
        .arg(&file)
        .status()
        .expect("gofmt");
    assert!(status.success());
    assert_eq!(gofmt_list(dir.path()), Vec::<String>::new());
    let before = std::fs::read_to_string(&file).expect("read");
    assert!(before.contains("new(map[int]bool))  "), "aligned: {before}");
    let out = redline(dir.path(), &["check", "--fix", "."]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fixed 3 findings; 0 remain"), "{stderr}");
    let fixed = std::fs::read_to_string(&file).expect("read");
    assert!(fixed.contains("&map[int]bool{}"), "{fixed}");
    assert_eq!(
        gofmt_list(dir.path()),
        Vec::<String>::new(),
        "gofmt -l after the fix:\n{fixed}"
    );
}
