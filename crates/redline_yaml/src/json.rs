//! What a scalar means under go-yaml v2's YAML 1.1 typing, and the JSON a
//! document converts to as `sigs.k8s.io/yaml.YAMLToJSON` converts it.

use crate::{MAX_DEPTH, Node, Tag, Value};

/// A scalar's meaning, as go-yaml v2 resolves it for an `interface{}`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX`.
    Uint(u64),
    Float(f64),
    Str(&'a str),
}

/// Resolves a scalar's text (`plain`: unquoted, not a block scalar; `tag`:
/// its explicit tag). A tag the text does not fit (`!!int abc`) is an
/// error, with go-yaml's wording.
pub fn resolve(text: &str, plain: bool, tag: Tag) -> Scalar<'_> {
    try_resolve(text, plain, tag).unwrap_or(Scalar::Str(text))
}

fn tag_name(tag: Tag) -> &'static str {
    match tag {
        Tag::Str => "!!str",
        Tag::Int => "!!int",
        Tag::Float => "!!float",
        Tag::Bool => "!!bool",
        Tag::Null => "!!null",
        Tag::Binary => "!!binary",
        Tag::None | Tag::Other => "",
    }
}

fn scalar_tag(s: &Scalar) -> Tag {
    match s {
        Scalar::Null => Tag::Null,
        Scalar::Bool(_) => Tag::Bool,
        Scalar::Int(_) | Scalar::Uint(_) => Tag::Int,
        Scalar::Float(_) => Tag::Float,
        Scalar::Str(_) => Tag::Str,
    }
}

pub(crate) fn try_resolve(text: &str, plain: bool, tag: Tag) -> Result<Scalar<'_>, String> {
    match tag {
        // Not a tag go-yaml resolves: the text as it is.
        Tag::Other | Tag::Str | Tag::Binary => return Ok(Scalar::Str(text)),
        // A quoted or block scalar without a tag is a string.
        Tag::None if !plain => return Ok(Scalar::Str(text)),
        _ => {}
    }
    let found = resolve_plain(text);
    if tag == Tag::None || scalar_tag(&found) == tag {
        return Ok(found);
    }
    match (tag, found) {
        (Tag::Float, Scalar::Int(i)) => Ok(Scalar::Float(i as f64)),
        (Tag::Float, Scalar::Uint(u)) => Ok(Scalar::Float(u as f64)),
        _ => Err(format!(
            "cannot decode {} `{text}` as a {}",
            tag_name(scalar_tag(&found)),
            tag_name(tag)
        )),
    }
}

/// go-yaml v2's `resolve` for an untagged plain scalar.
fn resolve_plain(text: &str) -> Scalar<'_> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false);
        }
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match text.as_bytes()[0] {
        b'.' => {
            if let Some(f) = yaml_float(text) {
                return Scalar::Float(f);
            }
        }
        b'+' | b'-' | b'0'..=b'9' => {
            let plain: String = text.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return Scalar::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain) {
                return Scalar::Uint(u);
            }
            if let Some(f) = yaml_float(&plain) {
                return Scalar::Float(f);
            }
        }
        _ => {}
    }
    Scalar::Str(text)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, in range.
