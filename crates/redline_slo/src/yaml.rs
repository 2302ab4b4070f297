//! A YAML tree that remembers where every node starts, so that a spec
//! problem can be reported at the exact line and column of the value.
//!
//! Built on `yaml-rust2`'s event parser; anchors and aliases are resolved
//! by copying the anchored node, multi-document streams give one root per
//! document.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A 1-based line and 1-based column in UTF-8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar as written; `quoted` is true when it was quoted (so `"1"`
    /// stays a string).
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, quoted: false } if text.is_empty() || text == "~" || text == "null")
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } if self.is_null() => "null",
            Value::Scalar { .. } => "scalar",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

enum Frame {
    Seq(Pos, usize, Vec<Node>),
    Map(Pos, usize, Vec<(Node, Node)>, Option<Node>),
}

struct Builder<'a> {
    columns: ColumnMap<'a>,
    stack: Vec<Frame>,
    docs: Vec<Node>,
    anchors: Vec<(usize, Node)>,
}

/// Converts the parser's character offsets into byte columns.
struct ColumnMap<'a> {
    src: &'a str,
    /// Byte offset of each char, indexed by char index.
    char_bytes: Vec<usize>,
}

impl ColumnMap<'_> {
    fn pos(&self, mark: &Marker) -> Pos {
        let byte = self
            .char_bytes
            .get(mark.index())
            .copied()
            .unwrap_or(self.src.len());
        let line_start = self.src[..byte].rfind('\n').map(|i| i + 1).unwrap_or(0);
        Pos {
            line: mark.line().max(1),
            column: byte - line_start + 1,
        }
    }
}

impl Builder<'_> {
    fn push_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.push((anchor, node.clone()));
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, key)) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = self.columns.pos(&mark);
        match ev {
            Event::Scalar(text, style, anchor, _) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                self.push_node(
                    Node {
                        value: Value::Scalar { text, quoted },
                        pos,
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(pos, anchor, Vec::new())),
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map(pos, anchor, Vec::new(), None))
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq(p, anchor, items)) => self.push_node(
                    Node {
                        value: Value::Seq(items),
                        pos: p,
                    },
                    anchor,
                ),
                Some(Frame::Map(p, anchor, entries, _)) => {
                    // The parser marks a block mapping after its first key;
                    // users think of it as starting at that key.
                    let pos = entries.first().map(|(k, _)| k.pos.min(p)).unwrap_or(p);
                    self.push_node(
                        Node {
                            value: Value::Map(entries),
                            pos,
                        },
                        anchor,
                    )
                }
                None => {}
            },
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone());
                if let Some(mut n) = node {
                    n.pos = pos;
                    self.push_node(n, 0);
                }
            }
            _ => {}
        }
    }
}

/// Parses every document of a YAML stream.
pub fn parse(src: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut char_bytes: Vec<usize> = src.char_indices().map(|(i, _)| i).collect();
    char_bytes.push(src.len());
    let mut builder = Builder {
        columns: ColumnMap { src, char_bytes },
        stack: Vec::new(),
        docs: Vec::new(),
        anchors: Vec::new(),
    };
    let mut parser = Parser::new_from_str(src);
    match parser.load(&mut builder, true) {
        Ok(()) => Ok(builder.docs),
        Err(e) => Err(SyntaxError {
            pos: builder.columns.pos(e.marker()),
            message: e.info().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_byte_columns() {
        let docs = parse("a: 1\nç: [x, \"y\"]\n---\nb: {c: d}\n").unwrap();
        assert_eq!(docs.len(), 2);
        let list = docs[0].get("ç").unwrap();
        let items = list.as_seq().unwrap();
        assert_eq!(items[0].pos, Pos { line: 2, column: 6 });
        assert_eq!(items[1].pos, Pos { line: 2, column: 9 });
        assert_eq!(
            docs[1].get("b").unwrap().get("c").unwrap().pos,
            Pos { line: 4, column: 8 }
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(err.pos.line >= 1, "{err:?}");
    }
}
