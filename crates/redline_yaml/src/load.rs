//! Building the tree from saphyr-parser's events, one document at a time,
//! with an explicit stack (no recursion), a depth limit and an alias budget.

use crate::{ALIAS_BUDGET, Error, MAX_DEPTH, Node, Pos, Stream, Tag, Value};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::borrow::Cow;
use std::collections::HashMap;

/// Line starts of the whole source, for 1-based line/column.
pub(crate) struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub(crate) fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text.as_bytes()));
        Lines { starts }
    }

    pub(crate) fn pos(&self, offset: usize) -> Pos {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let column = offset - self.starts[line - 1] + 1;
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .map(|(i, _)| i + 1)
}

/// Converts saphyr's character indices into byte offsets of one piece of
/// text, walking a cursor (events arrive nearly in order, so the walk is
/// linear in the text; no table proportional to it).
struct Cursor<'a> {
    text: &'a str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Cursor<'a> {
        Cursor {
            text,
            ascii: text.is_ascii(),
            chars: 0,
            bytes: 0,
        }
    }

    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        while self.chars < char_index && self.bytes < self.text.len() {
            let width = self.text[self.bytes..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
            self.bytes += width;
            self.chars += 1;
        }
        while self.chars > char_index && self.bytes > 0 {
            self.bytes -= 1;
            while self.bytes > 0 && !self.text.is_char_boundary(self.bytes) {
                self.bytes -= 1;
            }
            self.chars -= 1;
        }
        self.bytes
    }
}

/// Byte ranges of the pieces, and where a bad separator line stopped the
/// cutting (its offset and the text after `---`).
type Pieces = (Vec<(usize, usize)>, Option<(usize, String)>);

/// The pieces of a stream as Kubernetes' YAML reader cuts it: at every line
/// that starts with `---`. Returns (start, end) byte ranges, and the offset
/// of a separator line with content after the marker (an error there).
fn split(text: &str) -> Pieces {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut line_start = 0;
    while line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i + 1);
        let line = &text[line_start..line_end];
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                if start < line_start {
                    pieces.push((start, line_start));
                }
                return (pieces, Some((line_start + 3, rest.to_string())));
            }
            if start < line_start {
                pieces.push((start, line_start));
            }
            start = line_end;
        }
        line_start = line_end;
    }
    if start < text.len() {
        pieces.push((start, text.len()));
    }
    (pieces, None)
}

/// Parses every document of `text`. Documents read before an error are
/// kept; reading stops at the first error.
pub fn parse_stream(text: &str) -> Stream {
    let lines = Lines::new(text);
    let mut stream = Stream::default();
    let (pieces, bad_separator) = split(text);
    for (start, end) in pieces {
        match load_document(&text[start..end], start, &lines) {
            Ok(Some(doc)) => stream.documents.push(doc),
            Ok(None) => {}
            Err(e) => {
                stream.error = Some(e);
                return stream;
            }
        }
    }
    if let Some((offset, rest)) = bad_separator {
        stream.error = Some(error(
            &lines,
            offset,
            format!(
                "`---{}` is not a document separator Kubernetes reads: only a comment may follow `---` on its line; put `{rest}` on the next line",
                if rest.len() > 40 {
                    " …".to_string()
                } else {
                    format!(" {rest}")
                }
            ),
        ));
    }
    stream
}

/// Parses every document of `text`, or returns the first error.
pub fn parse(text: &str) -> Result<Vec<Node>, Error> {
    let stream = parse_stream(text);
    match stream.error {
        Some(e) => Err(e),
        None => Ok(stream.documents),
    }
}

fn error(lines: &Lines, offset: usize, message: String) -> Error {
    let line = lines.starts.partition_point(|&s| s <= offset).max(1);
    Error {
        offset,
        line,
        column: offset - lines.starts[line - 1] + 1,
        message,
    }
}

pub(crate) fn depth_error(lines: &Lines, offset: usize) -> Error {
    error(
        lines,
        offset,
        format!(
            "YAML nested deeper than {MAX_DEPTH} levels: redline refuses to read it (no Kubernetes \
             object or SLO spec nests this deep); flatten the structure, or exclude the file from \
             the checked paths"
        ),
    )
}

/// A collection being read: its items, or its entries and the key that
/// waits for its value (the YAML and the JSON reader share it).
pub(crate) enum Collection {
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>, Option<Node>),
}

struct Frame {
    collection: Collection,
    start: usize,
    anchor: usize,
    /// Nodes below this one so far.
    size: usize,
    /// Height of the highest child so far (a scalar is 0).
    height: usize,
}

/// A completed node with its node count and height.
struct Built {
    node: Node,
    size: usize,
    height: usize,
}

