//! Suppressions: `//redline:ignore RL101 -- reason` on the flagged line or
//! the line above, `//redline:ignore-file RL401 -- reason` for a file
//! (`# redline:ignore ...` in YAML). A suppression without a reason, with
//! an unknown rule, or that suppresses nothing is reported as RL001.

use crate::config::Config;
use redline_diagnostics::{Diagnostic, LineIndex, Span};
use redline_rules::{RuleMeta, find_rule, meta::InvalidSuppression};

const MARKER: &[u8] = b"redline:ignore";

#[derive(Debug)]
struct Suppression {
    line: usize,
    file_level: bool,
    rules: Vec<&'static RuleMeta>,
    unknown: Vec<String>,
    has_reason: bool,
    span: Span,
    used: bool,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn parse(source: &[u8], lines: &LineIndex) -> Vec<Suppression> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = find(source, MARKER, from) {
        from = pos + MARKER.len();
        // Must directly follow a comment leader: `//`, `// `, `#`, `# `.
        let before = &source[..pos];
        let trimmed = before.strip_suffix(b" ").unwrap_or(before);
        let is_comment = trimmed.ends_with(b"//") || trimmed.ends_with(b"#");
        if !is_comment {
            continue;
        }
        let start = if trimmed.ends_with(b"//") {
            trimmed.len() - 2
        } else {
            trimmed.len() - 1
        };
        let end = source[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map(|p| pos + p)
            .unwrap_or(source.len());
        let rest = String::from_utf8_lossy(&source[from..end]);
        let rest = rest.trim_end_matches('\r');
        let (file_level, rest) = match rest.strip_prefix("-file") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
            continue;
        }
        let (list, reason) = match rest.find("--") {
            Some(i) => (&rest[..i], Some(rest[i + 2..].trim())),
            None => (rest, None),
        };
        let mut rules = Vec::new();
        let mut unknown = Vec::new();
        for key in list.split([',', ' ', '\t']).filter(|k| !k.is_empty()) {
            match find_rule(key) {
                Some(r) => rules.push(r),
                None => unknown.push(key.to_string()),
            }
        }
        let span = lines.span(start, end);
        out.push(Suppression {
            line: span.line,
            file_level,
            rules,
            unknown,
            has_reason: reason.is_some_and(|r| !r.is_empty()),
            span,
            used: false,
        });
    }
    out
}

/// Removes suppressed diagnostics of one file and adds RL001 findings.
pub fn apply(
    path: &str,
    source: &[u8],
    lines: &LineIndex,
    diagnostics: Vec<Diagnostic>,
    config: &Config,
) -> Vec<Diagnostic> {
    if find(source, MARKER, 0).is_none() {
        return diagnostics;
    }
    let mut supps = parse(source, lines);
    if supps.is_empty() {
        return diagnostics;
    }
    let mut kept = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let mut hidden = false;
        for s in supps.iter_mut() {
            if !s.rules.iter().any(|r| r.id == d.rule) {
                continue;
            }
            if s.file_level || d.span.line == s.line || d.span.line == s.line + 1 {
                s.used = true;
                hidden = true;
            }
        }
        if !hidden {
            kept.push(d);
        }
    }
    let meta = &InvalidSuppression::META;
    if !config.enabled(meta) {
        return kept;
    }
    for s in &supps {
        let problem = if !s.unknown.is_empty() {
            Some(format!(
                "suppression names unknown rule{} {}",
                if s.unknown.len() == 1 { "" } else { "s" },
                s.unknown
                    .iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else if s.rules.is_empty() {
            Some("suppression names no rule (write `//redline:ignore RL101 -- reason`)".to_string())
        } else if !s.has_reason {
            Some("suppression has no reason (add `-- why this is safe`)".to_string())
        } else if !s.used && s.rules.iter().any(|r| config.enabled(r)) {
            Some(format!(
                "suppression of {} suppresses nothing; remove it",
                s.rules.iter().map(|r| r.id).collect::<Vec<_>>().join(", ")
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            kept.push(Diagnostic {
                rule: meta.id,
                name: meta.name,
                severity: config.severity_of(meta),
                path: path.to_string(),
                span: s.span,
                message,
                help: Some("suppressions are audited: name known rules, give a reason, and delete ones that no longer apply".into()),
                fix: None,
            });
        }
    }
    kept
}
