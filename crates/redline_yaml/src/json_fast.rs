//! A direct reader for pieces that are plain JSON (an object or an array
//! and nothing else). saphyr keeps every token of a one-line flow
//! collection queued until the line ends (an 89 MB one-line `List` took
//! 3.5 GB in the parser alone); this reader builds the same tree in one
//! pass with no token queue. Anything that is not strict JSON — or that
//! YAML reads differently from JSON (`\/`, a surrogate escape, a raw
//! control character, a key longer than YAML's 1,024-character implicit
//! key, a line break before `:`) — returns `None`, and the YAML parser
//! reads the piece instead.

use crate::load::{Collection as Open, Lines, depth_error};
use crate::{Error, MAX_DEPTH, Node, Tag, Value};

/// An open collection and the offset of its bracket.
struct Frame {
    open: Open,
    start: usize,
}

/// `Some(result)` when `piece` is strict JSON (or too deep: the depth
/// error), `None` when the YAML parser must read it.
pub(crate) fn load(piece: &str, base: usize, lines: &Lines) -> Option<Result<Node, Error>> {
    let b = piece.as_bytes();
    let mut i = skip_ws(b, 0);
    if !matches!(b.get(i), Some(b'{' | b'[')) {
        return None;
    }
    let mut stack: Vec<Frame> = Vec::new();
    let node = |value: Value, start: usize, end: usize| Node {
        value,
        start: base + start,
        end: base + end,
        pos: lines.pos(base + start),
    };
    loop {
        i = skip_ws(b, i);
        let c = *b.get(i)?;
        // Where a value or a key may stand: a value, a key, or a close.
        let expecting_key = matches!(
            stack.last(),
            Some(Frame {
                open: Open::Map(_, None),
                ..
            })
        );
        let done: Node = match c {
            b'{' | b'[' => {
                if expecting_key {
                    return None;
                }
                if stack.len() >= MAX_DEPTH {
                    return Some(Err(depth_error(lines, base + i)));
                }
                let open = if c == b'{' {
                    Open::Map(Vec::new(), None)
                } else {
                    Open::Seq(Vec::new())
                };
                stack.push(Frame { open, start: i });
                i += 1;
                // An empty collection closes at once.
                let j = skip_ws(b, i);
                if b.get(j) == Some(&if c == b'{' { b'}' } else { b']' }) {
                    i = j;
                    let frame = stack.pop()?;
                    i += 1;
                    let value = match frame.open {
                        Open::Seq(_) => Value::Seq(Box::new([])),
                        Open::Map(..) => Value::Map(Box::new([])),
                    };
                    node(value, frame.start, i)
                } else {
                    continue;
                }
            }
            b'"' => {
                let (text, end) = string(b, i)?;
                let s = node(
                    Value::Scalar {
                        text: text.into_boxed_str(),
                        plain: false,
                        tag: Tag::None,
                    },
                    i,
                    end,
                );
                if expecting_key {
                    // YAML's implicit keys: one line, at most 1,024 characters.
                    let colon = skip_ws(b, end);
                    if b.get(colon) != Some(&b':')
                        || piece[end..colon].contains('\n')
                        || piece[i..end].chars().count() > 1024
                    {
                        return None;
                    }
                    i = colon + 1;
                    if let Some(Frame {
                        open: Open::Map(_, key),
                        ..
                    }) = stack.last_mut()
                    {
                        *key = Some(s);
                    }
                    continue;
                }
                i = end;
                s
            }
            _ if expecting_key => return None,
            b'-' | b'0'..=b'9' => {
                let end = number(b, i)?;
                i_scalar(&node, piece, &mut i, end)
            }
            b't' | b'f' | b'n' => {
                let word = [&b"true"[..], b"false", b"null"]
                    .into_iter()
                    .find(|w| b[i..].starts_with(w))?;
                let end = i + word.len();
                i_scalar(&node, piece, &mut i, end)
            }
            _ => return None,
        };
        // Attach `done` to its parent, then close what ends here.
        let mut done = Some(done);
        loop {
            let Some(parent) = stack.last_mut() else {
                // The root: only blanks may follow.
                return if skip_ws(b, i) == b.len() {
                    done.map(Ok)
                } else {
                    None
                };
            };
            if let Some(n) = done.take() {
                match &mut parent.open {
                    Open::Seq(items) => items.push(n),
                    Open::Map(entries, key) => entries.push((key.take()?, n)),
                }
            }
            i = skip_ws(b, i);
            let close = match parent.open {
                Open::Seq(_) => b']',
                Open::Map(..) => b'}',
            };
            match b.get(i) {
                Some(b',') => {
                    i += 1;
                    // No trailing comma in JSON.
                    let j = skip_ws(b, i);
                    if matches!(b.get(j), Some(b']' | b'}')) {
                        return None;
                    }
                    break;
                }
                Some(&c) if c == close => {
                    i += 1;
                    let frame = stack.pop()?;
                    let value = match frame.open {
                        Open::Seq(items) => Value::Seq(items.into_boxed_slice()),
                        Open::Map(entries, _) => Value::Map(entries.into_boxed_slice()),
                    };
                    done = Some(node(value, frame.start, i));
                }
                _ => return None,
            }
        }
    }
}