fn yaml_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - from
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return None;
        }
    } else {
        if digits(&mut i) == 0 {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    // Go's ParseFloat fails (and go-yaml keeps the string) out of range.
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Digits of Go's `strconv.ParseUint(s, 0, 64)`: base prefixes `0x`, `0o`,
/// `0b`, a leading `0` for octal.
fn go_parse_uint(s: &str) -> Option<u64> {
    let (base, digits) = if let Some(r) = s.strip_prefix("0x").or(s.strip_prefix("0X")) {
        (16, r)
    } else if let Some(r) = s.strip_prefix("0o").or(s.strip_prefix("0O")) {
        (8, r)
    } else if let Some(r) = s.strip_prefix("0b").or(s.strip_prefix("0B")) {
        (2, r)
    } else if s.len() > 1 && s.starts_with('0') {
        (8, &s[1..])
    } else {
        (10, s)
    };
    if digits.is_empty() || !digits.bytes().all(|c| (c as char).is_digit(base)) {
        return None;
    }
    u64::from_str_radix(digits, base).ok()
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn go_parse_int(s: &str) -> Option<i64> {
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(rest)?;
    if negative {
        if u <= i64::MAX as u64 + 1 {
            Some((u as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`, go-yaml's key spelling.
fn format_float32_key(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    let x = f as f32;
    // Shortest digits and exponent, as Rust prints them: `d.ddde[-]x`.
    let e = format!("{x:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}e{esign}{:02}", exp.abs());
    }
    let plain = format!("{}", x.abs());
    format!("{sign}{plain}")
}

/// The JSON `sigs.k8s.io/yaml.YAMLToJSON` makes of a document, or its
/// error (a `null` key, `.inf`/`.nan`, a tag the text does not fit, a
/// collection as a key). Merge keys are applied as go-yaml applies them.
pub fn to_json(node: &Node) -> Result<serde_json::Value, String> {
    convert(node, 0)
}

fn convert(node: &Node, depth: usize) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    if depth > MAX_DEPTH + 1 {
        return Err("nested too deeply".into());
    }
    Ok(match &node.value {
        Value::Scalar { text, plain, tag } => match try_resolve(text, *plain, *tag)? {
            Scalar::Null => J::Null,
            Scalar::Bool(b) => J::Bool(b),
            Scalar::Int(i) => J::from(i),
            Scalar::Uint(u) => J::from(u),
            Scalar::Float(f) => serde_json::Number::from_f64(f)
                .map(J::Number)
                .ok_or_else(|| format!("json: unsupported value: {f}"))?,
            Scalar::Str(s) => J::String(s.to_string()),
        },
        Value::Seq(items) => J::Array(
            items
                .iter()
                .map(|i| convert(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(_) => {
            let mut out = serde_json::Map::new();
            fill_map(node, depth, &mut out)?;
            J::Object(out)
        }
    })
}

/// go-yaml's `mapping`: entries in order, a merge sets the merged keys at
/// its place (a list's earlier maps win), later keys overwrite.
fn fill_map(
    node: &Node,
    depth: usize,
    out: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<(), String> {
    let Value::Map(entries) = &node.value else {
        return Err("map merge requires map or sequence of maps as the value".into());
    };
    for (k, v) in entries {
        if k.is_merge_key() {
            match &v.value {
                Value::Map(_) => fill_map(v, depth + 1, out)?,
                Value::Seq(items) => {
                    for item in items.iter().rev() {
                        fill_map(item, depth + 1, out)?;
                    }
                }
                Value::Scalar { .. } => {
                    return Err("map merge requires map or sequence of maps as the value".into());
                }
            }
            continue;
        }
        let key = match &k.value {
            Value::Scalar { text, plain, tag } => match try_resolve(text, *plain, *tag)? {
                Scalar::Str(s) => s.to_string(),
                Scalar::Int(i) => i.to_string(),
                Scalar::Bool(b) => b.to_string(),
                Scalar::Float(f) => format_float32_key(f),
                Scalar::Uint(u) => {
                    return Err(format!("unsupported map key of type: uint64, key: {u}"));
                }
                Scalar::Null => return Err("unsupported map key of type: <nil>".into()),
            },
            _ => return Err("invalid map key: a mapping or list".into()),
        };
        let value = convert(v, depth + 1)?;
        out.insert(key, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_yaml_v2_typing() {
        let r = |s| resolve(s, true, Tag::None);
        assert_eq!(r("yes"), Scalar::Bool(true));
        assert_eq!(r("On"), Scalar::Bool(true));
        assert_eq!(r("n"), Scalar::Bool(false));
        assert_eq!(r("yEs"), Scalar::Str("yEs"));
        assert_eq!(r("0x1F"), Scalar::Int(31));
        assert_eq!(r("-0x1F"), Scalar::Int(-31));
        assert_eq!(r("0777"), Scalar::Int(511));
        assert_eq!(r("09"), Scalar::Float(9.0));
        assert_eq!(r("0o17"), Scalar::Int(15));
        assert_eq!(r("0b101"), Scalar::Int(5));
        assert_eq!(r("1_000"), Scalar::Int(1000));
        assert_eq!(r("1e3"), Scalar::Float(1000.0));
        assert_eq!(r(".5"), Scalar::Float(0.5));
        assert_eq!(r("1."), Scalar::Float(1.0));
        assert_eq!(r("0x"), Scalar::Str("0x"));
        assert_eq!(
            r("12345678901234567890"),
            Scalar::Uint(12345678901234567890)
        );
        assert_eq!(r("~"), Scalar::Null);
        assert_eq!(r(""), Scalar::Null);
        assert_eq!(r("nULL"), Scalar::Str("nULL"));
        assert_eq!(r("1e999"), Scalar::Str("1e999"));
        assert_eq!(r("2024-01-01"), Scalar::Str("2024-01-01"));
        assert_eq!(resolve("yes", false, Tag::None), Scalar::Str("yes"));
        assert_eq!(resolve("3", false, Tag::Int), Scalar::Int(3));
        assert!(try_resolve("abc", true, Tag::Int).is_err());
        assert_eq!(format_float32_key(1.5), "1.5");
        assert_eq!(format_float32_key(1e21), "1e+21");
        assert_eq!(format_float32_key(0.00001), "1e-05");
        assert_eq!(format_float32_key(1000.0), "1000");
        assert_eq!(format_float32_key(1234567.0), "1.234567e+06");
    }
}
