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

/// The rule ids of a `--format json` run, in order.
fn rules_of(out: &std::process::Output) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["rule"].as_str().map(str::to_string))
        .collect()
}

const HEADERS: &str = "package p\n\ntype Index map[string]int\n\nfunc (i Index) Len() int { return len(i) }\n\nfunc f() int {\n\tif x := new(Index); x != nil {\n\t\treturn 1\n\t}\n\tfor x := new(Index); x != nil; x = nil {\n\t}\n\tswitch x := new(Index); x {\n\tcase nil:\n\t}\n\treturn new(Index).Len()\n}\n";

/// The safe RL101 fix in statement headers and as a selector's operand:
/// `&Index{}` there does not parse, so the fix is parenthesised.
#[test]
fn fix_parenthesises_where_go_needs_it_and_the_result_parses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("p.go");
    std::fs::write(&file, HEADERS).expect("write");
    let out = redline(dir.path(), &["check", "--fix", "--format", "json", "."]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fixed 4 findings; 0 remain"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(rules_of(&out).is_empty(), "no RL000 after the fix");
    let fixed = std::fs::read_to_string(&file).expect("read");
    assert_eq!(fixed, HEADERS.replace("new(Index)", "(&Index{})"));
    assert!(
        gofmt_clean(&file),
        "fixed file is not gofmt-clean:\n{fixed}"
    );
}

/// A `new(…)` whose type text is not UTF-8 is never turned into `&{}`: Go
/// source is UTF-8, so the file is RL000 "not Go source" before any rule
/// (or fix) sees it, the run fails and the file is left as it was (RL101
/// keeps its own no-fix path for such text as a second guard).
#[test]
fn no_fix_for_a_type_that_is_not_utf8() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("p.go");
    let src: &[u8] = b"package p\n\nvar m = new(map[string /* \xff */]int)\n";
    std::fs::write(&file, src).expect("write");
    let out = redline(dir.path(), &["check", "--fix", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(rules_of(&out), vec!["RL000"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(v["diagnostics"][0]["fix"].is_null(), "{v}");
    assert_eq!(std::fs::read(&file).expect("read"), src);
}

const FIXABLE: &str = "package p\n\nvar m = new(map[string]int)\n";
const FIXED: &str = "package p\n\nvar m = &map[string]int{}\n";

/// A file named `a\..\..\outside\x.go` is displayed as
/// `tree/a/../../outside/x.go`; the fix must go to the file that was read,
/// never to `outside/x.go`.
#[cfg(unix)]
#[test]
fn fix_writes_the_file_read_not_the_displayed_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("tree/a")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("outside")).expect("mkdir");
    let odd = dir.path().join("tree").join("a\\..\\..\\outside\\x.go");
    std::fs::write(&odd, FIXABLE).expect("write");
    let outside = dir.path().join("outside/x.go");
    std::fs::write(&outside, FIXABLE).expect("write");
    let out = redline(dir.path(), &["check", "--fix", "tree"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        std::fs::read_to_string(&outside).expect("read"),
        FIXABLE,
        "a file outside the checked tree was rewritten: {stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&odd).expect("read"),
        FIXED,
        "{stderr}"
    );
}

/// A symlink named on the command line is written through: the link stays
/// a link, its target gets the fix.
#[cfg(unix)]
#[test]
fn fix_writes_through_a_symlink() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("real")).expect("mkdir");
    let target = dir.path().join("real/x.go");
    std::fs::write(&target, FIXABLE).expect("write");
    let link = dir.path().join("link.go");
    std::os::unix::fs::symlink("real/x.go", &link).expect("symlink");
    let out = redline(dir.path(), &["check", "--fix", "link.go"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta = std::fs::symlink_metadata(&link).expect("lstat");
    assert!(
        meta.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    assert_eq!(std::fs::read_to_string(&target).expect("read"), FIXED);
}

/// A file with two hard links stays one file; its owner and mode stay.
#[cfg(unix)]
#[test]
fn fix_keeps_hard_links_owner_and_mode() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("p")).expect("mkdir");
    let file = dir.path().join("p/x.go");
    std::fs::write(&file, FIXABLE).expect("write");
    let other = dir.path().join("x-link.go.txt");
    std::fs::hard_link(&file, &other).expect("link");
    let out = redline(dir.path(), &["check", "--fix", "p"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&other).expect("read"),
        FIXED,
        "the link was broken"
    );
    assert_eq!(
        std::fs::metadata(&file).expect("stat").ino(),
        std::fs::metadata(&other).expect("stat").ino()
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2 hard links"),
        "the in-place write is reported"
    );
    // Owner and mode of a file with one link (chown needs root).
    let single = dir.path().join("q/y.go");
    std::fs::create_dir_all(single.parent().expect("dir")).expect("mkdir");
    std::fs::write(&single, FIXABLE).expect("write");
    std::fs::set_permissions(&single, std::fs::Permissions::from_mode(0o604)).expect("chmod");
    let chowned = std::os::unix::fs::chown(&single, Some(4242), Some(4343)).is_ok();
    let out = redline(dir.path(), &["check", "--fix", "q"]);
    assert_eq!(out.status.code(), Some(0));
    let meta = std::fs::metadata(&single).expect("stat");
    assert_eq!(std::fs::read_to_string(&single).expect("read"), FIXED);
    assert_eq!(meta.permissions().mode() & 0o7777, 0o604);
    if chowned {
        assert_eq!((meta.uid(), meta.gid()), (4242, 4343), "owner kept");
    }
}

/// A read-only file is refused (the finding stays, exit 1) unless
/// `--fix-read-only` asks for it.
#[cfg(unix)]
#[test]
fn fix_refuses_read_only_files_unless_asked() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("x.go");
    std::fs::write(&file, FIXABLE).expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let out = redline(dir.path(), &["check", "--fix", "."]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("read-only") && stderr.contains("--fix-read-only"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), FIXABLE);
    let out = redline(dir.path(), &["check", "--fix", "--fix-read-only", "."]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), FIXED);
    let mode = std::fs::metadata(&file).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o444, "mode kept");
}