fn i_scalar(
    node: &impl Fn(Value, usize, usize) -> Node,
    piece: &str,
    i: &mut usize,
    end: usize,
) -> Node {
    let n = node(
        Value::Scalar {
            text: piece[*i..end].into(),
            plain: true,
            tag: Tag::None,
        },
        *i,
        end,
    );
    *i = end;
    n
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The end of a JSON number at `i`.
fn number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > from
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    if b.get(i) == Some(&b'0') {
        i += 1;
    } else if !digits(&mut i) {
        return None;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    // A number must end where JSON allows (not `1x`, which YAML reads).
    match b.get(i) {
        None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}') => Some(i),
        _ => None,
    }
}

/// A JSON string at `i` (the opening quote): its text and the offset past
/// the closing quote.
fn string(b: &[u8], i: usize) -> Option<(String, usize)> {
    let mut out = Vec::new();
    let mut j = i + 1;
    loop {
        let run = j;
        while let Some(&c) = b.get(j) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                break;
            }
            j += 1;
        }
        out.extend_from_slice(&b[run..j]);
        match *b.get(j)? {
            b'"' => return Some((String::from_utf8(out).ok()?, j + 1)),
            b'\\' => {
                let e = *b.get(j + 1)?;
                j += 2;
                let c = match e {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let hex = std::str::from_utf8(b.get(j..j + 4)?).ok()?;
                        j += 4;
                        // Surrogates: go-yaml refuses them; let it say so.
                        char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                    }
                    // `\/` and anything else: the YAML reader decides.
                    _ => return None,
                };
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_yaml;

    fn starts(n: &Node, out: &mut Vec<usize>) {
        out.push(n.start);
        match &n.value {
            Value::Seq(items) => items.iter().for_each(|i| starts(i, out)),
            Value::Map(entries) => entries.iter().for_each(|(k, v)| {
                starts(k, out);
                starts(v, out);
            }),
            Value::Scalar { .. } => {}
        }
    }

    #[test]
    fn the_json_reader_builds_the_tree_the_yaml_reader_builds() {
        let cases = [
            r#"{"a": [1, "x", {}], "b" : -1.5e3 , "c":true, "d": null, "e": []}"#,
            "\n  [ 1 ,\n \"y\" ]  \n",
            "{\n\t\"kind\": \"List\",\n\t\"items\": [{\"n\": 0, \"s\": \"\\u00e9\\n\\\"q\\\"\"}]\n}\n",
            r#"{"a": 1, "a": 2, "<<": {"b": 1}, "yes": "on", "k": 0.5, "z": -0}"#,
            "[[[[]]], {\"é\": \"ü\"}]",
        ];
        for text in cases {
            let lines = Lines::new(text);
            let fast = load(text, 0, &lines).expect("strict JSON").unwrap();
            let yaml = load_yaml(text, 0, &lines).unwrap().unwrap();
            assert_eq!(crate::to_json(&fast), crate::to_json(&yaml), "{text}");
            let (mut a, mut b) = (Vec::new(), Vec::new());
            starts(&fast, &mut a);
            starts(&yaml, &mut b);
            assert_eq!(a, b, "{text}");
        }
        // Not strict JSON, or read differently by YAML: the YAML reader decides.
        for text in [
            "{a: 1}",
            "[1, 2,]",
            r#"{"a": "\/"}"#,
            r#"["\ud83d\ude00"]"#,
            "[1] x",
            "[1x]",
            "{\"a\"\n: 1}",
            "[\"tab\there\"]",
            "# c\n[1]",
        ] {
            assert!(load(text, 0, &Lines::new(text)).is_none(), "{text}");
        }
    }
}
