//! Secret values in manifest text: the masked copy every report quotes
//! (RL704's findings never show the secret, nor does any code frame).

use crate::yaml::YamlNode;
use redline_runtime::spec::{EnvSpec, is_secret_name};

/// A copy of a manifest's text with every secret value overwritten by
/// `*` (one for one, line breaks kept, so every position stays right), or
/// `None` when it holds none. This is what reports quote: no code frame,
/// snippet or fingerprint of any format sees a secret (docs/rules.md, RL704).
///
/// Masked: the literal `value:` of an env entry whose `name:` is a secret
/// (block or flow style, JSON too, in any order of the keys), the value of
/// a mapping key that is a secret name (`DB_PASSWORD: x` in a ConfigMap),
/// and anywhere in the file the userinfo of a URL and a `password=` value.
/// A file the YAML parser could not read to its end is masked line by line
/// the same way.
pub fn mask_secrets(source: &[u8], spec: &EnvSpec) -> Option<Vec<u8>> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let text = String::from_utf8_lossy(source);
    let secret_name = |n: &str| is_secret_name(n) || spec.get(n).is_some_and(|s| s.secret);
    // The same tab swap as the loader (JSON strings hold no raw tab).
    let looks_json = text.trim_start().starts_with(['{', '[']);
    let parsed = if looks_json {
        std::borrow::Cow::Owned(text.replace('\t', " "))
    } else {
        std::borrow::Cow::Borrowed(&*text)
    };
    // Offsets are only trusted when the lossy text is the source itself.
    if matches!(text, std::borrow::Cow::Borrowed(_)) {
        let stream = crate::yaml::parse_stream(&parsed);
        let mut stack: Vec<&YamlNode> = stream.documents.iter().collect();
        while let Some(node) = stack.pop() {
            match &node.value {
                crate::yaml::Value::Map(entries) => {
                    let env_secret = node.get_str("name").is_some_and(secret_name);
                    for (k, v) in entries {
                        let key = k.as_str();
                        let is_value = env_secret && key == Some("value");
                        if (is_value || key.is_some_and(secret_name)) && v.as_str().is_some() {
                            ranges.push(scalar_content(source, v));
                        }
                        stack.push(v);
                    }
                }
                crate::yaml::Value::Seq(items) => stack.extend(items),
                crate::yaml::Value::Scalar { .. } => {}
            }
        }
        if stream.error.is_some() {
            // Where the parser stopped says little about what it could not
            // read (an unclosed `[` swallows the rest): every line.
            ranges.extend(mask_lines(source, 0, &secret_name));
        }
    } else {
        ranges.extend(mask_lines(source, 0, &secret_name));
    }
    let mut out = redline_diagnostics::secrets::redact_bytes(source).into_owned();
    if ranges.is_empty() && out == source {
        return None;
    }
    redline_diagnostics::secrets::mask_ranges(&mut out, &ranges);
    Some(out)
}

/// The bytes of a scalar without its quotes.
fn scalar_content(source: &[u8], node: &YamlNode) -> (usize, usize) {
    let (mut s, mut e) = (node.start.min(source.len()), node.end.min(source.len()));
    if e > s + 1 && matches!(source[s], b'"' | b'\'') && source[e - 1] == source[s] {
        s += 1;
        e -= 1;
    }
    (s, e)
}

/// Line by line, from the line holding `from`: a `value:` after a
/// secret `name:` on the same line (flow style) or on the next one (block
/// style), and a `SECRET_NAME: value` line.
fn mask_lines(
    source: &[u8],
    from: usize,
    secret_name: &dyn Fn(&str) -> bool,
) -> Vec<(usize, usize)> {
    let from = from.min(source.len());
    let start = source[..from]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let mut out = Vec::new();
    let mut pending = false;
    let mut offset = start;
    for line in source[start..].split_inclusive(|b| *b == b'\n') {
        let here = offset;
        offset += line.len();
        let pairs = keyed_values(line);
        let mut named = false;
        for &((ks, ke), (vs, ve)) in &pairs {
            let key = String::from_utf8_lossy(&line[ks..ke]);
            let value = String::from_utf8_lossy(&line[vs..ve]);
            let value = value.trim_matches(['"', '\'']);
            if key == "name" && secret_name(value) {
                named = true;
            } else if (key == "value" && (named || pending)) || secret_name(&key) {
                out.push((here + vs, here + ve));
            }
        }
        let has_value = pairs.iter().any(|&((ks, ke), _)| &line[ks..ke] == b"value");
        pending = named && !has_value;
    }
    out
}

