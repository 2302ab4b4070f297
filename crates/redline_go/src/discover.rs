//! Finding the files to check: `.go` sources and candidate manifests, and
//! what counts as test and tool code (README, "Test and tool code").

use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Decides, for an entry below a checked path, whether the walk leaves it
/// out: `(path, is_dir) -> skip`. The driver answers from the
/// configuration that applies to the entry (its `exclude`, its test paths).
pub type EntryFilter = Arc<dyn Fn(&Path, bool) -> bool + Send + Sync>;

#[derive(Clone, Default)]
pub struct DiscoveryOptions {
    /// Globs of paths to leave out (matched against the path as given and
    /// relative to the scan root, e.g. `**/zz_generated*.go`, `internal/legacy/**`).
    pub exclude: Vec<String>,
    /// Also collect `.yaml`, `.yml` and `.json` files (manifest candidates).
    pub manifests: bool,
    /// Leaves out more entries below the checked paths (never a path named
    /// on the command line).
    pub filter: Option<EntryFilter>,
}

impl std::fmt::Debug for DiscoveryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoveryOptions")
            .field("exclude", &self.exclude)
            .field("manifests", &self.manifests)
            .field("filter", &self.filter.is_some())
            .finish()
    }
}

/// The directory names that hold test and tool code by default.
pub const DEFAULT_TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "e2e",
    "testdata",
    "testutil",
    "testutils",
    "hack",
    "_*",
    ".*",
];

/// The build tags that mark test and tool code by default.
pub const DEFAULT_TEST_BUILD_TAGS: &[&str] = &["e2e", "integration", "tools"];

/// What counts as test and tool code, which no rule reports: `_test.go`
/// files, files below a directory whose name matches one of `dirs`, and
/// Go files whose `//go:build` constraint cannot hold without one of
/// `build_tags`.
#[derive(Debug, Clone)]
pub struct TestPaths {
    /// `false`: test code is checked like any other (`check-tests = true`).
    pub skip: bool,
    pub dirs: Vec<String>,
    dir_set: GlobSet,
    pub build_tags: Vec<String>,
}

impl Default for TestPaths {
    fn default() -> Self {
        let dirs: Vec<String> = DEFAULT_TEST_DIRS.iter().map(|s| s.to_string()).collect();
        let tags = DEFAULT_TEST_BUILD_TAGS
            .iter()
            .map(|s| s.to_string())
            .collect();
        TestPaths::new(true, dirs, tags).expect("the default test directory globs are valid")
    }
}

impl TestPaths {
    /// `dirs` are directory names or globs of names (`*_e2e`); `Err` names
    /// the invalid one.
    pub fn new(skip: bool, dirs: Vec<String>, build_tags: Vec<String>) -> Result<Self, String> {
        let mut b = GlobSetBuilder::new();
        for d in &dirs {
            if d.is_empty() || d.contains('/') || d.contains('\\') {
                return Err(format!(
                    "`{d}` is not a directory name (test paths name directories such as `e2e` or `*_e2e`, without `/`)"
                ));
            }
            b.add(Glob::new(d).map_err(|e| format!("invalid test directory glob `{d}`: {e}"))?);
        }
        let dir_set = b
            .build()
            .map_err(|e| format!("invalid test directory globs: {e}"))?;
        Ok(TestPaths {
            skip,
            dirs,
            dir_set,
            build_tags,
        })
    }

    /// Whether a directory entry named `name` below the checked path is
    /// test code.
    pub fn is_test_dir(&self, name: &str) -> bool {
        self.skip && self.dir_set.is_match(name)
    }

    /// Whether the file named `name` is test code by its name (`_test.go`).
    pub fn is_test_file(&self, name: &str) -> bool {
        self.skip && name.ends_with("_test.go")
    }

