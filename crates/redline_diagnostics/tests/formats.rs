//! Golden-file tests for every output format, and validation of the SARIF
//! report with Microsoft's SARIF multitool (`sarif-multitool validate`: the
//! SARIF 2.1.0 JSON schema plus SARIF's own rules), installed from the npm
//! registry by `scripts/test.sh` (`$SARIF_MULTITOOL`, or `sarif-multitool`
//! on PATH). Regenerate the golden files with `UPDATE_GOLDEN=1 cargo test
//! -p redline_diagnostics --test formats` and review the diff.

use redline_diagnostics::render::{RenderOptions, ReportFormat, Sources, render};
use redline_diagnostics::{
    Applicability, CheckSummary, Diagnostic, Edit, Fix, LineIndex, RuleKind, RuleMeta, Severity,
};
use std::path::Path;

const GO: &str =
    "package p\n\n// a comment\nvar m = map[string]int{\"é\": 1}; var n = new(map[string]int)\n";
const YAML: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";

fn span(src: &str, needle: &str) -> redline_diagnostics::Span {
    let start = src.find(needle).expect("needle in source");
    LineIndex::new(src.as_bytes()).span(start, start + needle.len())
}

fn sample() -> (Vec<Diagnostic>, Sources) {
    let fix_span = span(GO, "new(map[string]int)");
    let diagnostics = vec![
        Diagnostic {
            rule: test_rule("RL101", "new-map"),
            severity: Severity::Error,
            path: "pkg/a b.go".into(),
            span: fix_span,
            message: "`new(map[string]int)` returns a pointer to a nil map".into(),
            help: Some("use `make(map[string]int)`".into()),
            fix: Some(Fix {
                applicability: Applicability::Safe,
                edits: vec![Edit {
                    span: fix_span,
                    content: "&map[string]int{}".into(),
                }],
            }),
        },
        Diagnostic {
            rule: test_rule("RL701", "gomaxprocs-unset"),
            severity: Severity::Warning,
            path: "deploy/web,prod.yaml".into(),
            span: span(YAML, "Deployment"),
            message: "100% of CPU: a, b: c\nsecond line & <tag> \"quoted\"".into(),
            help: None,
            fix: None,
        },
        Diagnostic {
            rule: test_rule("RL402", "error-as-string"),
            severity: Severity::Info,
            path: "deploy/web,prod.yaml".into(),
            span: span(YAML, "name: web"),
            message: "informational".into(),
            help: None,
            fix: None,
        },
    ];
    let mut sources = Sources::new();
    sources.insert("pkg/a b.go".into(), GO.as_bytes().into());
    sources.insert("deploy/web,prod.yaml".into(), YAML.as_bytes().into());
    let mut sorted = diagnostics;
    redline_diagnostics::sort(&mut sorted);
    (sorted, sources)
}

static NEW_MAP: RuleMeta = RuleMeta {
    id: "RL101",
    name: "new-map",
    finds: "`new(T)` with a map type yields a pointer to a nil map",
    doc: "## What it does\nFinds `new(map[K]V)`.\n",
    severity: Severity::Error,
    fix: Some(Applicability::Safe),
    kind: RuleKind::Go,
    active_by_default: true,
};

static GOMAXPROCS_UNSET: RuleMeta = RuleMeta {
    id: "RL701",
    name: "gomaxprocs-unset",
    finds: "GOMAXPROCS is not set",
    doc: "## What it does\nChecks GOMAXPROCS.\n",
    severity: Severity::Warning,
    fix: None,
    kind: RuleKind::Manifest,
    active_by_default: true,
};

fn rules() -> Vec<&'static RuleMeta> {
    vec![&NEW_MAP, &GOMAXPROCS_UNSET]
}

fn rendered(format: ReportFormat, diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let rules = rules();
    let mut out = Vec::new();
    render(
        format,
        diagnostics,
        &CheckSummary {
            files_scanned: 2,
            elapsed_ms: 0,
        },
        sources,
        RenderOptions {
            color: false,
            rules: &rules,
            tool_version: "0.0.0-test",
        },
        &mut out,
    )
    .expect("rendering to memory");
    String::from_utf8(out).expect("reports are UTF-8")
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("writing golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "{} differs; if the change is intended, run with UPDATE_GOLDEN=1",
        path.display()
    );
}

#[test]
fn every_format_matches_its_golden_file() {
    let (diagnostics, sources) = sample();
    for format in ReportFormat::ALL {
        let ext = match format {
            ReportFormat::Text | ReportFormat::Github => "txt",
            ReportFormat::Json | ReportFormat::Sarif | ReportFormat::Gitlab => "json",
            ReportFormat::Checkstyle | ReportFormat::Junit => "xml",
        };
        golden(
            &format!("{}.{ext}", format.name()),
            &rendered(format, &diagnostics, &sources),
        );
        golden(
            &format!("{}-empty.{ext}", format.name()),
            &rendered(format, &[], &Sources::new()),
        );
    }
}

