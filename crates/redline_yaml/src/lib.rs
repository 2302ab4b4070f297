//! The one YAML/JSON loader of redline: Kubernetes manifests, SLO specs and
//! every other YAML input go through [`parse_stream`] (or [`parse`]).
//!
//! What it guarantees:
//!
//! - **Positions.** Every [`Node`] carries the byte range it covers
//!   ([`Node::start`]..[`Node::end`]) and the 1-based line and column (in
//!   UTF-8 bytes) of its start ([`Node::pos`]); errors carry the same
//!   ([`Error`]).
//! - **Read as Kubernetes reads it.** A stream is cut into documents the way
//!   `kubectl` (k8s.io/apimachinery's YAML reader) cuts it — at every line
//!   that starts with `---`, where anything but a comment after the marker is
//!   an error — and each piece is read like `sigs.k8s.io/yaml` (go-yaml v2)
//!   reads it: its first document only, anchors local to it, the last of
//!   duplicate keys wins ([`Node::entry`]), `<<` merge keys honoured by
//!   lookups. [`to_json`] gives the JSON value `sigs.k8s.io/yaml.YAMLToJSON`
//!   gives, with go-yaml v2's YAML 1.1 scalar typing (`yes`/`on` are `true`,
//!   `0x1F` is 31, `1e3` is 1000, `~` is null); the tree itself keeps each
//!   scalar's text and whether it was plain, so callers decide what a
//!   scalar means. The differential test (`tests/oracle.rs`) compares both
//!   against the Go library on committed cases.
//! - **Bounded.** Nesting deeper than [`MAX_DEPTH`] collections is refused
//!   before the tree is built deeper, so no recursion over a tree (building,
//!   `Drop`, `Clone`, `Debug`, callers' walks) can overflow the stack; an
//!   alias that would copy more than [`ALIAS_BUDGET`] nodes in one document
//!   ("billion laughs") is refused. Memory is proportional to the input.
//! - **Multi-document streams.** Every document is returned in order; a
//!   `kind: List` is an ordinary mapping, left to callers.
//! - **No panic** on any input.

mod json;
mod json_fast;
mod load;

pub use json::{Scalar, resolve, to_json};
pub use load::{parse, parse_stream};

/// Collections (mappings and sequences) open at once beyond which a
/// document is refused. Kubernetes objects, CRD schemas included, nest a
/// few dozen levels (the deepest of 3,808 real manifest files is indented
/// 74 columns);
/// 200 keeps every recursive walk over the tree (`Drop`, `Clone`, `Debug`,
/// [`to_json`], callers' walks) within half of a 2 MiB thread stack even
/// in a debug build. go-yaml's own limit is 10,000: deeper than 200 is the
/// one place where redline refuses what Kubernetes would read.
pub const MAX_DEPTH: usize = 200;

/// Nodes that aliases may copy in one document before loading gives up
/// (each alias costs the size of the node it names).
pub const ALIAS_BUDGET: usize = 200_000;

/// A 1-based line and 1-based column (in UTF-8 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A node of the tree and where it is in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset just past the last byte.
    pub end: usize,
    /// Line and column of `start`.
    pub pos: Pos,
}

/// A tag given to a scalar in the source (`!!str 1`), as far as it changes
/// what the scalar means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tag {
    /// No tag, or `!` (the non-specific tag of quoted scalars).
    #[default]
    None,
    Str,
    Int,
    Float,
    Bool,
    Null,
    Binary,
    /// Any other tag (`!foo`, `!!set`): go-yaml keeps such a scalar's text.
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar's text; `plain` when unquoted and not a block scalar (so
    /// `null`, `~` and `true` may mean what they say).
    Scalar {
        text: Box<str>,
        plain: bool,
        tag: Tag,
    },
    Seq(Box<[Node]>),
    /// Entries in source order, duplicates included.
    Map(Box<[(Node, Node)]>),
}

impl Node {
    /// The scalar text, when this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// A null as go-yaml reads it: a plain `null`, `Null`, `NULL`, `~` or
    /// empty scalar (or one tagged `!!null`).
    pub fn is_null(&self) -> bool {
        matches!(self.scalar(), Some(Scalar::Null))
    }

    /// What the scalar means under go-yaml v2's typing; `None` for a
    /// collection.
    pub fn scalar(&self) -> Option<Scalar<'_>> {
        match &self.value {
            Value::Scalar { text, plain, tag } => Some(resolve(text, *plain, *tag)),
            _ => None,
        }
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

    /// `"mapping"`, `"list"`, `"null"` or `"scalar"`.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Map(_) => "mapping",
            Value::Seq(_) => "list",
            Value::Scalar { .. } if self.is_null() => "null",
            Value::Scalar { .. } => "scalar",
        }
    }

    /// Whether this is the merge key `<<` (plain).
    pub fn is_merge_key(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true, tag: Tag::None } if &**text == "<<")
    }

    /// The entry (key node, value node) for `key` as go-yaml decodes the
    /// mapping: entries apply in order, so the last one that sets `key`
    /// wins — a repeated key, or a `<<` merge (whose own keys apply where
    /// the merge stands; in a merged list the earlier maps win).
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?.iter().rev().find_map(|(k, v)| {
            if k.is_merge_key() {
                match &v.value {
                    Value::Map(_) => v.entry(key),
                    Value::Seq(items) => items.iter().find_map(|m| m.entry(key)),
                    Value::Scalar { .. } => None,
                }
            } else if k.as_str() == Some(key) {
                Some((k, v))
            } else {
                None
            }
        })
    }

    /// The value of `key` in a mapping (see [`Node::entry`]).
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

/// The text of a YAML file's bytes as go-yaml decodes them: UTF-8 (a BOM
/// is fine), or UTF-16 with a byte-order mark (then offsets and positions
/// refer to the decoded text). Anything else is an error at the first
/// invalid byte.
pub fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, Error> {
    let utf16 = |be: bool| {
        let units = bytes[2..].chunks(2).map(|c| match (c, be) {
            ([a, b], true) => u16::from_be_bytes([*a, *b]),
            ([a, b], false) => u16::from_le_bytes([*a, *b]),
            _ => 0xFFFD,
        });
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect::<String>()
    };
    match bytes {
        [0xFF, 0xFE, ..] => Ok(std::borrow::Cow::Owned(utf16(false))),
        [0xFE, 0xFF, ..] => Ok(std::borrow::Cow::Owned(utf16(true))),
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(std::borrow::Cow::Borrowed(text)),
            Err(e) => {
                let offset = e.valid_up_to();
                let before = &bytes[..offset];
                let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
                let line_start = before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                Err(Error {
                    offset,
                    line,
                    column: offset - line_start + 1,
                    message: "the file is not valid UTF-8 (nor UTF-16 with a byte-order mark)"
                        .into(),
                })
            }
        },
    }
}

/// Why a document cannot be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Byte offset in the source.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in UTF-8 bytes.
    pub column: usize,
    pub message: String,
}

impl Error {
    pub fn pos(&self) -> Pos {
        Pos {
            line: u32::try_from(self.line).unwrap_or(u32::MAX),
            column: u32::try_from(self.column).unwrap_or(u32::MAX),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for Error {}

/// The documents of a stream, and the error that stopped it, if any
/// (documents completed before the error are kept).
#[derive(Debug, Default)]
pub struct Stream {
    pub documents: Vec<Node>,
    pub error: Option<Error>,
}
