//! Renderers: each turns the sorted diagnostics of one run into a report.
//! A renderer sees only [`Diagnostic`]s, the [`Summary`] and, for code
//! frames, the text of the files that have findings.

use crate::{Applicability, Diagnostic, Severity, Summary, count_by_rule};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{self, Write};
use std::str::FromStr;

/// The text of the files a renderer may quote, keyed by displayed path.
pub type Sources = HashMap<String, std::sync::Arc<[u8]>>;

/// Every output format `redline check` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown format `{other}` (expected text or json)")),
        }
    }
}

/// Options that only affect presentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// ANSI colours (text only). The CLI enables them only on a TTY and
    /// never when `NO_COLOR` is set.
    pub color: bool,
}

pub fn render(
    format: Format,
    diagnostics: &[Diagnostic],
    summary: &Summary,
    sources: &Sources,
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => render_text(diagnostics, summary, sources, options, out),
        Format::Json => {
            let value = json_report(diagnostics, summary);
            serde_json::to_writer_pretty(&mut *out, &value)?;
            writeln!(out)
        }
    }
}

/// The `--format json` document (version 1). Its shape is a contract.
pub fn json_report(diagnostics: &[Diagnostic], summary: &Summary) -> Value {
    let diags: Vec<Value> = diagnostics.iter().map(json_diagnostic).collect();
    let by_rule: serde_json::Map<String, Value> = count_by_rule(diagnostics)
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({
        "version": 1,
        "diagnostics": diags,
        "summary": {
            "files_scanned": summary.files_scanned,
            "diagnostics": diagnostics.len(),
            "by_rule": by_rule,
            "elapsed_ms": summary.elapsed_ms,
        }
    })
}

pub fn json_diagnostic(d: &Diagnostic) -> Value {
    let fix = match &d.fix {
        None => Value::Null,
        Some(fix) => json!({
            "applicability": fix.applicability,
            "edits": fix.edits.iter().map(|e| json!({
                "line": e.span.line,
                "column": e.span.column,
                "end_line": e.span.end_line,
                "end_column": e.span.end_column,
                "content": e.content,
            })).collect::<Vec<_>>(),
        }),
    };
    json!({
        "rule": d.rule,
        "name": d.name,
        "severity": d.severity,
        "path": d.path,
        "line": d.span.line,
        "column": d.span.column,
        "end_line": d.span.end_line,
        "end_column": d.span.end_column,
        "message": d.message,
        "help": d.help,
        "fix": fix,
    })
}

struct Palette {
    color: bool,
}

impl Palette {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.paint(code, s.as_str())
    }
}

fn render_text(
    diagnostics: &[Diagnostic],
    summary: &Summary,
    sources: &Sources,
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let p = Palette {
        color: options.color,
    };
    for d in diagnostics {
        writeln!(
            out,
            "{}:{}:{}: {} {} {}",
            p.paint("1", &d.path),
            d.span.line,
            d.span.column,
            p.severity(d.severity),
            p.paint("1", &format!("{}[{}]", d.rule, d.name)),
            d.message
        )?;
        if let Some(src) = sources.get(&d.path) {
            write_frame(out, &p, src, d)?;
        }
        if let Some(help) = &d.help {
            writeln!(out, "  {} {}", p.paint("1;36", "help:"), help)?;
        }
        if let Some(fix) = &d.fix {
            let label = match fix.applicability {
                Applicability::Safe => "fix available (safe, --fix)",
                Applicability::Unsafe => "fix available (unsafe, --unsafe-fixes)",
                Applicability::DisplayOnly => "suggested fix",
            };
            let preview: Vec<&str> = fix.edits.iter().map(|e| e.content.as_str()).collect();
            writeln!(
                out,
                "  {} {}: `{}`",
                p.paint("1;32", "fix:"),
                label,
                preview.join("`, `")
            )?;
        }
        writeln!(out)?;
    }
    let by_rule = count_by_rule(diagnostics);
    if diagnostics.is_empty() {
        writeln!(
            out,
            "{} no red lines crossed in {} file{} ({} ms)",
            p.paint("1;32", "ok:"),
            summary.files_scanned,
            if summary.files_scanned == 1 { "" } else { "s" },
            summary.elapsed_ms
        )?;
    } else {
        let parts: Vec<String> = by_rule.iter().map(|(r, n)| format!("{r}: {n}")).collect();
        writeln!(
            out,
            "{} {} finding{} in {} file{} scanned ({}) in {} ms",
            p.paint("1;31", "found:"),
            diagnostics.len(),
            if diagnostics.len() == 1 { "" } else { "s" },
            summary.files_scanned,
            if summary.files_scanned == 1 { "" } else { "s" },
            parts.join(", "),
            summary.elapsed_ms
        )?;
    }
    Ok(())
}

/// Quotes the diagnostic's first line with the span underlined.
fn write_frame(out: &mut dyn Write, p: &Palette, src: &[u8], d: &Diagnostic) -> io::Result<()> {
    let index = crate::LineIndex::new(src);
    let Some(start) = index.line_start(d.span.line) else {
        return Ok(());
    };
    let end = src[start..]
        .iter()
        .position(|b| *b == b'\n')
        .map(|i| start + i)
        .unwrap_or(src.len());
    let line_text = String::from_utf8_lossy(&src[start..end]);
    let line_text = line_text.trim_end_matches('\r');
    let gutter = d.span.line.to_string();
    let pad = " ".repeat(gutter.len());
    writeln!(out, "{pad} {}", p.paint("1;34", "|"))?;
    writeln!(
        out,
        "{} {} {}",
        p.paint("1;34", &gutter),
        p.paint("1;34", "|"),
        line_text.replace('\t', "    ")
    )?;
    // Underline from the start column to the end column (or end of line
    // when the span continues on later lines). Tabs widen to four columns
    // to match the quoted line.
    let bytes = line_text.as_bytes();
    let col0 = d.span.column.saturating_sub(1).min(bytes.len());
    let col1 = if d.span.end_line == d.span.line {
        d.span.end_column.saturating_sub(1).min(bytes.len())
    } else {
        bytes.len()
    };
    let width = |slice: &[u8]| -> usize {
        String::from_utf8_lossy(slice)
            .chars()
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum()
    };
    let lead = width(&bytes[..col0]);
    let len = width(&bytes[col0..col1.max(col0)]).max(1);
    writeln!(
        out,
        "{pad} {} {}{}",
        p.paint("1;34", "|"),
        " ".repeat(lead),
        p.paint(
            if d.severity == Severity::Error {
                "1;31"
            } else {
                "1;33"
            },
            &"^".repeat(len)
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Edit, Fix, LineIndex};

    fn sample() -> (Diagnostic, Sources) {
        let src = "package p\n\nvar m = new(map[string]int)\n";
        let start = src.find("new(").unwrap();
        let end = start + "new(map[string]int)".len();
        let span = LineIndex::new(src.as_bytes()).span(start, end);
        let d = Diagnostic {
            rule: "RL101",
            name: "new-map",
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
            Format::Text,
            &[d],
            &Summary::default(),
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
        let v = json_report(&[d], &Summary::default());
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