#[test]
fn github_escapes_properties_and_data() {
    let (diagnostics, sources) = sample();
    let out = rendered(ReportFormat::Github, &diagnostics, &sources);
    let line = out
        .lines()
        .find(|l| l.starts_with("::warning "))
        .expect("a warning annotation");
    assert!(
        line.starts_with("::warning file=deploy/web%2Cprod.yaml,line=2,col=7,"),
        "{line}"
    );
    assert!(line.contains("title=RL701 gomaxprocs-unset::"), "{line}");
    assert!(
        line.ends_with("::100%25 of CPU: a, b: c%0Asecond line & <tag> \"quoted\""),
        "{line}"
    );
    assert!(out.contains("::notice file="), "info maps to notice");
}

/// The multitool's path: `$SARIF_MULTITOOL`, else `sarif-multitool` on PATH.
fn sarif_multitool() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("SARIF_MULTITOOL") {
        return p.into();
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("sarif-multitool"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "sarif-multitool not found: run scripts/test.sh, or `npm install --prefix target/tools @microsoft/sarif-multitool` and set SARIF_MULTITOOL=target/tools/node_modules/.bin/sarif-multitool"
            )
        })
}

/// Runs `sarif-multitool validate` on a report; returns the results it
/// found as (rule id, level).
fn validate_sarif(report: &str) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("report.sarif");
    let output = dir.path().join("validation.sarif");
    std::fs::write(&input, report).expect("write report");
    let status = std::process::Command::new(sarif_multitool())
        .arg("validate")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .output()
        .expect("sarif-multitool runs");
    assert!(
        output.is_file(),
        "sarif-multitool wrote no validation log: {}",
        String::from_utf8_lossy(&status.stdout)
    );
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).expect("validation log"))
            .expect("validation log is JSON");
    log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or("?").to_string(),
                r["level"].as_str().unwrap_or("warning").to_string(),
            )
        })
        .collect()
}

#[test]
fn sarif_is_valid_sarif_2_1_0() {
    let (diagnostics, sources) = sample();
    for (diags, srcs) in [(diagnostics, sources), (Vec::new(), Sources::new())] {
        let report = rendered(ReportFormat::Sarif, &diags, &srcs);
        let problems = validate_sarif(&report);
        assert!(
            problems.is_empty(),
            "sarif-multitool found problems: {problems:#?}\n{report}"
        );
    }
    // The validator is not vacuous: a report without `version` is rejected.
    let mut broken: serde_json::Value =
        serde_json::from_str(&rendered(ReportFormat::Sarif, &[], &Sources::new())).expect("JSON");
    broken.as_object_mut().expect("object").remove("version");
    let problems = validate_sarif(&broken.to_string());
    assert!(
        problems.iter().any(|(_, level)| level == "error"),
        "a report without `version` must fail validation: {problems:?}"
    );
}

#[test]
fn sarif_columns_are_code_points_and_fixes_byte_exact() {
    let (diagnostics, sources) = sample();
    let report: serde_json::Value =
        serde_json::from_str(&rendered(ReportFormat::Sarif, &diagnostics, &sources)).expect("JSON");
    let run = &report["runs"][0];
    let result = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "RL101")
        .expect("the RL101 result");
    let region = &result["locations"][0]["physicalLocation"]["region"];
    // `é` is two bytes and one code point: byte column 42, SARIF column 41.
    assert_eq!(region["startLine"], 4);
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startColumn"],
        41
    );
    let byte_column = diagnostics
        .iter()
        .find(|d| d.rule.id == "RL101")
        .map(|d| d.span.column);
    assert_eq!(byte_column, Some(42));
    let replacement = &result["fixes"][0]["artifactChanges"][0]["replacements"][0];
    let offset = replacement["deletedRegion"]["byteOffset"]
        .as_u64()
        .expect("offset") as usize;
    let length = replacement["deletedRegion"]["byteLength"]
        .as_u64()
        .expect("length") as usize;
    assert_eq!(&GO[offset..offset + length], "new(map[string]int)");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "pkg/a%20b.go"
    );
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "RL101");
    assert_eq!(result["ruleIndex"], 0);
}

