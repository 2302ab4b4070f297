//! Parsing with one tree-sitter parser per thread.

use std::cell::RefCell;
use tree_sitter::{Language, Node, Parser, Tree};

fn language() -> Language {
    redline_go_grammar::language()
}

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// The offset of the first NUL byte, if any. Go rejects NUL anywhere in a
/// source file, so a file with one is binary data, not Go: callers report
/// it instead of parsing it (tree-sitter's error recovery on megabytes of
/// NUL bytes took gigabytes of memory and ended in an assertion abort).
pub fn nul_byte(source: &[u8]) -> Option<usize> {
    source.iter().position(|b| *b == 0)
}

/// Parses Go source. `None` when tree-sitter gives up, and for binary
/// data (see [`nul_byte`]), which is never parsed; callers report it.
pub fn parse_tree(source: &[u8]) -> Option<Tree> {
    if nul_byte(source).is_some() {
        return None;
    }
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let parser = slot.get_or_insert_with(|| {
            let mut p = Parser::new();
            p.set_language(&language())
                .expect("the bundled Go grammar matches the tree-sitter runtime");
            p
        });
        parser.parse(source, None)
    })
}

/// Parses and returns the tree, for callers that need nothing else.
pub fn parse_go(source: &[u8]) -> Option<Tree> {
    parse_tree(source)
}

/// The first syntax error in document order: the byte range of an `ERROR`
/// node or a `MISSING` node, and a short description.
pub fn first_error(tree: &Tree, source: &[u8]) -> Option<(usize, usize, String)> {
    let root = tree.root_node();
    if !root.has_error() {
        return None;
    }
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_missing() {
            return Some((
                node.start_byte(),
                node.end_byte(),
                format!("expected `{}`", node.kind()),
            ));
        }
        if node.is_error() {
            return Some((
                node.start_byte(),
                node.end_byte(),
                describe_error(node, source),
            ));
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return None;
            }
        }
    }
}

fn describe_error(node: Node<'_>, source: &[u8]) -> String {
    let bytes = &source[node.byte_range()];
    let control = |b: &u8| (*b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || *b == 0x7f;
    if bytes.iter().any(control) || std::str::from_utf8(bytes).is_err() {
        return "control characters or invalid UTF-8 (binary data?); Go source is UTF-8 text"
            .into();
    }
    let text = String::from_utf8_lossy(bytes);
    let first = text.lines().next().unwrap_or("").trim();
    let mut snippet: String = first.chars().take(40).collect();
    if first.chars().count() > 40 {
        snippet.push('…');
    }
    if snippet.is_empty() {
        "unexpected input".to_string()
    } else {
        format!("unexpected `{snippet}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_what_is_wrong() {
        let first = |src: &[u8]| {
            let tree = parse_tree(src).expect("tree");
            first_error(&tree, src).map(|(_, _, what)| what)
        };
        assert_eq!(first(b"package p\n\nvar x = 1\n"), None);
        assert_eq!(
            first(b"package p\n\nfunc f() {\n\tx := ]\n}\n").as_deref(),
            Some("unexpected `x := ]`")
        );
        // A binary file, and invalid UTF-8 in an otherwise Go file.
        for src in [
            &b"\x7fELF\x02\x01\x01\x01\x02\x03\x04\x05\x06\x07\x08\x09"[..],
            &b"package p\n\nvar s = 1 \xff\xfe\n"[..],
        ] {
            let what = first(src).expect("an error");
            assert!(what.contains("invalid UTF-8 (binary data?)"), "{what}");
        }
    }

    #[test]
    fn nul_bytes_are_never_parsed() {
        assert_eq!(nul_byte(b"package p\n"), None);
        assert_eq!(nul_byte(b"package p\n\0"), Some(10));
        assert!(parse_tree(b"package p\n\0\0\0").is_none());
        // Megabytes of NUL bytes: refused at once, not parsed.
        let nuls = vec![0u8; 8 << 20];
        let started = std::time::Instant::now();
        assert!(parse_tree(&nuls).is_none());
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
