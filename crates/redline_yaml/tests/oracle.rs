//! Differential test against sigs.k8s.io/yaml (go-yaml v2), the library
//! Kubernetes reads YAML with. `tests/oracle/` is a small Go program (a test
//! helper, not part of redline) that prints, for each file, every
//! document's JSON or error as kubectl's reader splits and decodes it; the
//! test builds it with the machine's `go` and compares its answers with
//! [`redline_yaml::parse_stream`] + [`redline_yaml::to_json`] on the
//! committed cases in `tests/corpus/` (one file per disagreement found, and
//! the tricky shapes of manifests).
//!
//! `real_corpus` (ignored) runs the same comparison over every `.yaml`,
//! `.yml` and `.json` file below `REDLINE_YAML_CORPUS`.

use serde_json::Value as J;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One document's outcome: its JSON, or that it is an error.
type Outcome = Result<J, String>;

fn oracle() -> Option<PathBuf> {
    let go = std::env::var_os("GO").unwrap_or_else(|| "go".into());
    if Command::new(&go)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        println!(
            "SKIPPED: `go` is not on PATH, so the sigs.k8s.io/yaml oracle cannot be built \
             (scripts/test.sh installs golang-go)"
        );
        return None;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle");
    let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join("yaml-oracle");
    let out = Command::new(&go)
        .current_dir(&src)
        .args(["build", "-mod=readonly", "-o"])
        .arg(&bin)
        .arg(".")
        .output()
        .expect("run go build");
    assert!(
        out.status.success(),
        "go build of the oracle failed (run `go mod download` in {}): {}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(bin)
}

/// Integral floats as integers, so `1e3` (a float in go-yaml, printed
/// `1000` by Go's encoder) compares equal to what Go printed.
fn normalize(v: J) -> J {
    match v {
        J::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => J::from(i),
            (None, Some(u), _) => J::from(u),
            (None, None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => J::from(f as i64),
            _ => J::Number(n),
        },
        J::Array(a) => J::Array(a.into_iter().map(normalize).collect()),
        J::Object(o) => J::Object(o.into_iter().map(|(k, v)| (k, normalize(v))).collect()),
        v => v,
    }
}

fn ours(bytes: &[u8]) -> Vec<Outcome> {
    let text = match redline_yaml::decode(bytes) {
        Ok(t) => t,
        Err(e) => return vec![Err(e.to_string())],
    };
    let stream = redline_yaml::parse_stream(&text);
    let mut out: Vec<Outcome> = stream
        .documents
        .iter()
        .map(|d| redline_yaml::to_json(d).map(normalize))
        .filter(|d| !matches!(d, Ok(J::Null)))
        .collect();
    if let Some(e) = stream.error {
        out.push(Err(e.to_string()));
    }
    out
}

fn theirs(line: &J) -> Vec<Outcome> {
    let mut out = Vec::new();
    for d in line["docs"].as_array().into_iter().flatten() {
        if let Some(e) = d.get("error").and_then(J::as_str) {
            out.push(Err(e.to_string()));
        } else {
            let j = normalize(d.get("json").cloned().unwrap_or(J::Null));
            if j != J::Null {
                out.push(Ok(j));
            }
        }
    }
    out
}

/// How two answers differ, or `None` when they agree (errors agree with
/// errors whatever their wording; the oracle's decoding stops at the first
/// error, so ours is compared up to it).
fn disagreement(ours: &[Outcome], theirs: &[Outcome]) -> Option<&'static str> {
    for (i, t) in theirs.iter().enumerate() {
        let Some(o) = ours.get(i) else {
            return Some(if t.is_err() {
                "oracle rejects, redline accepts"
            } else {
                "fewer documents"
            });
        };
        match (o, t) {
            (Ok(a), Ok(b)) if a == b => {}
            (Ok(_), Ok(_)) => return Some("different value"),
            (Err(_), Err(_)) => return None,
            (Ok(_), Err(_)) => return Some("oracle rejects, redline accepts"),
            (Err(_), Ok(_)) => return Some("redline rejects, oracle accepts"),
        }
    }
    match ours.get(theirs.len()) {
        None => None,
        Some(Err(_)) => Some("redline rejects, oracle accepts"),
        Some(Ok(_)) => Some("more documents"),
    }
}