#[test]
fn gitlab_fingerprints_are_stable_across_line_shifts() {
    let (diagnostics, sources) = sample();
    let fp = |diags: &[Diagnostic], srcs: &Sources| -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_str(&rendered(ReportFormat::Gitlab, diags, srcs)).expect("JSON");
        v.as_array()
            .expect("array")
            .iter()
            .map(|i| i["fingerprint"].as_str().expect("fingerprint").to_string())
            .collect()
    };
    let before = fp(&diagnostics, &sources);
    // Three lines inserted above every finding.
    let shifted_go = format!("// one\n// two\n// three\n{GO}");
    let shifted_yaml = format!("# one\n# two\n# three\n{YAML}");
    let mut shifted_sources = Sources::new();
    shifted_sources.insert("pkg/a b.go".into(), shifted_go.as_bytes().into());
    shifted_sources.insert(
        "deploy/web,prod.yaml".into(),
        shifted_yaml.as_bytes().into(),
    );
    let shifted: Vec<Diagnostic> = diagnostics
        .iter()
        .cloned()
        .map(|mut d| {
            let added = if d.path.ends_with(".go") {
                "// one\n// two\n// three\n".len()
            } else {
                "# one\n# two\n# three\n".len()
            };
            d.span.line += 3;
            d.span.end_line += 3;
            d.span.start_byte += added;
            d.span.end_byte += added;
            d
        })
        .collect();
    assert_eq!(before, fp(&shifted, &shifted_sources));
    let unique: std::collections::BTreeSet<_> = before.iter().collect();
    assert_eq!(unique.len(), before.len());
}

#[test]
fn xml_formats_escape_markup() {
    let (diagnostics, sources) = sample();
    for format in [ReportFormat::Checkstyle, ReportFormat::Junit] {
        let out = rendered(format, &diagnostics, &sources);
        assert!(
            out.contains("&amp; &lt;tag&gt; &quot;quoted&quot;"),
            "{format}: {out}"
        );
        assert!(!out.contains("<tag>"), "{format}");
    }
}

/// Nothing a scanned file holds reaches the terminal as a control
/// character: escape sequences in source lines, messages and file names
/// become U+FFFD in the text report (JSON and SARIF escape them anyway).
#[test]
fn text_report_neutralises_control_characters() {
    let src = "package p\n\nvar x = 1 \u{1b}[31mred\u{1b}[0m\u{7}\n";
    let d = Diagnostic {
        rule: test_rule("RL000", "parse-error"),
        severity: Severity::Error,
        path: "evil\u{1b}]0;title\u{7}.go".into(),
        span: span(src, "\u{1b}[31m"),
        message: "unexpected `\u{1b}[31mred`".into(),
        help: Some("\u{1b}[2J".into()),
        fix: None,
    };
    let mut sources = Sources::new();
    sources.insert(d.path.clone(), src.as_bytes().to_vec().into());
    let text = rendered(ReportFormat::Text, &[d], &sources);
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{text:?}"
    );
    assert!(
        text.contains("\u{FFFD}[31mred\u{FFFD}[0m\u{FFFD}"),
        "{text}"
    );
    assert!(
        text.contains("evil\u{FFFD}]0;title\u{FFFD}.go:3:11"),
        "{text}"
    );
}

/// A very long line (minified JSON, generated code) is quoted as a window
/// around the span, with the caret still under it.
#[test]
fn text_report_cuts_long_lines_around_the_span() {
    let src = format!(
        "{{\"a\":\"{}\",\"name\":\"JWT_SECRET\",\"b\":\"{}\"}}\n",
        "x".repeat(5000),
        "y".repeat(5000)
    );
    let d = Diagnostic {
        rule: test_rule("RL704", "secret-literal"),
        severity: Severity::Error,
        path: "min.json".into(),
        span: span(&src, "\"JWT_SECRET\""),
        message: "m".into(),
        help: None,
        fix: None,
    };
    let mut sources = Sources::new();
    sources.insert(d.path.clone(), src.as_bytes().to_vec().into());
    let text = rendered(ReportFormat::Text, &[d], &sources);
    let lines: Vec<&str> = text.lines().collect();
    let quoted = lines
        .iter()
        .find(|l| l.starts_with("1 | "))
        .expect("quoted line");
    let caret = lines.iter().find(|l| l.contains('^')).expect("caret line");
    assert!(quoted.chars().count() < 200, "{quoted}");
    assert!(
        quoted.starts_with("1 | …") && quoted.ends_with('…'),
        "{quoted}"
    );
    let at = quoted
        .find("\"JWT_SECRET\"")
        .map(|b| quoted[..b].chars().count());
    let caret_at = caret.chars().position(|c| c == '^');
    assert!(at.is_some());
    assert_eq!(at, caret_at, "\n{quoted}\n{caret}");
    assert_eq!(
        caret.chars().filter(|&c| c == '^').count(),
        "\"JWT_SECRET\"".len()
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
