//! The one diagnostic type that every redline check produces — Go source,
//! Kubernetes manifests, environment, logs, SLO specs — and the renderers
//! that turn a sorted list of them into text or machine-readable reports.
//!
//! Every diagnostic points at its rule's [`RuleMeta`].
//!
//! Renderers only see [`Diagnostic`] and [`CheckSummary`]: they never know how a
//! finding was made. Positions are 1-based lines and 1-based columns counted
//! in UTF-8 bytes, as Go tools report them.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

pub mod fingerprint;
pub mod render;
pub mod rule;
pub mod secrets;

pub use fingerprint::fingerprints;
pub use rule::{Emitter, RuleKind, RuleMeta};

/// How bad a finding is. `Info` never fails a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            other => Err(format!(
                "unknown severity `{other}` (expected error, warning or info)"
            )),
        }
    }
}

/// A range in a file. Lines and columns are 1-based; columns count UTF-8
/// bytes. Byte offsets are kept so fixes can be applied without
/// re-computing positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub start_byte: usize,
    pub end_byte: usize,
}

impl Span {
    /// Builds a span from 0-based byte offsets into `source`.
    pub fn from_offsets(source: &[u8], start_byte: usize, end_byte: usize) -> Span {
        let index = LineIndex::new(source);
        index.span(start_byte, end_byte)
    }
}

/// Maps byte offsets to 1-based line/column positions.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(source: &[u8]) -> LineIndex {
        let mut line_starts = vec![0];
        for (i, b) in source.iter().enumerate() {
            if *b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        LineIndex {
            line_starts,
            len: source.len(),
        }
    }

    /// 1-based (line, column) of a byte offset; offsets past the end clamp.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.len);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        (line + 1, offset - self.line_starts[line] + 1)
    }

    /// Byte offset of the start of a 1-based line, if it exists.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line.checked_sub(1)?).copied()
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    pub fn span(&self, start_byte: usize, end_byte: usize) -> Span {
        let (line, column) = self.position(start_byte);
        let (end_line, end_column) = self.position(end_byte.max(start_byte));
        Span {
            line,
            column,
            end_line,
            end_column,
            start_byte,
            end_byte: end_byte.max(start_byte),
        }
    }
}

/// How safe it is to apply a fix without a human looking at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Keeps the program's meaning; applied by `--fix`.
    Safe,
    /// May change behaviour; applied only with `--unsafe-fixes`.
    Unsafe,
    /// Shown to the user, never applied.
    DisplayOnly,
}

/// One replacement of a span's text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edit {
    pub span: Span,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fix {
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

/// A finding. One type for every check: Go rules, manifest rules,
/// environment, logs and SLO validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule that found it (its id, name and documentation).
    pub rule: &'static RuleMeta,
    pub severity: Severity,
    /// Path as shown to the user (relative to the working directory when
    /// under it), with `/` separators.
    pub path: String,
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// The order every renderer uses: path, line, column, rule.
    pub fn sort_key(&self) -> (&str, usize, usize, &str) {
        (&self.path, self.span.line, self.span.column, self.rule.id)
    }
}

/// Sorts diagnostics deterministically (path, line, column, rule, message).
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// Totals reported next to the diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckSummary {
    pub files_scanned: usize,
    pub elapsed_ms: u128,
}

/// Counts per rule id, sorted by id.
pub fn count_by_rule(diagnostics: &[Diagnostic]) -> BTreeMap<&'static str, usize> {
    let mut by_rule = BTreeMap::new();
    for d in diagnostics {
        *by_rule.entry(d.rule.id).or_insert(0) += 1;
    }
    by_rule
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_byte_columns() {
        let src = "ab\nçd\n";
        let idx = LineIndex::new(src.as_bytes());
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(3), (2, 1));
        // 'ç' is two bytes, so 'd' is at byte column 3.
        assert_eq!(idx.position(5), (2, 3));
        assert_eq!(idx.position(100), (3, 1));
    }
}
