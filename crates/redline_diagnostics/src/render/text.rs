//! `--format text`: one block per finding with a code frame, then a
//! summary line.

use super::{RenderOptions, Sources};
use crate::{Applicability, Diagnostic, Severity, Summary, count_by_rule};
use std::io::{self, Write};

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

pub(super) fn render_text(
    diagnostics: &[Diagnostic],
    summary: &Summary,
    sources: &Sources,
    options: RenderOptions<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let p = Palette {
        color: options.color,
    };
    for d in diagnostics {
        writeln!(
            out,
            "{}:{}:{}: {} {} {}",
            p.paint("1", &clean(&d.path)),
            d.span.line,
            d.span.column,
            p.severity(d.severity),
            p.paint("1", &format!("{}[{}]", d.rule, d.name)),
            clean(&d.message)
        )?;
        if let Some(src) = sources.get(&d.path) {
            write_frame(out, &p, src, d)?;
        }
        if let Some(help) = &d.help {
            writeln!(out, "  {} {}", p.paint("1;36", "help:"), clean(help))?;
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
                clean(&preview.join("`, `"))
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

/// Text for a terminal: control characters (a binary file's bytes, or an
/// escape sequence in a file name) become U+FFFD, one character for one,
/// so that nothing a scanned file holds can drive the terminal. Tabs and
/// line breaks stay.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| if is_control(c) { '\u{FFFD}' } else { c })
            .collect(),
    )
}

fn is_control(c: char) -> bool {
    c != '\t' && c != '\n' && c.is_control()
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
        clean(line_text).replace('\t', "    ")
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
