//! A YAML (and JSON) document tree where every node knows its byte range
//! in the source, built from saphyr-parser's spanned events.
//!
//! Aliases are expanded (with a budget, so a "billion laughs" file is an
//! error, not an out-of-memory), `<<` merge keys are honoured by lookups.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A node and the bytes it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar's text; `plain` when unquoted (so `null`/`~` mean null).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Keys in source order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar text, when this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A plain `null`, `~`, `Null`, `NULL` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The entry (key node, value node) for `key`, the last one when a key
    /// repeats (as Kubernetes' decoder keeps), then `<<` merges.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        let entries = self.as_map()?;
        if let Some((k, v)) = entries.iter().rev().find(|(k, _)| k.as_str() == Some(key)) {
            return Some((k, v));
        }
        let (_, merged) = entries.iter().find(
            |(k, _)| matches!(&k.value, Value::Scalar { text, plain: true } if text == "<<"),
        )?;
        match &merged.value {
            Value::Map(_) => merged.entry(key),
            Value::Seq(items) => items.iter().find_map(|m| m.entry(key)),
            Value::Scalar { .. } => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// Follows a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }
}

/// Where and why parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

/// The documents of a stream, and the error that stopped it, if any
/// (documents completed before the error are kept).
#[derive(Debug, Default)]
pub struct Stream {
    pub documents: Vec<Node>,
    pub error: Option<ParseError>,
}

/// Nodes an alias may copy in one file before loading gives up.
const ALIAS_BUDGET: usize = 200_000;

enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        start: usize,
        anchor: usize,
    },
}

/// Maps the parser's character indices to byte offsets.
struct Offsets {
    /// Byte offset of each char index; empty for ASCII sources.
    table: Vec<usize>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Offsets {
        let table = if text.is_ascii() {
            Vec::new()
        } else {
            let mut t: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            t.push(text.len());
            t
        };
        Offsets {
            table,
            len: text.len(),
        }
    }
    fn byte(&self, char_index: usize) -> usize {
        if self.table.is_empty() {
            char_index.min(self.len)
        } else {
            self.table.get(char_index).copied().unwrap_or(self.len)
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Scalar { .. } => 0,
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| count_nodes(k) + count_nodes(v))
            .sum(),
    }
}

/// Parses every document of `text`.
pub fn parse_stream(text: &str) -> Stream {
    let offsets = Offsets::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut stream = Stream::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: std::collections::HashMap<usize, Node> = std::collections::HashMap::new();
    let mut budget = ALIAS_BUDGET;
    let span = |s: &Span| (offsets.byte(s.start.index()), offsets.byte(s.end.index()));

    loop {
        let (event, sp) = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                stream.error = Some(ParseError {
                    offset: offsets.byte(e.marker().index()),
                    message: e.info().to_string(),
                });
                break;
            }
        };
        let (start, end) = span(&sp);
        let complete: Option<(Node, usize)> = match event {
            Event::StreamEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => None,
            Event::DocumentStart(_) => {
                stack.clear();
                anchors.clear();
                None
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(node) => {
                    let n = count_nodes(node);
                    if n > budget {
                        stream.error = Some(ParseError {
                            offset: start,
                            message: "too many alias expansions (a YAML bomb?)".into(),
                        });
                        break;
                    }
                    budget -= n;
                    Some((node.clone(), 0))
                }
                None => {
                    stream.error = Some(ParseError {
                        offset: start,
                        message: "alias to an unknown anchor".into(),
                    });
                    break;
                }
            },
            Event::Scalar(text, style, anchor, _) => Some((
                Node {
                    value: Value::Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                    start,
                    end,
                },
                anchor,
            )),
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq {
                    items: Vec::new(),
                    start,
                    anchor,
                });
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map {
                    entries: Vec::new(),
                    key: None,
                    start,
                    anchor,
                });
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq {
                    items,
                    start: s,
                    anchor,
                }) => Some((
                    Node {
                        value: Value::Seq(items),
                        start: s,
                        end: end.max(s),
                    },
                    anchor,
                )),
                _ => None,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    entries,
                    start: s,
                    anchor,
                    ..
                }) => Some((
                    Node {
                        value: Value::Map(entries),
                        start: s,
                        end: end.max(s),
                    },
                    anchor,
                )),
                _ => None,
            },
        };
        let Some((node, anchor)) = complete else {
            continue;
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => stream.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
    stream
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_byte_offsets() {
        let text = "a: ünïcode\nname: x\n";
        let s = parse_stream(text);
        assert!(s.error.is_none());
        let (k, v) = s.documents[0].entry("name").unwrap();
        assert_eq!(&text[k.start..k.end], "name");
        assert_eq!(&text[v.start..v.end], "x");
    }

    #[test]
    fn multi_document_and_json() {
        let s = parse_stream("---\na: 1\n---\n- x\n...\n---\nb: [1, {c: d}]\n");
        assert_eq!(s.documents.len(), 3);
        assert_eq!(
            s.documents[2].path(&["b"]).unwrap().as_seq().unwrap().len(),
            2
        );
        let json = "{\n\t\"kind\": \"Pod\",\n\t\"spec\": {\"containers\": []}\n}\n";
        let s = parse_stream(&json.replace('\t', " "));
        assert!(s.error.is_none(), "{:?}", s.error);
        assert_eq!(s.documents[0].get_str("kind"), Some("Pod"));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let s = parse_stream("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n");
        let d = &s.documents[0];
        assert_eq!(d.path(&["use", "x"]).unwrap().as_str(), Some("1"));
        assert_eq!(d.path(&["use", "y"]).unwrap().as_str(), Some("3"));
        assert_eq!(d.get("list").unwrap().as_seq().unwrap().len(), 2);
    }

    #[test]
    fn errors_have_offsets_and_bombs_stop() {
        let s = parse_stream("a: 1\n---\nb: [1, 2\n");
        assert_eq!(s.documents.len(), 1);
        let e = s.error.unwrap();
        assert!(e.offset > 5, "{e:?}");
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = (b'a' + i) as char;
            let next = (b'a' + i + 1) as char;
            bomb.push_str(&format!(
                "{next}: &{next} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let s = parse_stream(&bomb);
        assert!(s.error.unwrap().message.contains("alias"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let seeds = [
            "a: [",
            "{\"a\": ",
            "- - - x",
            "? a\n: b",
            "&a *a",
            "a: !!str 1",
            "\u{feff}a: 1",
            "a:\n\t- b",
            "'unterminated",
            "a: |\n  x\n b",
            "[{]}",
            "*x",
            "--- !tag\n",
        ];
        for s in seeds {
            let _ = parse_stream(s);
            for cut in 0..s.len() {
                if s.is_char_boundary(cut) {
                    let _ = parse_stream(&s[..cut]);
                }
            }
        }
    }
}
