//! Suppressions: `//redline:ignore RL101 -- reason` on the flagged line or
//! the line above, `//redline:ignore-file RL401 -- reason` for a file
//! (`# redline:ignore ...` in YAML). A suppression without a reason, with
//! an unknown rule, or that suppresses nothing is reported as RL001.

use crate::config::Config;
use redline_diagnostics::{Diagnostic, LineIndex, Span};
use redline_rules::{RuleMeta, find_rule, meta::InvalidSuppression};
use std::path::Path;

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

/// The syntax of a file's comments.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Syntax {
    /// Go and go.mod: `//` and `/* */`, outside string and rune literals.
    Go,
    /// YAML (and JSON): `#` at the start of a line or after a blank,
    /// outside quoted scalars and block scalars.
    Yaml,
}

fn syntax_of(path: &str) -> Syntax {
    if redline_go::is_manifest_path(Path::new(path)) {
        Syntax::Yaml
    } else {
        Syntax::Go
    }
}

/// The start offsets of the line comments (`//…` in Go, `#…` in YAML), in
/// order: a `redline:ignore` counts only there, never inside a string.
/// One pass over the file.
fn line_comment_starts(source: &[u8], syntax: Syntax) -> Vec<usize> {
    match syntax {
        Syntax::Go => go_line_comments(source),
        Syntax::Yaml => yaml_comments(source),
    }
}

fn go_line_comments(s: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'/' if s.get(i + 1) == Some(&b'/') => {
                out.push(i);
                i = s[i..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(s.len(), |p| i + p);
            }
            b'/' if s.get(i + 1) == Some(&b'*') => {
                i = find(s, b"*/", i + 2).map_or(s.len(), |p| p + 2);
            }
            b'`' => {
                i = s[i + 1..]
                    .iter()
                    .position(|b| *b == b'`')
                    .map_or(s.len(), |p| i + 1 + p + 1);
            }
            q @ (b'"' | b'\'') => {
                // Interpreted strings and runes end at the quote or the
                // line (an unterminated literal is a syntax error anyway).
                i += 1;
                while i < s.len() && s[i] != q && s[i] != b'\n' {
                    i += if s[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

fn yaml_comments(s: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    // Inside a block scalar (`key: |`): lines indented more than this.
    let mut block_indent: Option<usize> = None;
    // Inside a quoted scalar that spans lines.
    let mut quote: Option<u8> = None;
    let mut line_start = 0;
    while line_start < s.len() {
        let end = s[line_start..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(s.len(), |p| line_start + p);
        let line = &s[line_start..end];
        let indent = line.iter().take_while(|b| **b == b' ').count();
        let blank = line[indent..].iter().all(|b| b.is_ascii_whitespace());
        if let Some(b) = block_indent {
            if blank || indent > b {
                line_start = end + 1;
                continue;
            }
            block_indent = None;
        }
        let mut i = 0;
        let mut last_token: Option<u8> = None;
        while i < line.len() {
            let c = line[i];
            if let Some(q) = quote {
                if c == q {
                    if q == b'\'' && line.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    quote = None;
                } else if q == b'"' && c == b'\\' {
                    i += 1;
                }
                i += 1;
                last_token = Some(b'x');
                continue;
            }
            match c {
                b'#' if i == 0 || matches!(line[i - 1], b' ' | b'\t') => {
                    out.push(line_start + i);
                    break;
                }
                b'"' | b'\''
                    if matches!(
                        last_token,
                        None | Some(b':' | b'-' | b'[' | b'{' | b',' | b'?')
                    ) =>
                {
                    quote = Some(c);
                }
                b' ' | b'\t' | b'\r' => {}
                _ => last_token = Some(c),
            }
            i += 1;
        }
        // `key: |`, `- >-`, `key: |2` open a block scalar.
        let content = match out.last() {
            Some(&c) if c >= line_start && c < end => &s[line_start..c],
            _ => line,
        };
        let t = content.trim_ascii_end();
        let indicator = t
            .iter()
            .rposition(|b| matches!(b, b'|' | b'>'))
            .filter(|&p| {
                t[p + 1..]
                    .iter()
                    .all(|b| matches!(b, b'-' | b'+' | b'0'..=b'9'))
                    && (p == 0 || matches!(t[p - 1], b' ' | b'\t'))
            });
        if quote.is_none() && indicator.is_some() {
            block_indent = Some(indent);
        }
        line_start = end + 1;
    }
    out
}

fn parse(source: &[u8], lines: &LineIndex, syntax: Syntax) -> Vec<Suppression> {
    let mut out = Vec::new();
    let comments = line_comment_starts(source, syntax);
    let mut from = 0;
    while let Some(pos) = find(source, MARKER, from) {
        from = pos + MARKER.len();
        // Must directly follow a comment leader: `//`, `// `, `#`, `# `.
        let before = &source[..pos];
        let trimmed = before.strip_suffix(b" ").unwrap_or(before);
        let leader: &[u8] = match syntax {
            Syntax::Go => b"//",
            Syntax::Yaml => b"#",
        };
        if !trimmed.ends_with(leader) {
            continue;
        }
        let start = trimmed.len() - leader.len();
        // ... and that leader must open a comment, not sit in a string.
        if comments.binary_search(&start).is_err() {
            continue;
        }
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
    let mut supps = parse(source, lines, syntax_of(path));
    if supps.is_empty() {
        return diagnostics;
    }
    let mut kept = Vec::with_capacity(diagnostics.len());
    for d in diagnostics {
        let mut hidden = false;
        for s in supps.iter_mut() {
            if !s.rules.iter().any(|r| r.id == d.rule.id) {
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
                rule: meta,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn markers(path: &str, src: &str) -> Vec<(usize, bool)> {
        let lines = LineIndex::new(src.as_bytes());
        parse(src.as_bytes(), &lines, syntax_of(path))
            .into_iter()
            .map(|s| (s.line, s.file_level))
            .collect()
    }

    #[test]
    fn only_comments_suppress_in_go() {
        let src = concat!(
            "package p\n",
            "var a = \"//redline:ignore-file RL101 -- in a string\"\n",
            "var b = `\n//redline:ignore-file RL101 -- in a raw string\n`\n",
            "var c = '/' // a rune, then a real comment\n",
            "/* //redline:ignore-file RL101 -- in a block comment */\n",
            "var d = \"\\\"//redline:ignore RL101 -- escaped quote\"\n",
            "//redline:ignore RL101 -- a real one\n",
            "var e = 1 // redline:ignore-file RL102 -- trailing comment\n",
        );
        assert_eq!(markers("p.go", src), vec![(9, false), (10, true)]);
    }

    #[test]
    fn only_comments_suppress_in_yaml() {
        let src = concat!(
            "a: \"# redline:ignore-file RL701 -- quoted\"\n",
            "b: '# redline:ignore-file RL701 -- quoted'\n",
            "c: |\n",
            "  # redline:ignore-file RL701 -- block scalar\n",
            "d: x # redline:ignore RL702 -- real\n",
            "e: don't # redline:ignore RL703 -- apostrophe in a plain scalar\n",
            "# redline:ignore-file RL704 -- real\n",
        );
        assert_eq!(
            markers("deploy.yaml", src),
            vec![(5, false), (6, false), (7, true)]
        );
    }
}