struct Report {
    files: usize,
    bytes: usize,
    agree: usize,
    disagree: Vec<(String, &'static str, String)>,
}

fn compare(bin: &Path, files: &[PathBuf]) -> Report {
    let mut child = Command::new(bin)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the oracle");
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(list.as_bytes()).unwrap();
    });
    let output = child.wait_with_output().expect("oracle output");
    writer.join().unwrap();
    assert!(output.status.success(), "the oracle failed");
    let mut report = Report {
        files: 0,
        bytes: 0,
        agree: 0,
        disagree: Vec::new(),
    };
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let (path, t) = match serde_json::from_str::<J>(line) {
            Ok(line) => (line["path"].as_str().unwrap().to_string(), theirs(&line)),
            // serde_json reads 128 levels; the oracle decoded something deeper.
            Err(e) if e.to_string().contains("recursion limit") => {
                let path = line.split('"').nth(3).unwrap().to_string();
                (
                    path,
                    vec![Ok(J::String("(a document deeper than 128 levels)".into()))],
                )
            }
            Err(e) => panic!("oracle JSON line: {e}"),
        };
        let bytes = std::fs::read(&path).unwrap();
        report.files += 1;
        report.bytes += bytes.len();
        let o = ours(&bytes);
        match disagreement(&o, &t) {
            None => report.agree += 1,
            Some(class) => {
                report
                    .disagree
                    .push((path, class, format!("redline: {o:?}\noracle: {t:?}")))
            }
        }
    }
    report
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            ["yaml", "yml", "json"]
                .iter()
                .any(|x| e.eq_ignore_ascii_case(x))
        }) {
            out.push(p);
        }
    }
}

#[test]
fn committed_cases_agree_with_sigs_k8s_io_yaml() {
    let Some(bin) = oracle() else { return };
    let mut files = Vec::new();
    yaml_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"),
        &mut files,
    );
    assert!(files.len() >= 10, "the corpus is missing");
    let report = compare(&bin, &files);
    assert_eq!(report.files, files.len());
    let text: Vec<String> = report
        .disagree
        .iter()
        .map(|(p, c, d)| format!("{p}: {c}\n{d}"))
        .collect();
    assert!(text.is_empty(), "{}", text.join("\n\n"));
}

#[test]
#[ignore = "needs REDLINE_YAML_CORPUS=<a directory of real YAML>"]
fn real_corpus() {
    let Some(bin) = oracle() else { return };
    let dir = std::env::var_os("REDLINE_YAML_CORPUS").expect("set REDLINE_YAML_CORPUS");
    let mut files = Vec::new();
    yaml_files(Path::new(&dir), &mut files);
    let report = compare(&bin, &files);
    let mut classes = std::collections::BTreeMap::<&str, usize>::new();
    for (path, class, detail) in &report.disagree {
        *classes.entry(class).or_default() += 1;
        let detail: String = detail.chars().take(600).collect();
        println!("DISAGREE {class}: {path}\n{detail}\n");
    }
    println!(
        "files {} bytes {} agree {} disagree {} {classes:?}",
        report.files,
        report.bytes,
        report.agree,
        report.disagree.len()
    );
}

/// `tests/known-differences/` holds the cases where redline differs from
/// sigs.k8s.io/yaml on purpose or for now (docs/field-tests.md says why);
/// each must still differ, so the list stays true.
#[test]
fn known_differences_still_differ() {
    let Some(bin) = oracle() else { return };
    let mut files = Vec::new();
    yaml_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/known-differences"),
        &mut files,
    );
    assert!(!files.is_empty());
    let report = compare(&bin, &files);
    assert_eq!(
        report.agree, 0,
        "a known difference is gone: move its file to tests/corpus/"
    );
    assert_eq!(report.disagree.len(), files.len());
}