    /// Whether any directory component of `rel` (a path relative to the
    /// checked path, file name excluded) or its file name marks test code.
    pub fn is_test_path(&self, rel: &Path) -> bool {
        if !self.skip {
            return false;
        }
        let mut components: Vec<&str> = rel
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(s) => s.to_str(),
                _ => None,
            })
            .collect();
        let Some(name) = components.pop() else {
            return false;
        };
        self.is_test_file(name) || components.iter().any(|c| self.is_test_dir(c))
    }

    /// Whether a Go source's build constraint cannot be satisfied without
    /// one of the test build tags (`//go:build e2e`,
    /// `//go:build linux && integration`; not `//go:build !e2e` or
    /// `//go:build e2e || linux`).
    pub fn is_test_source(&self, source: &[u8]) -> bool {
        self.skip
            && !self.build_tags.is_empty()
            && build_constraint(source).is_some_and(|c| needs_one_of(&c, &self.build_tags))
    }
}

/// A file selected for checking.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DiscoveredFile {
    pub path: PathBuf,
    /// Named on the command line: always checked, even if generated.
    pub explicit: bool,
}

#[derive(Debug, Default)]
pub struct Discovered {
    pub go_files: Vec<DiscoveredFile>,
    pub manifest_files: Vec<DiscoveredFile>,
    /// `go.mod` files found in scanned directories (or named explicitly).
    pub go_mod_files: Vec<DiscoveredFile>,
}

fn build_globs(patterns: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p).map_err(|e| format!("invalid exclude glob `{p}`: {e}"))?;
        b.add(glob);
        // `dir/**` should also exclude `dir` itself so the walk prunes it.
        if let Some(stripped) = p.strip_suffix("/**") {
            b.add(Glob::new(stripped).map_err(|e| format!("invalid exclude glob `{p}`: {e}"))?);
        }
    }
    b.build().map_err(|e| format!("invalid exclude globs: {e}"))
}

fn excluded(set: &GlobSet, root: &Path, path: &Path) -> bool {
    if set.is_empty() {
        return false;
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    let rel = rel.strip_prefix("./").unwrap_or(rel);
    set.is_match(rel) || set.is_match(path)
}

/// The extensions of the manifest files `redline check` reads (YAML and
/// JSON), in any case: `Pod.YAML` is a manifest wherever it is found.
pub const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Whether `path` names a manifest file by its extension (any case).
pub fn is_manifest_path(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        MANIFEST_EXTENSIONS
            .iter()
            .any(|m| e.eq_ignore_ascii_case(m))
    })
}

