//! The fixture harness, one for Go and manifests: a fixture is its own
//! expectation. A trailing marker names each finding expected on its line:
//!
//! ```text
//! m[k] = v // want RL102 "nil on at least one path"
//! - name: api # want RL701 RL703:info
//! ```
//!
//! `RLnnn` expects a finding of that rule on the line, with the rule's
//! default severity unless `:severity` follows; a quoted string after it
//! must occur in that finding's message. JSON cannot hold comments: a
//! `NAME.json.want` file lists `LINE RULE[:severity] ["message"]` lines.
//! A directory may carry its own `redline.toml`: the fixtures below it are
//! checked with it, found and read as `redline check` finds and reads it
//! (the nearest one), so rules and settings that need configuration get
//! fixtures too.
//!
//! [`compare`] fails on a missing AND on an unexpected finding, and on a
//! message that does not match.

#![allow(dead_code)]

use redline_check::config::{Configs, Overrides};
use redline_diagnostics::{Diagnostic, Severity};
use redline_k8s::ManifestContext;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One expected finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The fixture's path below its fixture root.
    pub path: String,
    pub line: usize,
    pub rule: String,
    /// `None`: the rule's default severity.
    pub severity: Option<Severity>,
    /// A part of the message.
    pub message: Option<String>,
}

/// Parses the markers after `want ` on one line (`RL101 RL703:info
/// RL102 "text"`); stops at the first word that is neither.
pub fn parse_markers(path: &str, line: usize, text: &str) -> Vec<Marker> {
    let mut out: Vec<Marker> = Vec::new();
    let mut rest = text.trim_start();
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut message = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, e)) = chars.next() {
                            message.push(e);
                        }
                    }
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => message.push(c),
                }
            }
            let Some(end) = end else {
                panic!("{path}:{line}: unterminated message in a `want` marker");
            };
            let last = out
                .last_mut()
                .unwrap_or_else(|| panic!("{path}:{line}: a message must follow a rule id"));
            last.message = Some(message);
            rest = quoted[end..].trim_start();
            continue;
        }
        let word = rest.split_whitespace().next().unwrap_or("");
        if !word.starts_with("RL") {
            return out;
        }
        let (rule, severity) = match word.split_once(':') {
            Some((r, s)) => (
                r,
                Some(
                    s.parse::<Severity>()
                        .unwrap_or_else(|e| panic!("{path}:{line}: {e}")),
                ),
            ),
            None => (word, None),
        };
        assert!(
            rule.len() == 5 && rule[2..].bytes().all(|b| b.is_ascii_digit()),
            "{path}:{line}: bad marker `{word}`"
        );
        out.push(Marker {
            path: path.to_string(),
            line,
            rule: rule.to_string(),
            severity,
            message: None,
        });
        rest = rest[word.len()..].trim_start();
    }
}

/// The markers of one fixture file (and of its `.want` file).
pub fn markers_of(root: &Path, file: &Path) -> Vec<Marker> {
    let name = relative(root, file);
    let mut out = Vec::new();
    if let Ok(text) = std::fs::read_to_string(file) {
        for (i, line) in text.lines().enumerate() {
            for leader in ["// want ", "# want "] {
                if let Some(pos) = line.find(leader) {
                    out.extend(parse_markers(&name, i + 1, &line[pos + leader.len()..]));
                }
            }
        }
    }
    let want = PathBuf::from(format!("{}.want", file.display()));
    if let Ok(w) = std::fs::read_to_string(want) {
        for l in w.lines().filter(|l| !l.trim().is_empty()) {
            let (n, rest) = l.trim().split_once(' ').unwrap_or((l, ""));
            let n: usize = n
                .parse()
                .unwrap_or_else(|_| panic!("{name}.want: `{l}` does not start with a line number"));
            out.extend(parse_markers(&name, n, rest));
        }
    }
    out
}

