//! A file name (or a message quoting one) with a line break cannot add a
//! line that looks like a finding to a line-oriented report: text and
//! GitHub annotations. Structured formats escape by their own syntax.

use redline_diagnostics::render::{RenderOptions, ReportFormat, Sources, render};
use redline_diagnostics::{CheckSummary, Diagnostic, LineIndex, Severity};

const SRC: &str = "package p\n\nvar x = new(map[string]int)\n";

fn diagnostic(path: &str) -> Diagnostic {
    let start = SRC.find("new(").expect("needle");
    Diagnostic {
        rule: test_rule("RL101", "new-map"),
        severity: Severity::Error,
        path: path.into(),
        span: LineIndex::new(SRC.as_bytes()).span(start, start + 4),
        message: format!("in {path}\nfake.go:9:9: error RL999[x] from the message"),
        help: Some(format!("see {path}")),
        fix: None,
    }
}

fn rendered(format: ReportFormat, path: &str) -> String {
    let mut sources = Sources::new();
    sources.insert(path.to_string(), SRC.as_bytes().into());
    let mut out = Vec::new();
    render(
        format,
        &[diagnostic(path)],
        &CheckSummary {
            files_scanned: 1,
            elapsed_ms: 0,
        },
        &sources,
        RenderOptions {
            color: false,
            rules: &[],
            tool_version: "0",
        },
        &mut out,
    )
    .expect("renders");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn text_escapes_control_characters_in_file_names() {
    let path = "a.go:1:1: error RL999[fake] injected\nb.go\t\u{1b}[2J\\x";
    let out = rendered(ReportFormat::Text, path);
    let at_margin: Vec<&str> = out
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(' ') && !l.starts_with('|'))
        // The code frame's numbered line.
        .filter(|l| {
            !l.split(' ')
                .next()
                .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    // One finding line and the summary, nothing else at the left margin.
    assert_eq!(at_margin.len(), 2, "{out}");
    assert!(
        at_margin[0].starts_with(
            "a.go:1:1: error RL999[fake] injected\\nb.go\\t\u{FFFD}[2J\\\\x:3:9: error RL101"
        ),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "{out}");
    assert!(
        !out.lines()
            .any(|l| l.starts_with("b.go") || l.starts_with("fake.go")),
        "{out}"
    );
}

#[test]
fn github_annotations_escape_line_breaks_in_file_names() {
    let path = "a.go\n::error file=b.go,line=1::injected";
    let out = rendered(ReportFormat::Github, path);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with("::error file=a.go%0A%3A%3Aerror file=b.go%2Cline=1%3A%3Ainjected,line=3"),
        "{out}"
    );
}

/// A rule of the catalog as these tests need it (id and name).
fn test_rule(id: &'static str, name: &'static str) -> &'static redline_diagnostics::RuleMeta {
    Box::leak(Box::new(redline_diagnostics::RuleMeta {
        id,
        name,
        severity: redline_diagnostics::Severity::Error,
        fix: None,
        finds: "",
        doc: "",
        kind: redline_diagnostics::RuleKind::Go,
        active_by_default: true,
    }))
}
