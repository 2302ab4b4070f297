//! Hostile inputs to `redline check`: oversized and binary files, FIFOs
//! and devices as paths, suppressions inside strings, byte order marks,
//! several modules in one run, file names with line breaks, and nesting
//! that used to take time quadratic in the input. Memory is bounded with
//! `prlimit --as` (a run over the limit dies instead of passing).

mod common;

use common::write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The address-space limit the runs of this file get: far above what a
/// check of these inputs needs, far below what the old code took.
const MEMORY_LIMIT: &str = "--as=2147483648";

fn redline_limited(dir: &Path, args: &[&str]) -> Output {
    Command::new("prlimit")
        .arg(MEMORY_LIMIT)
        .arg(env!("CARGO_BIN_EXE_redline"))
        .arg("--isolated")
        .args(args)
        .current_dir(dir)
        .env("REDLINE_CACHE_DIR", dir.join(".cache"))
        .output()
        .expect("prlimit (util-linux) and redline run")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn sane(what: &str, o: &Output) {
    let (_, err) = text(o);
    assert!(
        o.status.code().is_some(),
        "{what}: killed: {:?} {err}",
        o.status
    );
    assert_ne!(o.status.code(), Some(101), "{what}: panicked: {err}");
}

#[test]
fn oversized_go_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().expect("tmp");
    // 50 MB of NUL bytes: it took 8 GB and aborted in tree-sitter.
    let f = std::fs::File::create(dir.path().join("nul.go")).expect("create");
    f.set_len(50_000_000).expect("sparse file");
    let started = Instant::now();
    let o = redline_limited(dir.path(), &["check", "--no-cache", "."]);
    sane("50 MB of NUL", &o);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("nul.go:1:1: error RL000"), "{out}");
    assert!(out.contains("over the size limit of 8.0 MiB"), "{out}");
    assert!(out.contains("max-file-size"), "{out}");
    assert!(out.contains("exclude"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn nul_bytes_are_not_go_source() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut bytes = b"package p\n\nfunc f() {}\n".to_vec();
    bytes.extend(std::iter::repeat_n(0u8, 4 << 20));
    std::fs::write(dir.path().join("bin.go"), &bytes).expect("write");
    let o = redline_limited(
        dir.path(),
        &["check", "--no-cache", "--format", "json", "."],
    );
    sane("4 MiB of NUL after a package clause", &o);
    let (out, err) = text(&o);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let messages: Vec<&str> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert_eq!(messages.len(), 1, "{out}");
    assert!(messages[0].contains("NUL byte at offset 23"), "{out}");
    assert!(messages[0].contains("not Go source"), "{out}");
}

#[test]
fn random_bytes_are_not_go_source() {
    // 8 MB of random bytes with no NUL: tree-sitter took two minutes on
    // them; bytes that are not UTF-8 are refused before parsing.
    let dir = tempfile::tempdir().expect("tmp");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..8_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x as u8).max(1)
        })
        .collect();
    std::fs::write(dir.path().join("rnd.go"), &bytes).expect("write");
    let started = Instant::now();
    let o = redline_limited(dir.path(), &["check", "--no-cache", "."]);
    sane("8 MB of random bytes", &o);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("invalid UTF-8 at offset"), "{out}");
    assert!(out.contains("not Go source"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_size_limit_is_configurable() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut src = String::from("package p\n\nfunc f() {\n\t_ = new(map[string]int)\n}\n");
    while src.len() < 300_000 {
        src.push_str("// padding padding padding padding padding padding padding\n");
    }
    write(dir.path(), "big.go", &src);
    let run = |args: &[&str]| {
        let o = redline_limited(dir.path(), args);
        sane("size limit", &o);
        text(&o).0
    };
    let out = run(&["check", "--no-cache", "--max-file-size", "100kB", "."]);
    assert!(out.contains("over the size limit of 97.7 KiB"), "{out}");
    assert!(!out.contains("RL101"), "{out}");
    let out = run(&["check", "--no-cache", "--max-file-size", "1MiB", "."]);
    assert!(out.contains("RL101"), "{out}");
    // In redline.toml, and through standard input too.
    write(dir.path(), "redline.toml", "max-file-size = \"100kB\"\n");
    let o = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(["check", "--no-cache", "."])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert!(text(&o).0.contains("over the size limit"), "{}", text(&o).0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(["check", "--stdin-filename", "big.go", "-"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = stdin.write_all(src.as_bytes());
    }
    let o = child.wait_with_output().expect("exits");
    let out = text(&o).0;
    assert!(
        out.contains("more than 97.7 KiB, over the size limit"),
        "{out}"
    );
    // A bad size is a usage error naming the key.
    write(dir.path(), "redline.toml", "max-file-size = \"lots\"\n");
    let o = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(["check", "--no-cache", "."])
        .current_dir(dir.path())
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("redline.toml:1:"), "{}", text(&o).1);
}

#[test]
fn oversized_generated_files_are_skipped_like_generated_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut src = String::from("// Code generated by protoc-gen-go. DO NOT EDIT.\n\npackage p\n");
    while src.len() < 200_000 {
        src.push_str("var _ = new(map[string]int)\n");
    }
    write(dir.path(), "x.pb.go", &src);
    let o = redline_limited(
        dir.path(),
        &["check", "--no-cache", "--max-file-size", "100kB", "."],
    );
    let out = text(&o).0;
    assert_eq!(o.status.code(), Some(0), "{out}");
}

#[test]
fn a_utf8_bom_before_the_generated_marker_is_still_generated() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "gen.go",
        "\u{FEFF}// Code generated by x. DO NOT EDIT.\n\npackage p\n\nfunc f() {\n\t_ = new(map[string]int)\n}\n",
    );
    let o = common::redline(dir.path(), &["check", "--no-cache", "."]);
    let out = text(&o).0;
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("in 0 files"), "{out}");
}