/// Walks `paths` (files or directories). Directories honour `.gitignore`,
/// skip hidden entries and `vendor/`, and whatever `options.filter`
/// leaves out. Errors name the path.
pub fn discover(paths: &[PathBuf], options: &DiscoveryOptions) -> Result<Discovered, String> {
    let globs = build_globs(&options.exclude)?;
    let mut out = Discovered::default();
    for root in paths {
        let meta = std::fs::metadata(root)
            .map_err(|e| format!("{}: {}", root.display(), io_reason(&e)))?;
        // Anything but a directory named on the command line is read as one
        // file: a regular file, and also a FIFO, `/dev/stdin` or `<(…)`,
        // which a walk would skip (never opened during a walk: a FIFO can
        // block forever).
        if !meta.is_dir() {
            let f = DiscoveredFile {
                path: root.clone(),
                explicit: true,
            };
            if root.extension().is_some_and(|e| e == "go") {
                out.go_files.push(f);
            } else if root.file_name().is_some_and(|n| n == "go.mod") {
                out.go_mod_files.push(f);
            } else if is_manifest_path(root) {
                out.manifest_files.push(f);
            } else if !meta.is_file() {
                return Err(format!(
                    "{}: a pipe or device, and its name does not say what it holds; pipe it to standard input and name it, e.g. `redline check --stdin-filename main.go - < {}` (or deploy.yaml, go.mod)",
                    root.display(),
                    root.display()
                ));
            } else {
                return Err(format!(
                    "{}: not a Go (.go), go.mod or manifest (.yaml, .yml, .json) file",
                    root.display()
                ));
            }
            continue;
        }
        type Found = (
            Vec<DiscoveredFile>,
            Vec<DiscoveredFile>,
            Vec<DiscoveredFile>,
            Vec<String>,
        );
        let found: Mutex<Found> = Mutex::new(Default::default());
        let root_for_filter = root.clone();
        let globs_for_filter = globs.clone();
        let extra = options.filter.clone();
        let walker = ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(true)
            .require_git(false)
            .filter_entry(move |e| {
                if e.depth() == 0 {
                    return true;
                }
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                if is_dir && e.file_name() == "vendor" {
                    return false;
                }
                if extra.as_ref().is_some_and(|skip| skip(e.path(), is_dir)) {
                    return false;
                }
                !excluded(&globs_for_filter, &root_for_filter, e.path())
            })
            .build_parallel();
        let manifests = options.manifests;
        walker.run(|| {
            let found = &found;
            Box::new(move |entry| {
                match entry {
                    Ok(e) => {
                        if e.file_type().is_some_and(|t| t.is_file()) {
                            let p = e.into_path();
                            let is_go = p.extension().is_some_and(|x| x == "go");
                            if p.file_name().is_some_and(|n| n == "go.mod") {
                                let mut g = found.lock().unwrap_or_else(|e| e.into_inner());
                                g.2.push(DiscoveredFile {
                                    path: p,
                                    explicit: false,
                                });
                            } else if is_go || (manifests && is_manifest_path(&p)) {
                                let f = DiscoveredFile {
                                    path: p,
                                    explicit: false,
                                };
                                let mut g = found.lock().unwrap_or_else(|e| e.into_inner());
                                if is_go {
                                    g.0.push(f);
                                } else {
                                    g.1.push(f);
                                }
                            }
                        }
                    }
                    Err(err) => {
                        let mut g = found.lock().unwrap_or_else(|e| e.into_inner());
                        g.3.push(err.to_string());
                    }
                }
                ignore::WalkState::Continue
            })
        });
        let (go, yaml, go_mod, errors) = found.into_inner().unwrap_or_else(|e| e.into_inner());
        if let Some(err) = errors.into_iter().next() {
            return Err(err);
        }
        out.go_files.extend(go);
        out.manifest_files.extend(yaml);
        out.go_mod_files.extend(go_mod);
    }
    for files in [
        &mut out.go_files,
        &mut out.manifest_files,
        &mut out.go_mod_files,
    ] {
        files.sort();
        // A file both named and found in a named directory stays explicit.
        files.dedup_by(|later, kept| {
            let same = later.path == kept.path;
            if same {
                kept.explicit |= later.explicit;
            }
            same
        });
    }
    Ok(out)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Go's rule for generated files: a line `// Code generated ... DO NOT EDIT.`
/// before the package clause.
pub fn is_generated(source: &[u8]) -> bool {
    // Go ignores a UTF-8 byte order mark at the start of a file.
    let source = source.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(source);
    for line in source.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"package ") || line == b"package" {
            return false;
        }
        if line.starts_with(b"// Code generated ") && line.ends_with(b" DO NOT EDIT.") {
            return true;
        }
    }
    false
}

/// A build constraint: Go's `//go:build` expression language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    Tag(String),
    Not(Box<Constraint>),
    And(Box<Constraint>, Box<Constraint>),
    Or(Box<Constraint>, Box<Constraint>),
}

impl Constraint {
    fn eval(&self, set: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Constraint::Tag(t) => set(t),
            Constraint::Not(c) => !c.eval(set),
            Constraint::And(a, b) => a.eval(set) && b.eval(set),
            Constraint::Or(a, b) => a.eval(set) || b.eval(set),
        }
    }

    fn tags<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Constraint::Tag(t) => {
                if !out.contains(&t.as_str()) {
                    out.push(t);
                }
            }
            Constraint::Not(c) => c.tags(out),
            Constraint::And(a, b) | Constraint::Or(a, b) => {
                a.tags(out);
                b.tags(out);
            }
        }
    }
}