/// `file` below `root`, with `/` separators.
pub fn relative(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every file below `dir`, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = entry.expect("a directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Compares findings with markers: every marker needs a finding of its
/// rule, line and severity (and message part), and every finding a
/// marker. Returns the disagreements, one line each.
pub fn compare(markers: &[Marker], findings: &[Diagnostic]) -> Vec<String> {
    type Key = (String, usize, String, Severity);
    let mut want: BTreeMap<Key, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let default_severity = |rule: &str| {
        findings
            .iter()
            .find(|d| d.rule.id == rule)
            .map(|d| d.rule.severity)
            .or_else(|| redline_rules::find_rule(rule).map(|r| r.severity))
            .unwrap_or_else(|| panic!("a marker names `{rule}`, which the catalog lacks"))
    };
    for m in markers {
        let severity = m.severity.unwrap_or_else(|| default_severity(&m.rule));
        *want
            .entry((m.path.clone(), m.line, m.rule.clone(), severity))
            .or_insert(0) += 1;
        if let Some(text) = &m.message {
            let hit = findings.iter().any(|d| {
                d.path == m.path
                    && d.span.line == m.line
                    && d.rule.id == m.rule
                    && d.message.contains(text.as_str())
            });
            if !hit {
                let got: Vec<&str> = findings
                    .iter()
                    .filter(|d| d.path == m.path && d.span.line == m.line && d.rule.id == m.rule)
                    .map(|d| d.message.as_str())
                    .collect();
                failures.push(format!(
                    "{}:{}: {} expected a message with {text:?}, got {got:?}",
                    m.path, m.line, m.rule
                ));
            }
        }
    }
    let mut got: BTreeMap<Key, usize> = BTreeMap::new();
    for d in findings {
        *got.entry((
            d.path.clone(),
            d.span.line,
            d.rule.id.to_string(),
            d.severity,
        ))
        .or_insert(0) += 1;
    }
    for (k, n) in &want {
        let have = got.get(k).copied().unwrap_or(0);
        if have < *n {
            failures.push(format!("{}:{}: missing {} ({})", k.0, k.1, k.2, k.3));
        }
    }
    for (k, n) in &got {
        if *n > want.get(k).copied().unwrap_or(0) {
            let messages: Vec<&str> = findings
                .iter()
                .filter(|d| d.path == k.0 && d.span.line == k.1 && d.rule.id == k.2)
                .map(|d| d.message.as_str())
                .collect();
            failures.push(format!(
                "{}:{}: unexpected {} ({}): {messages:?}",
                k.0, k.1, k.2, k.3
            ));
        }
    }
    failures
}

/// Findings as a golden file shows them: position, severity, message,
/// help and fix of each, in order.
pub fn golden_text(findings: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in findings {
        out.push_str(&format!(
            "{}:{}:{}: {} {} {}\n",
            d.path, d.span.line, d.span.column, d.severity, d.rule.id, d.message
        ));
        if let Some(help) = &d.help {
            out.push_str(&format!("  help: {help}\n"));
        }
        if let Some(fix) = &d.fix {
            out.push_str(&format!("  fix ({:?}):\n", fix.applicability));
            for e in &fix.edits {
                out.push_str(&format!(
                    "    {}:{}-{}:{} => {:?}\n",
                    e.span.line, e.span.column, e.span.end_line, e.span.end_column, e.content
                ));
            }
        }
    }
    out
}

/// Compares `actual` with the golden file `name` under tests/golden/
/// (`UPDATE_GOLDEN=1` rewrites it).
pub fn golden(name: &str, actual: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create tests/golden");
        std::fs::write(&path, actual).expect("write the golden file");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "{} differs from the rule's output (review, then `UPDATE_GOLDEN=1 cargo test -p redline_rules --test rules`):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        )
    })
}

/// The manifest settings of a fixture: the nearest `redline.toml` (found
/// and read as `redline check` finds and reads it), then its `# context:` lines
/// (`go=1.25 automaxprocs required-env=A,B required-env-containers=api`).
pub fn manifest_context(path: &Path, text: &str) -> ManifestContext {
    let dir = path.parent().unwrap();
    let configs = Configs::discover(Overrides::default(), dir);
    let config = configs
        .for_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut ctx = match &config.document {
        Some(doc) => ManifestContext::from_config(Some(doc), config.go_version, dir)
            .unwrap_or_else(|e| panic!("{}: {e}", doc.display())),
        None => ManifestContext::default(),
    };
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix("# context:") else {
            continue;
        };
        for word in rest.split_whitespace() {
            match word.split_once('=') {
                Some(("go", v)) => ctx.module.go_version = redline_go::GoVersion::parse(v),
                Some(("required-env", v)) => {
                    ctx.required_env = v
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                }
                Some(("required-env-containers", v)) => {
                    ctx.required_env_containers = v.split(',').map(String::from).collect()
                }
                None if word == "automaxprocs" => ctx.module.imports_automaxprocs = true,
                _ => panic!("unknown context word `{word}`"),
            }
        }
    }
    ctx
}

#[test]
fn markers_parse_ids_severities_and_messages() {
    let m = parse_markers(
        "f.go",
        3,
        "RL102 \"nil on \\\"one\\\" path\" RL703:info trailing words",
    );
    assert_eq!(m.len(), 2, "{m:?}");
    assert_eq!(m[0].rule, "RL102");
    assert_eq!(m[0].message.as_deref(), Some("nil on \"one\" path"));
    assert_eq!(
        (m[1].rule.as_str(), m[1].severity),
        ("RL703", Some(Severity::Info))
    );
    assert!(parse_markers("f.go", 1, "nothing here").is_empty());
}
