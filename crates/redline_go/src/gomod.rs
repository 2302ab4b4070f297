//! The one `go.mod` reader: module path, go version, require (single
//! lines and blocks, `// indirect`), replace and exclude, comments; and
//! [`GoVersion`], the one parser of Go versions (go.mod's `go` directive,
//! `go-version` in redline.toml, a binary's build information).

use std::fmt;

/// A Go language version: `1.25` of `go 1.25.3`, `1.25rc1` or `go1.25`.
/// Only the major and minor numbers decide anything redline checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoVersion {
    pub major: u32,
    pub minor: u32,
}

impl GoVersion {
    pub const fn new(major: u32, minor: u32) -> GoVersion {
        GoVersion { major, minor }
    }

    /// `1.25`, `1.25.3`, `1.25rc1`, `1.26beta2`, with or without a `go`
    /// prefix (`go1.25`): the major number, a dot, and the minor number's
    /// leading digits. `None` for anything else (`1`, `x`, `1.x`).
    pub fn parse(text: &str) -> Option<GoVersion> {
        let t = text.trim();
        let t = t.strip_prefix("go").unwrap_or(t);
        let (major, rest) = t.split_once('.')?;
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        Some(GoVersion {
            major: major.parse().ok()?,
            minor: rest[..digits].parse().ok()?,
        })
    }

    /// The first `go1.N` in a longer text, as a toolchain reports itself
    /// (`go1.25.3`, `devel go1.26-abc Tue …`).
    pub fn find(text: &str) -> Option<GoVersion> {
        let start = text.find("go1.")?;
        GoVersion::parse(&text[start..])
    }
}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

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
    /// `go 1.22.3` → 1.22.
    pub go_version: Option<GoVersion>,
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

/// Parses go.mod text; the first line that does not parse is the error.
pub fn parse_go_mod(source: &str) -> Result<GoMod, GoModError> {
    let (m, errors) = read_go_mod(source);
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(m),
    }
}

/// Reads what it can of go.mod text: the lines that parse, and an error
/// for each one that does not (in order). Facts about a module (its Go
/// version, whether it requires a module) come from here even when a
/// directive is unknown to this reader.
pub fn read_go_mod(source: &str) -> (GoMod, Vec<GoModError>) {
    let mut m = GoMod::default();
    let mut errors = Vec::new();
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
            if let Err(e) = directive(&mut m, &b, code, comment, line_no) {
                errors.push(err(e));
            }
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
        if let Err(e) = directive(&mut m, verb, rest, comment, line_no) {
            errors.push(err(e));
        }
    }
    if let Some(b) = block {
        errors.push(GoModError {
            line: source.lines().count().max(1),
            start_byte: source.len(),
            end_byte: source.len(),
            message: format!("`{b} (` block is not closed with `)`"),
        });
    }
    (m, errors)
}

fn directive(
    m: &mut GoMod,
    verb: &str,
    rest: &str,
    comment: &str,
    line: usize,
) -> Result<(), String> {
    match verb {
        "go" => match GoVersion::parse(rest) {
            Some(v) => m.go_version = Some(v),
            None => return Err(format!("`go {rest}`: expected a version like `go 1.22`")),
        },
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
        assert_eq!(m.go_version, Some(GoVersion::new(1, 22)));
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

    #[test]
    fn a_bad_line_is_an_error_and_the_rest_is_still_read() {
        let src = "module a\nfrobnicate x\ngo 1.24\nrequire go.uber.org/automaxprocs v1.6.0\n";
        let (m, errors) = read_go_mod(src);
        assert_eq!(m.go_version, Some(GoVersion::new(1, 24)));
        assert!(m.requires("go.uber.org/automaxprocs"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 2);
        assert_eq!(parse_go_mod(src).unwrap_err(), errors[0]);
    }

    #[test]
    fn go_versions_in_every_spelling() {
        let v = GoVersion::new;
        for (text, want) in [
            ("1.25", Some(v(1, 25))),
            ("1.25.3", Some(v(1, 25))),
            ("1.25rc1", Some(v(1, 25))),
            ("1.26beta2", Some(v(1, 26))),
            ("go1.9", Some(v(1, 9))),
            (" 1.22 ", Some(v(1, 22))),
            ("1", None),
            ("1.", None),
            ("1.x", None),
            ("x", None),
            ("", None),
        ] {
            assert_eq!(GoVersion::parse(text), want, "{text:?}");
        }
        assert_eq!(GoVersion::find("devel go1.26-abc Tue"), Some(v(1, 26)));
        assert_eq!(GoVersion::find("go1.25.0"), Some(v(1, 25)));
        assert_eq!(GoVersion::find("gccgo"), None);
        assert!(v(1, 25) > v(1, 9) && v(2, 0) > v(1, 99));
        assert_eq!(v(1, 25).to_string(), "1.25");
    }
}
