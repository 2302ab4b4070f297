//! `--format text`: one block per finding with a code frame, then a
//! summary line.

use super::{RenderOptions, Sources};
use crate::{Applicability, CheckSummary, Diagnostic, Severity, count_by_rule};
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
    summary: &CheckSummary,
    sources: &Sources,
    options: RenderOptions<'_>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let p = Palette {
        color: options.color,
    };
    let mut index: Option<(&str, crate::LineIndex)> = None;
    for d in diagnostics {
        writeln!(
            out,
            "{}:{}:{}: {} {} {}",
            p.paint("1", &escape_path(&d.path)),
            d.span.line,
            d.span.column,
            p.severity(d.severity),
            p.paint("1", &format!("{}[{}]", d.rule.id, d.rule.name)),
            clean(&d.message)
        )?;
        if let Some(src) = sources.get(&d.path) {
            // Diagnostics come sorted by file: one line index per file.
            if index
                .as_ref()
                .is_none_or(|(path, _)| *path != d.path.as_str())
            {
                index = Some((d.path.as_str(), crate::LineIndex::new(src)));
            }
            if let Some((_, idx)) = &index {
                write_frame(out, &p, src, idx, d)?;
            }
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

/// A file name for a one-line report: line breaks, tabs and other control
/// are written as visible escapes (`\n`, `\r`, `\t`), a backslash as
/// `\\` and other control characters as U+FFFD (see [`clean`]), so a file named `a.go\nfake.go:1:1: error …`
/// cannot add a line that looks like a finding (nor drive the terminal).
pub fn escape_path(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || c == '\\') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Text for a terminal: control characters (a binary file's bytes, or an
/// escape sequence in a file name) become U+FFFD, one character for one,
/// so that nothing a scanned file holds can drive the terminal. Tabs and
/// line breaks stay.
///
/// A line break inside a message or help (one that quotes a file name,
/// say) continues indented: no line of the report but a finding's own
/// starts at the left margin.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| is_control(c) || c == '\n') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\n    "),
            c if is_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn is_control(c: char) -> bool {
    c != '\t' && c != '\n' && c.is_control()
}

/// Characters of a quoted line shown around the span; longer lines (minified
/// JSON, generated code) are cut to a window with `…` at the cut ends.
const MAX_QUOTE: usize = 160;
const BEFORE_SPAN: usize = 50;

/// Quotes the diagnostic's first line with the span underlined.
fn write_frame(
    out: &mut dyn Write,
    p: &Palette,
    src: &[u8],
    index: &crate::LineIndex,
    d: &Diagnostic,
) -> io::Result<()> {
    let Some(start) = index.line_start(d.span.line) else {
        return Ok(());
    };
    let end = src[start..]
        .iter()
        .position(|b| *b == b'\n')
        .map(|i| start + i)
        .unwrap_or(src.len());
    let raw = &src[start..end];
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    // Byte columns of the span on this line (to the end of the line when
    // the span continues on later lines).
    let col0 = d.span.column.saturating_sub(1).min(raw.len());
    let col1 = if d.span.end_line == d.span.line {
        d.span.end_column.saturating_sub(1).min(raw.len())
    } else {
        raw.len()
    }
    .max(col0);
    let chars = |bytes: &[u8]| -> Vec<char> { String::from_utf8_lossy(bytes).chars().collect() };
    let before = chars(&raw[..col0]);
    let inside = chars(&raw[col0..col1]);
    let after = chars(&raw[col1..]);
    let total = before.len() + inside.len() + after.len();
    // The window of characters shown.
    let (from, to) = if total <= MAX_QUOTE {
        (0, total)
    } else {
        let from = before.len().saturating_sub(BEFORE_SPAN);
        (from, (from + MAX_QUOTE).min(total))
    };
    let line: Vec<char> = before
        .iter()
        .chain(&inside)
        .chain(&after)
        .copied()
        .collect();
    let shown: String = line[from..to].iter().collect();
    let width = |cs: &[char]| -> usize { cs.iter().map(|&c| if c == '\t' { 4 } else { 1 }).sum() };
    let prefix = if from > 0 { "…" } else { "" };
    let suffix = if to < total { "…" } else { "" };
    let gutter = d.span.line.to_string();
    let pad = " ".repeat(gutter.len());
    writeln!(out, "{pad} {}", p.paint("1;34", "|"))?;
    writeln!(
        out,
        "{} {} {prefix}{}{suffix}",
        p.paint("1;34", &gutter),
        p.paint("1;34", "|"),
        clean(&shown).replace('\t', "    ")
    )?;
    // Tabs widen to four columns to match the quoted line.
    let lead = width(&line[from..before.len()]) + prefix.chars().count();
    let span_end = (before.len() + inside.len()).min(to);
    let len = width(&line[before.len().min(span_end)..span_end]).max(1);
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