fn tag_of(tag: Option<&saphyr_parser::Tag>) -> Tag {
    let Some(tag) = tag else {
        return Tag::None;
    };
    let core = tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!";
    if !core {
        return Tag::Other;
    }
    match tag.suffix.as_str() {
        "str" => Tag::Str,
        "int" => Tag::Int,
        "float" => Tag::Float,
        "bool" => Tag::Bool,
        "null" => Tag::Null,
        "binary" => Tag::Binary,
        _ => Tag::Other,
    }
}

/// Why an attempt stopped: a final error, or a saphyr error at an edited
/// offset that a repair may cure.
enum Attempt {
    Final(Error),
    Failed { edited: usize, error: Error },
}

impl From<Error> for Attempt {
    fn from(e: Error) -> Attempt {
        Attempt::Final(e)
    }
}

/// Bytes that repairs may re-parse per piece before giving up.
const REPAIR_WORK: usize = 64 << 20;

/// Reads the first document of one piece (`base` is its offset in the
/// whole source), as go-yaml's `Unmarshal` reads only the first.
///
/// Where saphyr is stricter than go-yaml on input Kubernetes accepts, the
/// piece is repaired and read again (offsets still point at the source):
/// continuation lines of a quoted scalar indented less than its key (which
/// controller-gen writes) are indented — their leading blanks are folded
/// away, so the value is unchanged — and a tab after `:` becomes a space.
fn load_document(piece: &str, base: usize, lines: &Lines) -> Result<Option<Node>, Error> {
    if let Some(json) = crate::json_fast::load(piece, base, lines) {
        return json.map(Some);
    }
    load_yaml(piece, base, lines)
}

/// [`load_document`] without the JSON reader.
pub(crate) fn load_yaml(piece: &str, base: usize, lines: &Lines) -> Result<Option<Node>, Error> {
    let mut edit = Edited::new(piece);
    let mut work = 0usize;
    loop {
        match build(&edit, base, lines) {
            Ok(doc) => return Ok(doc),
            Err(Attempt::Final(e)) => return Err(e),
            Err(Attempt::Failed { edited, error }) => {
                work = work.saturating_add(edit.text.len());
                let repaired = work <= REPAIR_WORK
                    && match error.message.as_str() {
                        "invalid indentation in quoted scalar" => edit.indent_quoted(edited),
                        "while parsing a quoted scalar, found unknown escape character" => {
                            edit.escape_quotes(edited)
                        }
                        "':' must be followed by a valid YAML whitespace" => {
                            edit.untab_before(edited)
                        }
                        "misplaced bracket" => {
                            // saphyr looks past a complete flow root (`[1, 2]]`);
                            // go-yaml stops there. Read what comes before.
                            let mut head = edit.clone();
                            head.text.truncate(edited.min(head.text.len()));
                            if let Ok(Some(root)) = build(&head, base, lines)
                                && matches!(
                                    piece.as_bytes().get(root.start - base),
                                    Some(b'[' | b'{')
                                )
                                && root.end <= error.offset
                            {
                                return Ok(Some(root));
                            }
                            false
                        }
                        _ => false,
                    };
                if !repaired {
                    return Err(error);
                }
            }
        }
    }
}

/// A piece with small repairs; maps edited offsets back to the piece.
#[derive(Clone)]
struct Edited {
    text: String,
    /// Replaced runs, sorted: (edited offset, edited length, original
    /// length, edited minus original length of everything before).
    runs: Vec<(usize, usize, usize, isize)>,
}

impl Edited {
    fn new(piece: &str) -> Edited {
        Edited {
            text: piece.to_string(),
            runs: Vec::new(),
        }
    }

    fn original(&self, edited: usize) -> usize {
        let i = self.runs.partition_point(|&(at, _, _, _)| at <= edited);
        if i == 0 {
            return edited;
        }
        let (at, len, orig_len, before) = self.runs[i - 1];
        let run_start = (at as isize - before).max(0) as usize;
        if edited < at + len {
            run_start
        } else {
            run_start + orig_len + (edited - at - len)
        }
    }

    /// Replaces `len` bytes of the edited text at `at` by `with`.
    fn replace(&mut self, at: usize, len: usize, with: &str) {
        self.text.replace_range(at..at + len, with);
        let i = self.runs.partition_point(|&(a, _, _, _)| a < at);
        let before = match i.checked_sub(1).map(|j| self.runs[j]) {
            Some((_, l, o, b)) => b + l as isize - o as isize,
            None => 0,
        };
        let shift = with.len() as isize - len as isize;
        for run in &mut self.runs[i..] {
            run.0 = (run.0 as isize + shift) as usize;
            run.3 += shift;
        }
        self.runs.insert(i, (at, with.len(), len, before));
    }

