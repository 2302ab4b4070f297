//! `--fix`, `--diff` and `--unsafe-fixes` on real files: atomic writes that
//! keep permissions, idempotence, gofmt-clean results, and re-checking.

mod common;
use common::*;

use std::path::Path;
use std::process::Command;

const SRC: &str = "package p\n\nimport \"log\"\n\ntype Index map[string]int\n\nfunc f() {\n\tm := new(map[string]int)\n\tn := new((Index))\n\tlog.Println(m, n, new(map[string][]int))\n}\n";

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("p")).expect("mkdir");
    std::fs::write(dir.path().join("p/a.go"), SRC).expect("write");
    dir
}

fn gofmt_clean(path: &Path) -> bool {
    match Command::new("gofmt").arg("-l").arg(path).output() {
        Ok(out) => out.status.success() && out.stdout.is_empty(),
        Err(e) => panic!("gofmt is needed for this test (apt-get install golang-go): {e}"),
    }
}

#[test]
fn diff_shows_fixes_without_writing() {
    let dir = tree();
    let out = redline(dir.path(), &["check", "--diff", "."]);
    assert_eq!(out.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.starts_with("--- a/p/a.go\n+++ b/p/a.go\n"), "{diff}");
    assert!(diff.contains("-\tm := new(map[string]int)\n"), "{diff}");
    assert!(diff.contains("+\tm := &map[string]int{}\n"), "{diff}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("p/a.go")).expect("read"),
        SRC
    );
}

#[test]
fn fix_is_atomic_gofmt_clean_idempotent_and_rechecked() {
    let dir = tree();
    let file = dir.path().join("p/a.go");
    assert!(gofmt_clean(&file), "the fixture itself is gofmt-clean");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    }
    let out = redline(dir.path(), &["check", "--fix", "--format", "json", "."]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fixed 3 findings; 1 remains"), "{stderr}");
    // What remains is reported after the re-check: only RL401.
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rules: Vec<&str> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["rule"].as_str())
        .collect();
    assert_eq!(rules, vec!["RL401"]);
    assert_eq!(out.status.code(), Some(1));
    let fixed = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        fixed,
        SRC.replace("new(map[string]int)", "&map[string]int{}")
            .replace("new((Index))", "&Index{}")
            .replace("new(map[string][]int)", "&map[string][]int{}")
    );
    assert!(
        gofmt_clean(&file),
        "fixed file is not gofmt-clean:\n{fixed}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "permissions kept");
    }
    let entries: Vec<String> = std::fs::read_dir(dir.path().join("p"))
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, vec!["a.go".to_string()], "no temporary files left");
    // Idempotent: a second run changes nothing.
    let out = redline(dir.path(), &["check", "--fix", "."]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("fixed 0 findings"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), fixed);
}

#[test]
fn fix_leaves_clean_files_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("clean.go");
    std::fs::write(&file, "package p\n\nvar m = map[string]int{}\n").expect("write");
    let before = std::fs::metadata(&file)
        .expect("stat")
        .modified()
        .expect("mtime");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = redline(dir.path(), &["check", "--fix", "."]);
    assert_eq!(out.status.code(), Some(0));
    let after = std::fs::metadata(&file)
        .expect("stat")
        .modified()
        .expect("mtime");
    assert_eq!(before, after);
}

/// RL402's fix is unsafe (the log output changes): `--fix` leaves it,
/// `--fix --unsafe-fixes` applies it, keeping each field's key and the
/// file's own name for zap; the result is gofmt-clean and re-checked.
#[test]
fn unsafe_fixes_apply_only_when_asked() {
    const LOGS: &str = "package p\n\nimport (\n\t\"errors\"\n\n\t\"github.com/rs/zerolog/log\"\n\tuzap \"go.uber.org/zap\"\n)\n\nfunc f(logger *uzap.Logger, err error) {\n\tlogger.Error(\"failed\", uzap.String(\"cause\", err.Error()))\n\tlogger.Warn(\"odd\", uzap.Any(\"e\", errors.New(\"x\").Error()))\n\tlog.Error().Str(\"err\", err.Error()).Msg(\"failed\")\n}\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("logs.go");
    std::fs::write(&file, LOGS).expect("write");
    assert!(gofmt_clean(&file), "the fixture itself is gofmt-clean");

    // Safe fixes only: nothing to do, the three warnings stay.
    let out = redline(dir.path(), &["check", "--fix", "."]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fixed 0 findings; 3 remain"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), LOGS);
    let out = redline(dir.path(), &["check", "--diff", "."]);
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Opted in: --diff shows them, --fix writes them.
    let out = redline(dir.path(), &["check", "--diff", "--unsafe-fixes", "."]);
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+\tlogger.Error(\"failed\", uzap.NamedError(\"cause\", err))\n"),
        "{diff}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), LOGS);
    let out = redline(dir.path(), &["check", "--fix", "--unsafe-fixes", "."]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fixed 3 findings; 0 remain"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let fixed = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        fixed,
        LOGS.replace(
            "uzap.String(\"cause\", err.Error())",
            "uzap.NamedError(\"cause\", err)"
        )
        .replace(
            "uzap.Any(\"e\", errors.New(\"x\").Error())",
            "uzap.NamedError(\"e\", errors.New(\"x\"))"
        )
        .replace(".Str(\"err\", err.Error())", ".AnErr(\"err\", err)")
    );
    assert!(
        gofmt_clean(&file),
        "fixed file is not gofmt-clean:\n{fixed}"
    );
}