/// `-o FIFO`, `--format json:FIFO` and `--write-baseline` through a
/// symlink: the FIFO receives the report and stays a FIFO, the link stays
/// a link.
#[cfg(unix)]
#[test]
fn reports_write_into_fifos_and_through_symlinks() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("x.go"), FIXABLE).expect("write");
    let out_dir = tempfile::tempdir().expect("out dir");
    for how in ["-o", "--format"] {
        let fifo = out_dir.path().join(format!("fifo{how}"));
        let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
        assert!(status.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(std::fs::read(reader).expect("read fifo"));
        });
        let fifo_arg = fifo.to_str().expect("utf-8").to_string();
        let args: Vec<String> = match how {
            "-o" => vec![
                "check".into(),
                "--format".into(),
                "json".into(),
                "-o".into(),
                fifo_arg,
                ".".into(),
            ],
            _ => vec![
                "check".into(),
                "--format".into(),
                format!("json:{fifo_arg}"),
                ".".into(),
            ],
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = redline(dir.path(), &args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the FIFO received the report");
        assert!(String::from_utf8_lossy(&got).contains("\"RL101\""));
        let meta = std::fs::symlink_metadata(&fifo).expect("lstat");
        assert!(meta.file_type().is_fifo(), "{how}: the FIFO was replaced");
    }
    let target = out_dir.path().join("baseline-target.json");
    std::fs::write(&target, "{}").expect("write");
    let link = out_dir.path().join("baseline.json");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let out = redline(
        dir.path(),
        &[
            "check",
            "--write-baseline",
            link.to_str().expect("utf-8"),
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("lstat")
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&target)
            .expect("read")
            .contains("RL101")
    );
}

/// On Unix `a\b.go` and `a/b.go` are shown under the same name: a fix
/// planned from one file's text must never be written to the other, so
/// neither is fixed and both findings stay.
#[cfg(unix)]
#[test]
fn fix_refuses_two_files_shown_under_one_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("tree/a")).expect("mkdir");
    let odd = dir.path().join("tree").join("a\\b.go");
    let shifted = "package p\n\n// shifted by a comment\n\nvar m = new(map[string]int)\n";
    std::fs::write(&odd, shifted).expect("write");
    let plain = dir.path().join("tree/a/b.go");
    std::fs::write(&plain, FIXABLE).expect("write");
    let out = redline(dir.path(), &["check", "--fix", "tree"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("fix skipped") && stderr.contains("two files"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&odd).expect("read"), shifted);
    assert_eq!(std::fs::read_to_string(&plain).expect("read"), FIXABLE);
}