/// `key: value` pairs of one line (`- name: X`, `{name: X, value: "y"}`,
/// `"name": "X",`): the key's and the value's byte ranges in the line.
#[allow(clippy::type_complexity)]
fn keyed_values(line: &[u8]) -> Vec<((usize, usize), (usize, usize))> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if !(c.is_ascii_alphabetic() || c == b'_') {
            i += 1;
            continue;
        }
        // A key: a run of name characters (maybe quoted), `:`, a space.
        let ks = i;
        while i < line.len() && (line[i].is_ascii_alphanumeric() || line[i] == b'_') {
            i += 1;
        }
        let ke = i;
        if i < line.len() && matches!(line[i], b'"' | b'\'') {
            i += 1;
        }
        let preceded = ks == 0
            || matches!(
                line[ks - 1],
                b' ' | b'\t' | b'{' | b',' | b'-' | b'"' | b'\''
            );
        let colon =
            line.get(i) == Some(&b':') && line.get(i + 1).is_none_or(|b| b.is_ascii_whitespace());
        if !(preceded && colon) {
            continue;
        }
        i += 1;
        while i < line.len() && line[i] == b' ' {
            i += 1;
        }
        let vs = i;
        let ve = match line.get(vs) {
            Some(&q @ (b'"' | b'\'')) => {
                let mut e = vs + 1;
                while e < line.len() && line[e] != q {
                    e += if line[e] == b'\\' { 2 } else { 1 };
                }
                (e + 1).min(line.len())
            }
            _ => {
                let mut e = vs;
                while e < line.len() && !matches!(line[e], b',' | b'}' | b'\n' | b'\r' | b'#') {
                    e += 1;
                }
                while e > vs && line[e - 1] == b' ' {
                    e -= 1;
                }
                e
            }
        };
        out.push(((ks, ke), (vs, ve)));
        i = ve.max(vs + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_ENV: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: api\n      image: x\n";

    fn masked(yaml: &str) -> String {
        let out = mask_secrets(yaml.as_bytes(), &EnvSpec::default()).expect("something masked");
        assert_eq!(out.len(), yaml.len());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masking_hides_every_secret_and_keeps_positions() {
        let yaml = "env:\n  - {name: JWT_SECRET, value: \"s3cretFlowValue\"}\n  - name: DB_PASS\n    value: blockValue1\n  - value: beforeName1\n    name: API_TOKEN\n  - name: DATABASE_URL\n    value: postgres://app:urlPass1@db/x\n  - name: DSN\n    value: host=db password=dsnPass1\n  - name: PRIVATE_KEY\n    value: |\n      multiLine1\n      multiLine2\ndata:\n  STRIPE_API_KEY: mapValue1\n  SERVICE_NAME: orders\n";
        let out = masked(yaml);
        for secret in [
            "s3cretFlowValue",
            "blockValue1",
            "beforeName1",
            "urlPass1",
            "dsnPass1",
            "multiLine1",
            "multiLine2",
            "mapValue1",
        ] {
            assert!(!out.contains(secret), "{secret} in\n{out}");
        }
        assert_eq!(out.lines().count(), yaml.lines().count());
        assert!(out.contains("name: JWT_SECRET") && out.contains("SERVICE_NAME: orders"));
        assert!(mask_secrets(NO_ENV.as_bytes(), &EnvSpec::default()).is_none());
    }

    #[test]
    fn masking_reaches_past_a_syntax_error_and_json() {
        let yaml = "env:\n  - name: x\n    value: [unclosed\n  - {name: JWT_SECRET, value: afterError1}\n  - name: DB_PASSWORD\n    value: afterError2\n";
        let out = masked(yaml);
        assert!(
            !out.contains("afterError1") && !out.contains("afterError2"),
            "{out}"
        );
        let json = "{\"env\": [\n\t{\"name\": \"JWT_SECRET\",\n\t \"value\": \"jsonSecret1\"}]}\n";
        assert!(!masked(json).contains("jsonSecret1"));
        // Not UTF-8: line by line on the bytes.
        let mut bytes = b"- {name: JWT_SECRET, value: rawSecret1} \xff\n".to_vec();
        let out = mask_secrets(&bytes, &EnvSpec::default()).unwrap();
        assert!(!String::from_utf8_lossy(&out).contains("rawSecret1"));
        bytes.truncate(0);
        assert!(mask_secrets(&bytes, &EnvSpec::default()).is_none());
    }
}
