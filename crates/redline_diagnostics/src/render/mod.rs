//! Renderers: each turns the sorted diagnostics of one run into a report.
//! A renderer sees only [`Diagnostic`]s, the [`CheckSummary`], the rule
//! catalog's metadata ([`RuleMeta`]; the registry itself lives above) and, for code frames and fingerprints, the text of the files
//! that have findings. One file per format.

mod checkstyle;
mod github;
mod gitlab;
mod json;
mod junit;
mod sarif;
mod text;

use crate::{CheckSummary, Diagnostic, LineIndex, RuleMeta};
use std::collections::HashMap;
use std::io::{self, Write};
use std::str::FromStr;

pub use github::{escape_data as github_escape_data, escape_property as github_escape_property};
pub use json::{json_diagnostic, json_report};
pub use sarif::sarif_report;

/// The text of the files a renderer may quote, keyed by displayed path.
pub type Sources = HashMap<String, std::sync::Arc<[u8]>>;

/// Every output format `redline check` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportFormat {
    /// Human-readable, with code frames.
    Text,
    /// redline's own JSON document (version 1).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// GitLab Code Quality JSON.
    Gitlab,
    /// Checkstyle XML.
    Checkstyle,
    /// JUnit XML.
    Junit,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 7] = [
        ReportFormat::Text,
        ReportFormat::Json,
        ReportFormat::Sarif,
        ReportFormat::Github,
        ReportFormat::Gitlab,
        ReportFormat::Checkstyle,
        ReportFormat::Junit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReportFormat::Text => "text",
            ReportFormat::Json => "json",
            ReportFormat::Sarif => "sarif",
            ReportFormat::Github => "github",
            ReportFormat::Gitlab => "gitlab",
            ReportFormat::Checkstyle => "checkstyle",
            ReportFormat::Junit => "junit",
        }
    }
}

impl std::fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ReportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReportFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ReportFormat::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown format `{s}` (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// Options that only affect presentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions<'a> {
    /// ANSI colours (text only). The CLI enables them only on a TTY and
    /// never when `NO_COLOR` is set.
    pub color: bool,
    /// The rule catalog, for formats that describe rules (SARIF).
    pub rules: &'a [&'static RuleMeta],
    /// The tool version written into reports that carry one.
    pub tool_version: &'a str,
}

/// Writes one report. Every format sees the same redacted inputs: URL
/// userinfo and `password=` values are masked in the quoted sources and in
/// messages (the driver has already masked the secret values of manifests;
/// see [`crate::secrets`]), so no format can print them.
pub fn render(
    format: ReportFormat,
    diagnostics: &[Diagnostic],
    summary: &CheckSummary,
    sources: &Sources,
    options: RenderOptions<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (diagnostics, sources) = redacted(diagnostics, sources);
    render_redacted(format, &diagnostics, summary, &sources, options, out)
}

