//! Stable fingerprints of findings, shared by the baseline and by the
//! reports that carry one (GitLab Code Quality, SARIF).
//!
//! A fingerprint must survive edits that do not touch the finding: lines
//! inserted above it, the function moved elsewhere in the file, blank lines
//! or re-indentation. So it hashes what the finding *is* — the rule, the
//! file, and the text of the flagged line(s) with whitespace normalised —
//! and never a line number. Identical findings in one file (the same line
//! text twice) are told apart by an occurrence counter in file order.

use crate::Diagnostic;
use crate::render::Sources;
use std::collections::HashMap;
use xxhash_rust::xxh3::Xxh3;

/// How many lines of a multi-line span take part in the fingerprint: a
/// finding on a long struct literal should not change when a field deep
/// inside it is edited.
const MAX_LINES: usize = 3;

/// The flagged line(s) with runs of whitespace collapsed to one space.
fn normalized_text(d: &Diagnostic, source: Option<&[u8]>) -> Option<String> {
    let src = source?;
    let mut out = String::new();
    // Start at the span's line (its start byte is on it) rather than at
    // the top of the file: a file with many findings is read once, not
    // once per finding.
    let (mut line_no, from) = if d.span.start_byte <= src.len() && d.span.line > 0 {
        let from = src[..d.span.start_byte]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        (d.span.line, from)
    } else {
        (1, 0)
    };
    let last = d.span.end_line.min(d.span.line + MAX_LINES - 1);
    for line in src[from..].split(|b| *b == b'\n') {
        if line_no > last {
            break;
        }
        if line_no >= d.span.line {
            let text = String::from_utf8_lossy(line);
            for word in text.split_whitespace() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(word);
            }
            out.push('\n');
        }
        line_no += 1;
    }
    (line_no > d.span.line).then_some(out)
}

/// What a fingerprint hashes of `d` besides its rule and path: the
/// flagged line(s) normalised, or the message when the file's text is not
/// at hand.
pub fn line_text(d: &Diagnostic, source: Option<&[u8]>) -> String {
    normalized_text(d, source).unwrap_or_else(|| d.message.clone())
}

/// The fingerprints of findings given as (rule id, path, [`line_text`]),
/// in file order (same order out), as 32 hex digits: what
/// [`fingerprints`] computes, for callers that keep findings in another
/// shape (the base revision of new-code gating stores them so).
pub fn fingerprints_of<'a>(
    items: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
) -> Vec<String> {
    let mut seen: HashMap<u128, u64> = HashMap::new();
    items
        .into_iter()
        .map(|(rule, path, text)| {
            let mut h = Xxh3::new();
            for part in [rule, "\0", path, "\0", text] {
                h.update(part.as_bytes());
            }
            let key = h.digest128();
            let n = seen.entry(key).or_insert(0);
            let occurrence = *n;
            *n += 1;
            let mut h = Xxh3::new();
            h.update(&key.to_le_bytes());
            h.update(&occurrence.to_le_bytes());
            format!("{:032x}", h.digest128())
        })
        .collect()
}

/// The fingerprint of each diagnostic (same order), as 32 hex digits.
/// Without the file's text the message stands in for the line text.
pub fn fingerprints(diagnostics: &[Diagnostic], sources: &Sources) -> Vec<String> {
    let texts: Vec<String> = diagnostics
        .iter()
        .map(|d| line_text(d, sources.get(&d.path).map(|s| &s[..])))
        .collect();
    fingerprints_of(
        diagnostics
            .iter()
            .zip(&texts)
            .map(|(d, t)| (d.rule.id, d.path.as_str(), t.as_str())),
    )
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
    use crate::{LineIndex, Severity};

    fn diag(src: &str, needle: &str) -> Diagnostic {
        let start = src.find(needle).unwrap();
        Diagnostic {
            rule: test_rule("RL101", "new-map"),
            severity: Severity::Error,
            path: "a.go".into(),
            span: LineIndex::new(src.as_bytes()).span(start, start + needle.len()),
            message: "m".into(),
            help: None,
            fix: None,
        }
    }

    fn fp(src: &str, needle: &str) -> String {
        let mut sources = Sources::new();
        sources.insert("a.go".into(), src.as_bytes().into());
        fingerprints(&[diag(src, needle)], &sources).remove(0)
    }

    #[test]
    fn survives_line_shifts_and_reindentation() {
        let a = fp("package p\nvar m = new(map[string]int)\n", "new(");
        let b = fp(
            "package p\n\n// a comment\n\n  var   m = new(map[string]int)\n",
            "new(",
        );
        assert_eq!(a, b);
        let c = fp("package p\nvar n = new(map[string]int)\n", "new(");
        assert_ne!(a, c);
    }

    #[test]
    fn identical_lines_get_distinct_fingerprints() {
        let src = "package p\nvar m = new(map[string]int)\nvar m = new(map[string]int)\n";
        let first = diag(src, "new(");
        let mut second = first.clone();
        second.span = LineIndex::new(src.as_bytes()).span(src.rfind("new(").unwrap(), src.len());
        let mut sources = Sources::new();
        sources.insert("a.go".into(), src.as_bytes().into());
        let fps = fingerprints(&[first, second], &sources);
        assert_ne!(fps[0], fps[1]);
    }
}