    /// The byte ranges of the quoted scalar opening at `quote`: its end
    /// (just past the closing quote), or `None` when it does not close.
    fn quoted_end(&self, quote: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let q = *bytes.get(quote)?;
        if q != b'"' && q != b'\'' {
            return None;
        }
        let mut i = quote + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if q == b'"' => i += 1,
                b'\'' if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
                c if c == q => return Some(i + 1),
                _ => {}
            }
            i += 1;
        }
        None
    }

    /// `\'` (go-yaml's escape for `'`, which saphyr lacks) as `\x27` in the
    /// double-quoted scalar opening at `quote`.
    fn escape_quotes(&mut self, quote: usize) -> bool {
        let Some(end) = self.quoted_end(quote) else {
            return false;
        };
        let bytes = self.text.as_bytes();
        let mut found = Vec::new();
        let mut i = quote + 1;
        while i + 1 < end {
            if bytes[i] == b'\\' {
                if bytes[i + 1] == b'\'' {
                    found.push(i + 1);
                }
                i += 2;
            } else {
                i += 1;
            }
        }
        for at in found.iter().rev() {
            self.replace(*at, 1, "x27");
        }
        !found.is_empty()
    }

    /// Indents every continuation line of the quoted scalar that opens at
    /// `quote` to the quote's column. False when there is nothing to do.
    fn indent_quoted(&mut self, quote: usize) -> bool {
        let Some(end) = self.quoted_end(quote) else {
            return false;
        };
        let line_start = self.text[..quote].rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..quote].chars().count();
        let bytes = self.text.as_bytes();
        let mut pads = Vec::new();
        for i in quote..end {
            if bytes[i] == b'\n' {
                let indent = bytes[i + 1..]
                    .iter()
                    .take_while(|&&b| b == b' ' || b == b'\t')
                    .count();
                if indent < column {
                    pads.push((i + 1, column - indent));
                }
            }
        }
        for (at, len) in pads.iter().rev() {
            self.replace(*at, 0, &" ".repeat(*len));
        }
        !pads.is_empty()
    }

    /// Turns the tabs between a `:` and `value` into spaces (same length).
    fn untab_before(&mut self, value: usize) -> bool {
        let bytes = self.text.as_bytes();
        let mut i = value.min(bytes.len());
        let mut tabs = Vec::new();
        while i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
            i -= 1;
            if bytes[i] == b'\t' {
                tabs.push(i);
            }
        }
        if tabs.is_empty() || i == 0 || bytes[i - 1] != b':' {
            return false;
        }
        // ASCII for ASCII: still UTF-8.
        let mut owned = std::mem::take(&mut self.text).into_bytes();
        for t in tabs {
            owned[t] = b' ';
        }
        self.text = String::from_utf8(owned).unwrap_or_default();
        true
    }
}