/// The inputs of a report with every URL userinfo and `password=` value
/// masked, borrowed when there is none.
fn redacted<'a>(
    diagnostics: &'a [Diagnostic],
    sources: &'a Sources,
) -> (
    std::borrow::Cow<'a, [Diagnostic]>,
    std::borrow::Cow<'a, Sources>,
) {
    use crate::secrets::{redact, redact_bytes};
    use std::borrow::Cow;
    let mut masked_sources: Option<Sources> = None;
    for (path, src) in sources {
        if let Cow::Owned(m) = redact_bytes(src) {
            masked_sources
                .get_or_insert_with(|| sources.clone())
                .insert(path.clone(), m.into());
        }
    }
    let needs = |d: &Diagnostic| {
        matches!(redact(&d.message), Cow::Owned(_))
            || d.help
                .as_deref()
                .is_some_and(|h| matches!(redact(h), Cow::Owned(_)))
    };
    let diagnostics = if diagnostics.iter().any(needs) {
        Cow::Owned(
            diagnostics
                .iter()
                .map(|d| Diagnostic {
                    message: redact(&d.message).into_owned(),
                    help: d.help.as_deref().map(|h| redact(h).into_owned()),
                    ..d.clone()
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(diagnostics)
    };
    let sources = match masked_sources {
        Some(m) => Cow::Owned(m),
        None => Cow::Borrowed(sources),
    };
    (diagnostics, sources)
}

fn render_redacted(
    format: ReportFormat,
    diagnostics: &[Diagnostic],
    summary: &CheckSummary,
    sources: &Sources,
    options: RenderOptions<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        ReportFormat::Text => text::render_text(diagnostics, summary, sources, options, out),
        ReportFormat::Json => {
            let value = json_report(diagnostics, summary);
            serde_json::to_writer_pretty(&mut *out, &value)?;
            writeln!(out)
        }
        ReportFormat::Sarif => {
            let value = sarif_report(diagnostics, sources, options);
            serde_json::to_writer_pretty(&mut *out, &value)?;
            writeln!(out)
        }
        ReportFormat::Github => github::render(diagnostics, out),
        ReportFormat::Gitlab => {
            let value = gitlab::report(diagnostics, sources);
            serde_json::to_writer_pretty(&mut *out, &value)?;
            writeln!(out)
        }
        ReportFormat::Checkstyle => checkstyle::render(diagnostics, out),
        ReportFormat::Junit => junit::render(diagnostics, summary, out),
    }
}

/// Escapes text for XML attributes and character data. Characters XML 1.0
/// cannot carry at all (most C0 controls) become U+FFFD.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Converts a 1-based byte column on a 1-based line to a 1-based column in
/// Unicode code points, when the source is known.
pub(crate) fn char_column(
    source: Option<(&[u8], &LineIndex)>,
    line: usize,
    byte_column: usize,
) -> usize {
    let Some((src, index)) = source else {
        return byte_column;
    };
    let Some(start) = index.line_start(line) else {
        return byte_column;
    };
    let end = (start + byte_column.saturating_sub(1)).min(src.len());
    String::from_utf8_lossy(&src[start..end]).chars().count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule of the catalog as these tests need it (id and name).
    fn test_rule(id: &'static str, name: &'static str) -> &'static crate::RuleMeta {
        Box::leak(Box::new(crate::RuleMeta {
            id,
            name,
            severity: crate::Severity::Error,
            fix: None,
            finds: "",
            doc: "",
            kind: crate::RuleKind::Go,
            active_by_default: true,
        }))
    }
    use crate::{Applicability, Edit, Fix, LineIndex, Severity};

    fn sample() -> (Diagnostic, Sources) {
        let src = "package p\n\nvar m = new(map[string]int)\n";
        let start = src.find("new(").unwrap();
        let end = start + "new(map[string]int)".len();
        let span = LineIndex::new(src.as_bytes()).span(start, end);
        let d = Diagnostic {
            rule: test_rule("RL101", "new-map"),
            severity: Severity::Error,
            path: "p.go".into(),
            span,
            message: "new(map[string]int) is a pointer to a nil map".into(),
            help: Some("use make(map[string]int)".into()),
            fix: Some(Fix {
                applicability: Applicability::Safe,
                edits: vec![Edit {
                    span,
                    content: "&map[string]int{}".into(),
                }],
            }),
        };
        let mut sources = Sources::new();
        sources.insert("p.go".into(), src.as_bytes().into());
        (d, sources)
    }

    #[test]
    fn text_has_location_frame_and_underline() {
        let (d, sources) = sample();
        let mut out = Vec::new();
        render(
            ReportFormat::Text,
            &[d],
            &CheckSummary::default(),
            &sources,
            RenderOptions::default(),
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("p.go:3:9: error RL101[new-map] new(map"));
        assert!(text.contains("3 | var m = new(map[string]int)"));
        assert!(text.contains("  |         ^^^^^^^^^^^^^^^^^^^\n"));
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn json_shape_is_the_contract() {
        let (d, _) = sample();
        let v = json_report(&[d], &CheckSummary::default());
        assert_eq!(v["version"], 1);
        let d0 = &v["diagnostics"][0];
        assert_eq!(d0["rule"], "RL101");
        assert_eq!(d0["line"], 3);
        assert_eq!(d0["column"], 9);
        assert_eq!(d0["end_column"], 28);
        assert_eq!(d0["fix"]["applicability"], "safe");
        assert_eq!(d0["fix"]["edits"][0]["content"], "&map[string]int{}");
        assert_eq!(v["summary"]["by_rule"]["RL101"], 1);
        assert_eq!(v["summary"]["diagnostics"], 1);
    }
}