/// The build constraint of a Go file: its `//go:build` line, else the
/// conjunction of its legacy `// +build` lines, from the comments before
/// the package clause. `None` when there is none or it does not parse
/// (then the file is not judged by it).
pub fn build_constraint(source: &[u8]) -> Option<Constraint> {
    let mut plus: Option<Constraint> = None;
    let mut in_block = false;
    for line in source.split(|b| *b == b'\n') {
        let line = std::str::from_utf8(line).ok()?.trim();
        if in_block {
            if let Some(end) = line.find("*/") {
                in_block = false;
                if !line[end + 2..].trim().is_empty() {
                    break;
                }
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if let Some(expr) = line.strip_prefix("//go:build") {
            if !expr.is_empty() && !expr.starts_with([' ', '\t']) {
                continue;
            }
            return parse_expr(expr);
        }
        if let Some(rest) = line.strip_prefix("// +build") {
            if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
                continue;
            }
            let c = parse_plus_build(rest)?;
            plus = Some(match plus {
                Some(p) => Constraint::And(Box::new(p), Box::new(c)),
                None => c,
            });
            continue;
        }
        if line.starts_with("//") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("/*") {
            in_block = !rest.contains("*/");
            continue;
        }
        break;
    }
    plus
}

/// `// +build a,b !c`: spaces are OR, commas AND.
fn parse_plus_build(rest: &str) -> Option<Constraint> {
    let mut or: Option<Constraint> = None;
    for option in rest.split_whitespace() {
        let mut and: Option<Constraint> = None;
        for term in option.split(',') {
            let (neg, name) = match term.strip_prefix('!') {
                Some(n) => (true, n),
                None => (false, term),
            };
            if name.is_empty() || !name.bytes().all(is_tag_byte) {
                return None;
            }
            let mut c = Constraint::Tag(name.to_string());
            if neg {
                c = Constraint::Not(Box::new(c));
            }
            and = Some(match and {
                Some(a) => Constraint::And(Box::new(a), Box::new(c)),
                None => c,
            });
        }
        let and = and?;
        or = Some(match or {
            Some(o) => Constraint::Or(Box::new(o), Box::new(and)),
            None => and,
        });
    }
    or
}

fn is_tag_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

/// Parses a `//go:build` expression (`||`, `&&`, `!`, parentheses, tags).
pub fn parse_expr(text: &str) -> Option<Constraint> {
    let mut p = ExprParser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let c = p.or()?;
    p.space();
    (p.i == p.s.len()).then_some(c)
}

struct ExprParser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl ExprParser<'_> {
    fn space(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, tok: &[u8]) -> bool {
        self.space();
        if self.s[self.i..].starts_with(tok) {
            self.i += tok.len();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Option<Constraint> {
        let mut left = self.and()?;
        while self.eat(b"||") {
            left = Constraint::Or(Box::new(left), Box::new(self.and()?));
        }
        Some(left)
    }

    fn and(&mut self) -> Option<Constraint> {
        let mut left = self.not()?;
        while self.eat(b"&&") {
            left = Constraint::And(Box::new(left), Box::new(self.not()?));
        }
        Some(left)
    }

    fn not(&mut self) -> Option<Constraint> {
        // Bounded nesting: a hostile header cannot overflow the stack.
        self.depth += 1;
        if self.depth > 64 {
            return None;
        }
        let c = if self.eat(b"!") {
            Constraint::Not(Box::new(self.not()?))
        } else if self.eat(b"(") {
            let c = self.or()?;
            if !self.eat(b")") {
                return None;
            }
            c
        } else {
            self.space();
            let start = self.i;
            while self.s.get(self.i).copied().is_some_and(is_tag_byte) {
                self.i += 1;
            }
            if start == self.i {
                return None;
            }
            Constraint::Tag(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
        };
        self.depth -= 1;
        Some(c)
    }
}

/// Whether `c` is false whenever every tag of `needed` is unset, whatever
/// the other tags are: the file builds only with one of them. Constraints
/// over more than 16 other tags are assumed satisfiable.
fn needs_one_of(c: &Constraint, needed: &[String]) -> bool {
    let mut tags = Vec::new();
    c.tags(&mut tags);
    let free: Vec<&str> = tags
        .into_iter()
        .filter(|t| !needed.iter().any(|n| n == t))
        .collect();
    if free.len() > 16 {
        return false;
    }
    for bits in 0u32..(1u32 << free.len()) {
        let set = |t: &str| {
            free.iter()
                .position(|f| *f == t)
                .is_some_and(|i| bits & (1 << i) != 0)
        };
        if c.eval(&set) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_marker_must_precede_package_clause() {
        assert!(is_generated(
            b"// Code generated by protoc-gen-go. DO NOT EDIT.\n\npackage p\n"
        ));
        assert!(is_generated(
            b"// +build linux\n// Code generated by x. DO NOT EDIT.\r\npackage p\n"
        ));
        assert!(!is_generated(
            b"package p\n// Code generated by x. DO NOT EDIT.\n"
        ));
        // A byte order mark before the marker.
        assert!(is_generated(
            b"\xEF\xBB\xBF// Code generated by x. DO NOT EDIT.\n\npackage p\n"
        ));
        assert!(!is_generated(
            b"// Code generated by x. Do not edit.\npackage p\n"
        ));
    }

    #[test]
    fn build_tags_that_mark_test_code() {
        let t = TestPaths::default();
        let skipped = |src: &str| t.is_test_source(src.as_bytes());
        assert!(skipped("//go:build e2e\n\npackage p\n"));
        assert!(skipped(
            "// Copyright\n\n//go:build linux && integration\npackage p\n"
        ));
        assert!(skipped(
            "/* licence\n */\n//go:build tools\npackage tools\n"
        ));
        assert!(skipped(
            "//go:build (e2e || integration) && !windows\npackage p\n"
        ));
        assert!(skipped("// +build e2e\n\npackage p\n"));
        assert!(!skipped("//go:build !e2e\npackage p\n"));
        assert!(!skipped("//go:build e2e || linux\npackage p\n"));
        assert!(!skipped("//go:build linux\npackage p\n"));
        assert!(!skipped("package p\n//go:build e2e\n"));
        assert!(!skipped("//go:build e2eish\npackage p\n"));
        assert!(
            !skipped("//go:build e2e &&\npackage p\n"),
            "unparsable: not judged"
        );
        assert!(!skipped("// +build e2e linux\npackage p\n"));
        let off = TestPaths::new(false, vec![], vec!["e2e".into()]).unwrap();
        assert!(!off.is_test_source(b"//go:build e2e\npackage p\n"));
        let deep = format!(
            "//go:build {}e2e{}\npackage p\n",
            "(".repeat(500),
            ")".repeat(500)
        );
        assert!(!skipped(&deep), "too deep to judge, and no stack overflow");
    }

    #[test]
    fn test_directories_and_files() {
        let t = TestPaths::default();
        for rel in [
            "a/test/x.go",
            "hack/tools.go",
            "e2e/x.yaml",
            "_out/x.go",
            "pkg/x_test.go",
            "a/testutils/b/c.go",
            "testdata/x.go",
        ] {
            assert!(t.is_test_path(Path::new(rel)), "{rel}");
        }
        for rel in [
            "x.go",
            "testing/x.go",
            "pkg/contest/x.go",
            "hacks/x.go",
            "test.go",
            "e2e.yaml",
        ] {
            assert!(!t.is_test_path(Path::new(rel)), "{rel}");
        }
        let custom = TestPaths::new(true, vec!["fake*".into()], vec![]).unwrap();
        assert!(custom.is_test_path(Path::new("fakeclient/x.go")));
        assert!(!custom.is_test_path(Path::new("hack/x.go")));
        assert!(TestPaths::new(true, vec!["a/b".into()], vec![]).is_err());
    }
}