/// The offset of a backslash escape go-yaml v2 does not know, in a
/// double-quoted scalar's source text (quotes included).
fn unknown_escape(raw: &str) -> Option<usize> {
    let bytes = raw.as_bytes();
    let mut i = 1;
    while i + 1 < bytes.len() {
        if bytes[i] == b'\\' {
            let known = matches!(
                bytes[i + 1],
                b'0' | b'a'
                    | b'b'
                    | b't'
                    | b'\t'
                    | b'n'
                    | b'v'
                    | b'f'
                    | b'r'
                    | b'e'
                    | b' '
                    | b'"'
                    | b'\''
                    | b'\\'
                    | b'N'
                    | b'_'
                    | b'L'
                    | b'P'
                    | b'x'
                    | b'u'
                    | b'U'
                    | b'\n'
                    | b'\r'
            );
            if !known {
                return Some(i);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    None
}

/// One attempt at reading the first document of `edit`'s text.
fn build(edit: &Edited, base: usize, lines: &Lines) -> Result<Option<Node>, Attempt> {
    let piece = edit.text.as_str();
    let mut cursor = Cursor::new(piece);
    let mut parser = Parser::new_from_str(piece);
    // Offsets in the edited text back to offsets in the whole source.
    let at = |offset: usize| base + edit.original(offset);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Built> = HashMap::new();
    let mut budget = ALIAS_BUDGET;
    let mut in_document = false;
    let mut root: Option<Node> = None;
    loop {
        let (event, span) = match parser.next_event() {
            None => return Ok(root),
            Some(Ok(ev)) => ev,
            Some(Err(e)) => {
                if root.is_some() && e.info() == "did not find expected <document start>" {
                    // go-yaml reads one node and stops: what follows a
                    // complete root (`[1, 2] x`) is never parsed.
                    return Ok(root);
                }
                let edited = cursor.byte(e.marker().index());
                if e.info() == "recursion limit exceeded" {
                    // saphyr's own flow-level limit (255).
                    return Err(depth_error(lines, at(edited)).into());
                }
                return Err(Attempt::Failed {
                    edited,
                    error: error(lines, at(edited), e.info().to_string()),
                });
            }
        };
        let edited_start = cursor.byte(span.start.index());
        let edited_end = cursor.byte(span.end.index()).max(edited_start);
        let (start, end) = (at(edited_start), at(edited_end));
        let built = match event {
            Event::StreamEnd | Event::DocumentEnd => return Ok(root),
            Event::Nothing | Event::StreamStart => continue,
            Event::DocumentStart(_) => {
                if in_document {
                    return Ok(root);
                }
                in_document = true;
                continue;
            }
            Event::Alias(id) => {
                let Some(anchored) = anchors.get(&id) else {
                    return Err(error(lines, start, "alias to an unknown anchor".into()).into());
                };
                if anchored.size > budget {
                    return Err(Attempt::from(error(
                        lines,
                        start,
                        format!(
                            "aliases copy more than {ALIAS_BUDGET} nodes in this document (a \
                             \"billion laughs\" YAML bomb?): redline refuses to expand them; \
                             write the repeated values out or use fewer nested aliases"
                        ),
                    )));
                }
                if stack.len() + anchored.height > MAX_DEPTH {
                    return Err(depth_error(lines, start).into());
                }
                budget -= anchored.size;
                Built {
                    node: anchored.node.clone(),
                    size: anchored.size,
                    height: anchored.height,
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                if style == ScalarStyle::DoubleQuoted
                    && let Some(bad) = unknown_escape(&piece[edited_start..edited_end])
                {
                    return Err(error(
                        lines,
                        at(edited_start + bad),
                        "found unknown escape character (go-yaml, which Kubernetes reads YAML \
                         with, knows \\0 \\a \\b \\t \\n \\v \\f \\r \\e \\\" \\' \\\\ \\N \\_ \\L \\P \\x \\u \\U \\space)"
                            .into(),
                    )
                    .into());
                }
                let built = Built {
                    node: Node {
                        value: Value::Scalar {
                            text: text.into(),
                            plain: style == ScalarStyle::Plain,
                            tag: tag_of(tag.as_ref().map(Cow::as_ref)),
                        },
                        start,
                        end,
                        pos: lines.pos(start),
                    },
                    size: 1,
                    height: 0,
                };
                if anchor != 0 {
                    anchors.insert(anchor, clone_built(&built));
                }
                built
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(depth_error(lines, start).into());
                }
                let collection = if matches!(event, Event::SequenceStart(..)) {
                    Collection::Seq(Vec::new())
                } else {
                    Collection::Map(Vec::new(), None)
                };
                stack.push(Frame {
                    collection,
                    start,
                    anchor,
                    size: 1,
                    height: 0,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = stack.pop() else {
                    continue;
                };
                let (value, first) = match frame.collection {
                    Collection::Seq(items) => {
                        let first = items.first().map(|n| n.start);
                        (Value::Seq(items.into_boxed_slice()), first)
                    }
                    Collection::Map(entries, _) => {
                        if let Some((k, v)) = entries
                            .iter()
                            .find(|(k, v)| k.is_merge_key() && !mergeable(v))
                        {
                            let _ = v;
                            return Err(error(
                                lines,
                                k.start,
                                "map merge requires map or sequence of maps as the value".into(),
                            )
                            .into());
                        }
                        let first = entries.first().map(|(k, _)| k.start);
                        (Value::Map(entries.into_boxed_slice()), first)
                    }
                };
                // A block collection's event is marked at its first item;
                // it starts where that item does, whichever comes first.
                let start = first.map_or(frame.start, |f| f.min(frame.start));
                let built = Built {
                    node: Node {
                        value,
                        start,
                        end: end.max(start),
                        pos: lines.pos(start),
                    },
                    size: frame.size,
                    height: frame.height + 1,
                };
                if frame.anchor != 0 {
                    anchors.insert(frame.anchor, clone_built(&built));
                }
                built
            }
        };
        match stack.last_mut() {
            None => root = Some(built.node),
            Some(parent) => {
                parent.size = parent.size.saturating_add(built.size);
                parent.height = parent.height.max(built.height);
                match &mut parent.collection {
                    Collection::Seq(items) => items.push(built.node),
                    Collection::Map(entries, key) => match key.take() {
                        None => *key = Some(built.node),
                        Some(k) => entries.push((k, built.node)),
                    },
                }
            }
        }
    }
}

fn clone_built(b: &Built) -> Built {
    Built {
        node: b.node.clone(),
        size: b.size,
        height: b.height,
    }
}

/// What go-yaml accepts after `<<`: a mapping, or a list of mappings.
fn mergeable(v: &Node) -> bool {
    match &v.value {
        Value::Map(_) => true,
        Value::Seq(items) => items.iter().all(|i| matches!(i.value, Value::Map(_))),
        Value::Scalar { .. } => false,
    }
}