#[test]
fn a_fifo_named_on_the_command_line_is_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("x.go");
    let ok = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(ok.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            std::fs::write(
                &fifo,
                "package p\n\nfunc f() {\n\t_ = new(map[string]int)\n}\n",
            )
        })
    };
    let o = common::redline(dir.path(), &["check", "--no-cache", "x.go"]);
    let _ = writer.join();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("x.go:4:6: warning RL101") || out.contains("RL101"),
        "{out}"
    );
    assert!(out.contains("1 file"), "{out}");
}

#[test]
fn a_pipe_without_a_name_asks_for_stdin_filename() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut child = Command::new(env!("CARGO_BIN_EXE_redline"))
        .args(["--isolated", "check", "--no-cache", "/dev/stdin"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = stdin.write_all(b"package p\n");
    }
    let o = child.wait_with_output().expect("exits");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("--stdin-filename"), "{err}");
    assert!(!out.contains("ok:"), "{out}");
}

#[test]
fn ignore_file_inside_a_string_suppresses_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    write(
        dir.path(),
        "p.go",
        "package p\n\nconst doc = \"//redline:ignore-file RL101 -- not a comment\"\n\nfunc f() {\n\t_ = new(map[string]int)\n}\n",
    );
    let o = common::redline(dir.path(), &["check", "--no-cache", "."]);
    let out = text(&o).0;
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("RL101"), "{out}");
    // The same text in a comment does suppress.
    write(
        dir.path(),
        "p.go",
        "package p\n\n//redline:ignore-file RL101 -- a comment\n\nfunc f() {\n\t_ = new(map[string]int)\n}\n",
    );
    let o = common::redline(dir.path(), &["check", "--no-cache", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).0);
}

#[test]
fn each_manifest_uses_the_go_mod_that_governs_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: api:1\n          resources:\n            limits:\n              cpu: \"2\"\n              memory: 1Gi\n            requests:\n              cpu: \"1\"\n              memory: 1Gi\n";
    write(
        dir.path(),
        "new/go.mod",
        "module example.com/new\n\ngo 1.25\n",
    );
    write(dir.path(), "new/deploy/api.yaml", deploy);
    write(
        dir.path(),
        "old/go.mod",
        "module example.com/old\n\ngo 1.22\n",
    );
    write(dir.path(), "old/deploy/api.yaml", deploy);
    for order in [["new", "old"], ["old", "new"]] {
        let o = common::redline(
            dir.path(),
            &[
                "check",
                "--no-cache",
                "--format",
                "json",
                order[0],
                order[1],
            ],
        );
        let (out, err) = text(&o);
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
        let rl701: Vec<&str> = v["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| d["rule"] == "RL701")
            .filter_map(|d| d["path"].as_str())
            .collect();
        assert_eq!(rl701, vec!["old/deploy/api.yaml"], "{order:?}: {out}");
    }
}

#[test]
fn a_line_break_in_a_file_name_cannot_fake_a_finding() {
    let dir = tempfile::tempdir().expect("tmp");
    let name = "a.go:1:1: error RL999[fake] injected\nb.go";
    write(
        dir.path(),
        name,
        "package p\n\nfunc f() {\n\t_ = new(map[string]int)\n}\n",
    );
    for format in ["text", "github"] {
        let o = common::redline(
            dir.path(),
            &["check", "--no-cache", "--format", format, "."],
        );
        let out = text(&o).0;
        let findings: Vec<&str> = out
            .lines()
            .filter(|l| l.contains("error RL101[") || l.contains("title=RL101"))
            .collect();
        assert_eq!(findings.len(), 1, "{format}: {out}");
        for line in out.lines() {
            assert!(!line.starts_with("b.go"), "{format}: {out}");
            assert!(!line.starts_with("::error file=b.go"), "{format}: {out}");
        }
        if format == "text" {
            assert!(findings[0].contains("injected\\nb.go:4:"), "{out}");
        }
    }
}

/// `depth` nested function literals with the signature of a key function.
fn nested_key_functions(depth: usize) -> String {
    let mut src = String::from("package p\n\nvar keyFunc = ");
    for _ in 0..depth {
        src.push_str("func(obj interface{}) (string, error) { _ = ");
    }
    src.push('1');
    for _ in 0..depth {
        src.push_str("; return \"\", nil }");
    }
    src.push('\n');
    src
}

fn time_rl201(depth: usize) -> Duration {
    let dir = tempfile::tempdir().expect("tmp");
    write(dir.path(), "deep.go", &nested_key_functions(depth));
    let started = Instant::now();
    let o = redline_limited(
        dir.path(),
        &[
            "check",
            "--no-cache",
            "--select",
            "RL201",
            "--format",
            "json",
            ".",
        ],
    );
    let elapsed = started.elapsed();
    sane("nested literals", &o);
    let (out, err) = text(&o);
    let _: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    elapsed
}

#[test]
fn deeply_nested_function_literals_take_linear_time() {
    // RL201 took 22 s (release) on 10,000 nested function literals: a
    // parent look-up per literal, each costing the depth. Now: a generous
    // bound for a debug build on a busy machine, and growth that is not
    // quadratic (4x the depth must not cost 16x the time).
    let small = time_rl201(2_500);
    let large = time_rl201(10_000);
    assert!(large < Duration::from_secs(20), "{large:?}");
    assert!(
        large < small * 8 + Duration::from_secs(1),
        "2,500 deep: {small:?}, 10,000 deep: {large:?}"
    );
}
