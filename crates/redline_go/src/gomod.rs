//! A `go.mod` parser: module path, go version, require (single lines and
//! blocks, `// indirect`), replace and exclude, comments.

/// One `require` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub path: String,
    pub version: String,
    pub indirect: bool,
    /// 1-based line.
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoMod {
    pub module: Option<String>,
    /// Byte range of the `module` directive line.
    pub module_span: Option<(usize, usize)>,
    /// `go 1.22` → (1, 22).
    pub go_version: Option<(u32, u32)>,
    pub requires: Vec<Requirement>,
    /// `replace old [v] => new [v]`: the old module paths.
    pub replaced: Vec<String>,
}

impl GoMod {
    /// Whether `path` is required (directly or indirectly).
    pub fn requires(&self, path: &str) -> bool {
        self.requires.iter().any(|r| r.path == path)
    }
}

/// A parse error: 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoModError {
    pub line: usize,
    pub start_byte: usize,
    pub end_byte: usize,
    pub message: String,
}

fn unquote(s: &str) -> String {
    s.trim_matches(|c| c == '"' || c == '`').to_string()
}

/// Parses go.mod text.
pub fn parse_go_mod(source: &str) -> Result<GoMod, GoModError> {
    let mut m = GoMod::default();
    let mut block: Option<String> = None;
    let mut offset = 0usize;
    for (i, raw) in source.split_inclusive('\n').enumerate() {
        let line_no = i + 1;
        let start = offset;
        offset += raw.len();
        let (code, comment) = match raw.find("//") {
            Some(p) => (&raw[..p], &raw[p + 2..]),
            None => (raw, ""),
        };
        let code = code.trim();
        let err = |message: String| GoModError {
            line: line_no,
            start_byte: start,
            end_byte: start + raw.trim_end().len(),
            message,
        };
        if code.is_empty() {
            continue;
        }
        if let Some(b) = &block {
            if code == ")" {
                block = None;
                continue;
            }
            let b = b.clone();
            directive(&mut m, &b, code, comment, line_no).map_err(err)?;
            continue;
        }
        let (verb, rest) = code.split_once(char::is_whitespace).unwrap_or((code, ""));
        let rest = rest.trim();
        if rest == "(" {
            block = Some(verb.to_string());
            continue;
        }
        if verb == "module" {
            m.module = Some(unquote(rest));
            m.module_span = Some((start, start + raw.trim_end().len()));
            continue;
        }
        directive(&mut m, verb, rest, comment, line_no).map_err(err)?;
    }
    if let Some(b) = block {
        return Err(GoModError {
            line: source.lines().count().max(1),
            start_byte: source.len(),
            end_byte: source.len(),
            message: format!("`{b} (` block is not closed with `)`"),
        });
    }
    Ok(m)
}

fn directive(
    m: &mut GoMod,
    verb: &str,
    rest: &str,
    comment: &str,
    line: usize,
) -> Result<(), String> {
    match verb {
        "go" => {
            let mut parts = rest.trim().split('.');
            let major = parts.next().and_then(|p| p.parse().ok());
            let minor = parts
                .next()
                .map(|p| p.trim_end_matches(|c: char| !c.is_ascii_digit()))
                .and_then(|p| p.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|p| p.parse().ok());
            match (major, minor) {
                (Some(a), Some(b)) => m.go_version = Some((a, b)),
                _ => return Err(format!("`go {rest}`: expected a version like `go 1.22`")),
            }
        }
        "require" => {
            let mut parts = rest.split_whitespace();
            let (Some(path), Some(version)) = (parts.next(), parts.next()) else {
                return Err(format!(
                    "`require {rest}`: expected a module path and a version"
                ));
            };
            m.requires.push(Requirement {
                path: unquote(path),
                version: version.to_string(),
                indirect: comment.trim() == "indirect" || comment.trim().starts_with("indirect;"),
                line,
            });
        }
        "replace" => {
            if let Some(old) = rest
                .split("=>")
                .next()
                .and_then(|o| o.split_whitespace().next())
            {
                m.replaced.push(unquote(old));
            } else {
                return Err(format!("`replace {rest}`: expected `old => new`"));
            }
        }
        "exclude" | "retract" | "toolchain" | "godebug" | "tool" | "ignore" => {}
        other => return Err(format!("unknown directive `{other}`")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_comments_and_indirect() {
        let src = "// top comment\nmodule example.com/orders // the service\n\ngo 1.22.3\n\ntoolchain go1.23.1\n\nrequire go.uber.org/zap v1.27.0\n\nrequire (\n\tk8s.io/client-go v0.31.0\n\tgithub.com/x/y v1.0.0 // indirect\n)\n\nreplace k8s.io/api => ../api\n";
        let m = parse_go_mod(src).unwrap();
        assert_eq!(m.module.as_deref(), Some("example.com/orders"));
        assert_eq!(m.go_version, Some((1, 22)));
        assert!(m.requires("go.uber.org/zap"));
        assert!(m.requires("k8s.io/client-go"));
        let y = m
            .requires
            .iter()
            .find(|r| r.path == "github.com/x/y")
            .unwrap();
        assert!(y.indirect);
        assert_eq!(y.line, 12);
        assert_eq!(m.replaced, vec!["k8s.io/api".to_string()]);
        assert_eq!(
            &src[m.module_span.unwrap().0..m.module_span.unwrap().1],
            "module example.com/orders // the service"
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_go_mod("module a\n\nrequire (\n  b\n)\n").unwrap_err();
        assert_eq!(e.line, 4);
        let e = parse_go_mod("module a\nrequire (\n").unwrap_err();
        assert!(e.message.contains("not closed"));
    }
}
