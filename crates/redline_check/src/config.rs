//! `redline.toml`: discovery and the settings of `redline check`. Like
//! ruff, `check` finds the configuration per checked file ([`Configs`]):
//! the nearest `redline.toml` in the file's directory or an ancestor, up to
//! the repository root (the directory holding `.git`); `--config FILE`
//! overrides. Each file is read and parsed once ([`redline_config::Document`]):
//! the tables owned by other crates (`[env]`, `[manifests]`, `[helm]`,
//! `[kustomize]`, `[slo]`) are handed to them from the same document
//! ([`Config::document`]).

use globset::{Glob, GlobSet, GlobSetBuilder};
use redline_config::{Document, Spanned};
use redline_diagnostics::Severity;
use redline_go::{GoVersion, TestPaths};
use redline_rules::{ALL_RULES, RuleMeta, RuleSelector, Settings, find_rule};
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use redline_config::{FILE_NAME, discover};

/// When a run fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

impl FailOn {
    pub fn parse(s: &str) -> Result<FailOn, String> {
        match s {
            "error" => Ok(FailOn::Error),
            "warning" => Ok(FailOn::Warning),
            "info" => Ok(FailOn::Info),
            "never" => Ok(FailOn::Never),
            other => Err(format!(
                "unknown fail-on level `{other}` (expected error, warning, info or never)"
            )),
        }
    }

    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Info => true,
            FailOn::Never => false,
        }
    }
}

/// The effective configuration of a run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    pub select: Vec<RuleSelector>,
    pub ignore: Vec<RuleSelector>,
    /// Globs relative to `dir` (the directory of the file that sets them).
    pub exclude: Vec<String>,
    exclude_set: GlobSet,
    /// The directory of the configuration file (absolute), if any.
    pub dir: Option<PathBuf>,
    /// What counts as test and tool code (`check-tests`, `test-paths`,
    /// `extend-test-paths`, `test-build-tags`).
    pub tests: TestPaths,
    pub fail_on: FailOn,
    /// `go-version`: replaces every go.mod's `go` directive (RL701).
    pub go_version: Option<GoVersion>,
    pub severity: BTreeMap<&'static str, Severity>,
    pub settings: Settings,
    /// Inputs larger than this many bytes are not parsed (RL000 says so).
    pub max_file_size: u64,
    /// The file's every table, as read (`None`: the defaults).
    pub document: Option<Arc<Document>>,
}

/// The default of `max-file-size`: 8 MiB. The largest hand-written Go
/// files of the field trees are under 1 MiB, and parsing costs about 60
/// bytes of memory per byte of Go.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 8 << 20;

/// A size: a number of bytes, or a string such as `"16MiB"`, `"500kB"`,
/// `"2 GB"` (k/M/G: powers of 1000; Ki/Mi/Gi: of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 8388608, \"8MiB\" or \"500kB\""))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "ki" | "kib" => 1 << 10,
        "mi" | "mib" => 1 << 20,
        "gi" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "`{s}`: unknown unit `{}` (use B, kB, MB, GB, KiB, MiB or GiB)",
                unit.trim()
            ));
        }
    };
    match n.checked_mul(mult) {
        Some(0) | None => Err(format!("`{s}` must be a size above 0 and below 16 EiB")),
        Some(v) => Ok(v),
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            select: vec![RuleSelector::parse("ALL").expect("ALL is a selector")],
            ignore: Vec::new(),
            exclude: Vec::new(),
            exclude_set: GlobSet::empty(),
            dir: None,
            tests: TestPaths::default(),
            fail_on: FailOn::Warning,
            go_version: None,
            severity: BTreeMap::new(),
            settings: Settings::default(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            document: None,
        }
    }
}

impl Config {
    /// Whether a rule is enabled by select/ignore. Rules that need
    /// configuration are enabled only when configured.
    pub fn enabled(&self, rule: &RuleMeta) -> bool {
        if rule.id == "RL000" {
            return true;
        }
        self.select.iter().any(|s| s.matches(rule)) && !self.ignore.iter().any(|s| s.matches(rule))
    }

    pub fn severity_of(&self, rule: &RuleMeta) -> Severity {
        self.severity.get(rule.id).copied().unwrap_or(rule.severity)
    }

    /// Whether `path` (absolute, normalized) matches this file's `exclude`
    /// patterns, which are relative to the file's directory.
    pub fn excludes(&self, path: &Path) -> bool {
        if self.exclude_set.is_empty() {
            return false;
        }
        let rel = self
            .dir
            .as_deref()
            .and_then(|d| path.strip_prefix(d).ok())
            .unwrap_or(path);
        self.exclude_set.is_match(rel) || self.exclude_set.is_match(path)
    }
}

/// `path` made absolute against `cwd`, with `.` and `..` resolved
/// lexically.
pub fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.file_name().is_some() {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// What the command line changes in every configuration it applies to.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--select`: replaces each file's `select` when non-empty.
    pub select: Vec<RuleSelector>,
    /// `--ignore`: added to each file's `ignore`.
    pub ignore: Vec<RuleSelector>,
    /// `--fail-on`.
    pub fail_on: Option<FailOn>,
    /// `--max-file-size`.
    pub max_file_size: Option<u64>,
    /// `--exclude`: globs matched against paths as given and relative to
    /// the checked path (and, for `--stdin-filename`, the working directory).
    pub exclude: Vec<String>,
}

impl Overrides {
    fn apply(&self, mut config: Config) -> Config {
        if !self.select.is_empty() {
            config.select = self.select.clone();
        }
        config.ignore.extend(self.ignore.iter().cloned());
        if let Some(f) = self.fail_on {
            config.fail_on = f;
        }
        if let Some(size) = self.max_file_size {
            config.max_file_size = size;
        }
        config
    }
}

/// The configurations of one `check` run: one file for everything
/// (`--config`, or the defaults with `--isolated`), or the nearest
/// `redline.toml` of each checked file, each read once.
pub struct Configs {
    fixed: Option<Arc<Config>>,
    overrides: Overrides,
    cwd: PathBuf,
    default: Arc<Config>,
    /// Directory (absolute) → the configuration that applies in it.
    by_dir: Mutex<HashMap<PathBuf, Arc<Config>>>,
    /// Configuration file → its loaded contents, or why it does not load
    /// (each file is read once, also when it is broken).
    by_file: Mutex<HashMap<PathBuf, Result<Arc<Config>, String>>>,
    /// The first configuration file that did not load.
    error: Mutex<Option<String>>,
    cli_exclude: GlobSet,
}

impl Configs {
    /// One configuration for every file.
    pub fn fixed(mut config: Config, overrides: Overrides, cwd: &Path) -> Configs {
        if let Some(p) = &config.path {
            let abs = absolute(p, cwd);
            config.dir = abs.parent().map(Path::to_path_buf);
        }
        let config = Arc::new(overrides.apply(config));
        Configs {
            default: config.clone(),
            fixed: Some(config),
            overrides,
            cwd: cwd.to_path_buf(),
            by_dir: Mutex::default(),
            by_file: Mutex::default(),
            error: Mutex::default(),
            cli_exclude: GlobSet::empty(),
        }
    }

    /// The nearest `redline.toml` of each file.
    pub fn discover(overrides: Overrides, cwd: &Path) -> Configs {
        Configs {
            default: Arc::new(overrides.apply(Config::default())),
            fixed: None,
            overrides,
            cwd: cwd.to_path_buf(),
            by_dir: Mutex::default(),
            by_file: Mutex::default(),
            error: Mutex::default(),
            cli_exclude: GlobSet::empty(),
        }
    }

    /// Compiles `--exclude` (`Err` names the bad glob).
    pub fn with_cli_exclude(mut self) -> Result<Configs, String> {
        self.cli_exclude = exclude_globs(Path::new("--exclude"), &self.overrides.exclude)?;
        Ok(self)
    }

    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// `--exclude`, for discovery.
    pub fn cli_exclude(&self) -> &[String] {
        &self.overrides.exclude
    }

    /// Whether a path given as `--stdin-filename` is excluded: by
    /// `--exclude` or by the `exclude` of its configuration.
    pub fn stdin_excluded(&self, path: &Path) -> Result<Option<String>, String> {
        let abs = absolute(path, &self.cwd);
        let rel = abs.strip_prefix(&self.cwd).unwrap_or(&abs);
        if self.cli_exclude.is_match(path) || self.cli_exclude.is_match(rel) {
            return Ok(Some("--exclude".to_string()));
        }
        let config = self.for_file(path)?;
        Ok(config.excludes(&abs).then(|| {
            let file = config
                .path
                .as_deref()
                .map(|p| p.strip_prefix(&self.cwd).unwrap_or(p).display().to_string())
                .unwrap_or_else(|| FILE_NAME.to_string());
            format!("`exclude` in {file}")
        }))
    }

    /// The configuration of files in directory `dir`. A file that does not
    /// load is an error (kept for [`Configs::error`] too).
    pub fn for_dir(&self, dir: &Path) -> Result<Arc<Config>, String> {
        if let Some(c) = &self.fixed {
            return Ok(c.clone());
        }
        let dir = absolute(dir, &self.cwd);
        self.lookup(&dir)
    }

    /// The configuration of the file `path`.
    pub fn for_file(&self, path: &Path) -> Result<Arc<Config>, String> {
        if let Some(c) = &self.fixed {
            return Ok(c.clone());
        }
        let abs = absolute(path, &self.cwd);
        match abs.parent() {
            Some(dir) => self.lookup(dir),
            None => Ok(self.default.clone()),
        }
    }

    /// The configuration of a path named on the command line: a
    /// directory's own, a file's directory's.
    pub fn for_path(&self, path: &Path) -> Result<Arc<Config>, String> {
        if path.is_dir() {
            self.for_dir(path)
        } else {
            self.for_file(path)
        }
    }

    /// The first configuration file that failed to load, if any.
    pub fn error(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn lookup(&self, dir: &Path) -> Result<Arc<Config>, String> {
        if let Some(c) = self
            .by_dir
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(dir)
        {
            return Ok(c.clone());
        }
        // The same search as [`discover`], one directory at a time, each
        // directory's answer remembered.
        let config = match redline_config::step(dir) {
            redline_config::Step::Found(file) => self.load_file(&file)?,
            redline_config::Step::RepositoryRoot => self.default.clone(),
            redline_config::Step::Up => match dir.parent() {
                Some(parent) => self.lookup(parent)?,
                None => self.default.clone(),
            },
        };
        self.by_dir
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(dir.to_path_buf(), config.clone());
        Ok(config)
    }

    fn load_file(&self, path: &Path) -> Result<Arc<Config>, String> {
        if let Some(c) = self
            .by_file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
        {
            return c.clone();
        }
        let shown = match path.strip_prefix(&self.cwd) {
            Ok(rel) => rel.to_path_buf(),
            Err(_) => path.to_path_buf(),
        };
        // Read from the absolute path (the process's working directory need
        // not be `cwd`: the language server, a base revision's checkout);
        // errors name it as the user sees it.
        let loaded = Document::load_as(path, &shown.display().to_string())
            .and_then(|doc| from_document(Arc::new(doc)))
            .map(|mut c| {
                c.dir = path.parent().map(Path::to_path_buf);
                Arc::new(self.overrides.apply(c))
            });
        if let Err(e) = &loaded {
            let mut first = self.error.lock().unwrap_or_else(|e| e.into_inner());
            if first.is_none() {
                *first = Some(e.clone());
            }
        }
        self.by_file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf(), loaded.clone());
        loaded
    }
}

/// Loads a configuration file. Errors name the file, line and column.
pub fn load(path: &Path) -> Result<Config, String> {
    from_document(Arc::new(Document::load(path)?))
}

/// Compiles `exclude` patterns; `dir/**` also matches `dir` itself, so the
/// walk prunes it.
fn exclude_globs(path: &Path, patterns: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let bad =
            |e: globset::Error| format!("{}: `exclude`: invalid glob `{p}`: {e}", path.display());
        let p = p.strip_prefix("./").unwrap_or(p);
        b.add(Glob::new(p).map_err(bad)?);
        if let Some(stripped) = p.strip_suffix("/**") {
            b.add(Glob::new(stripped).map_err(bad)?);
        }
    }
    b.build()
        .map_err(|e| format!("{}: `exclude`: {e}", path.display()))
}

/// The configuration of `text`, the contents of `path`.
pub fn parse(path: &Path, text: &str) -> Result<Config, String> {
    let shown = path.display().to_string();
    from_document(Arc::new(Document::parse(path, &shown, text.to_string())?))
}

/// The settings of `redline check` in `doc`; the document itself is kept
/// for the tables of the manifest rules and rendering.
pub fn from_document(doc: Arc<Document>) -> Result<Config, String> {
    let raw = doc.tables();
    // Errors name the file as the user sees it.
    let shown = Path::new(doc.display());
    let at = |offset: usize, message: String| doc.error_at(offset, message);
    let mut config = Config {
        path: Some(doc.path().to_path_buf()),
        ..Config::default()
    };
    let selectors = |list: &[Spanned<String>], key: &str| -> Result<Vec<RuleSelector>, String> {
        list.iter()
            .map(|s| {
                RuleSelector::parse(s.get_ref())
                    .map_err(|e| at(s.span().start, format!("`{key}`: {e}")))
            })
            .collect()
    };
    if let Some(select) = &raw.select {
        config.select = selectors(select, "select")?;
    }
    if let Some(ignore) = &raw.ignore {
        config.ignore = selectors(ignore, "ignore")?;
    }
    if let Some(exclude) = &raw.exclude {
        config.exclude_set = exclude_globs(shown, exclude)?;
        config.exclude = exclude.clone();
    }
    if raw.check_tests.is_some()
        || raw.test_paths.is_some()
        || raw.extend_test_paths.is_some()
        || raw.test_build_tags.is_some()
    {
        let defaults = TestPaths::default();
        let mut dirs = raw.test_paths.clone().unwrap_or(defaults.dirs);
        dirs.extend(raw.extend_test_paths.iter().flatten().cloned());
        let tags = raw.test_build_tags.clone().unwrap_or(defaults.build_tags);
        config.tests = TestPaths::new(!raw.check_tests.unwrap_or(false), dirs, tags)
            .map_err(|e| format!("{}: `test-paths`: {e}", shown.display()))?;
    }
    if let Some(f) = &raw.fail_on {
        config.fail_on = FailOn::parse(f.get_ref())
            .map_err(|e| at(f.span().start, format!("`fail-on`: {e}")))?;
    }
    if let Some(v) = &raw.go_version {
        let version = GoVersion::parse(v.get_ref()).ok_or_else(|| {
            at(
                v.span().start,
                format!(
                    "`go-version`: `{}` is not a Go version like \"1.24\"",
                    v.get_ref()
                ),
            )
        })?;
        config.go_version = Some(version);
    }
    if let Some(mods) = &raw.required_modules {
        config.settings.required_modules = mods.clone();
    }
    if let Some(sev) = &raw.severity {
        for (key, value) in sev {
            let rule = find_rule(key.get_ref()).ok_or_else(|| {
                at(
                    key.span().start,
                    format!(
                        "`severity`: unknown rule `{}` (see `redline rules`)",
                        key.get_ref()
                    ),
                )
            })?;
            let level: Severity = value.get_ref().parse().map_err(|e| {
                at(
                    value.span().start,
                    format!("`severity.{}`: {e}", key.get_ref()),
                )
            })?;
            config.severity.insert(rule.id, level);
        }
    }
    if let Some(rules) = &raw.rules
        && let Some(std_log) = &rules.std_log
    {
        config.settings.banned_imports = std_log.banned_imports.clone();
    }
    if let Some(v) = &raw.max_file_size {
        let parsed = match v.get_ref() {
            toml::Value::Integer(n) if *n > 0 => Ok(*n as u64),
            toml::Value::String(s) => parse_size(s),
            other => Err(format!("`{other}` is not a size like 8388608 or \"8MiB\"")),
        };
        config.max_file_size =
            parsed.map_err(|e| at(v.span().start, format!("`max-file-size`: {e}")))?;
    }
    config.document = Some(doc.clone());
    Ok(config)
}

/// Every rule id, for messages.
#[allow(dead_code)]
pub fn rule_ids() -> Vec<&'static str> {
    ALL_RULES.iter().map(|r| r.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_line() {
        let err = parse(
            Path::new("redline.toml"),
            "select = [\"RL101\"]\n\nfail_onn = \"x\"\n",
        )
        .unwrap_err();
        assert!(err.starts_with("redline.toml:3:1:"), "{err}");
        assert!(err.contains("fail_onn"), "{err}");
    }

    #[test]
    fn unknown_rule_names_line() {
        let err = parse(
            Path::new("r.toml"),
            "ignore = [\n  \"RL101\",\n  \"RL999\",\n]\n",
        )
        .unwrap_err();
        assert!(err.starts_with("r.toml:3:3:"), "{err}");
        assert!(err.contains("RL999"), "{err}");
        let err = parse(Path::new("r.toml"), "[severity]\nnope = \"error\"\n").unwrap_err();
        assert!(err.starts_with("r.toml:2:1:"), "{err}");
    }

    #[test]
    fn test_paths_and_exclude_are_read() {
        let mut c = parse(
            Path::new("sub/redline.toml"),
            "exclude = [\"gen/**\"]\ntest-paths = [\"e2e\"]\nextend-test-paths = [\"fake*\"]\n",
        )
        .unwrap();
        c.dir = Some(PathBuf::from("/repo/sub"));
        assert!(c.excludes(Path::new("/repo/sub/gen")));
        assert!(c.excludes(Path::new("/repo/sub/gen/x.go")));
        assert!(!c.excludes(Path::new("/repo/gen/x.go")), "relative to sub/");
        assert!(c.tests.is_test_dir("e2e") && c.tests.is_test_dir("fakeclient"));
        assert!(!c.tests.is_test_dir("hack"), "the list was replaced");
        let c = parse(Path::new("r.toml"), "check-tests = true\n").unwrap();
        assert!(!c.tests.is_test_dir("hack") && !c.tests.is_test_file("x_test.go"));
        assert!(Config::default().tests.is_test_dir("hack"));
        let err = parse(Path::new("r.toml"), "test-paths = [\"a/b\"]\n").unwrap_err();
        assert!(
            err.starts_with("r.toml: `test-paths`") && err.contains("a/b"),
            "{err}"
        );
    }

    #[test]
    fn absolute_resolves_dots_lexically() {
        let cwd = Path::new("/repo/sub");
        assert_eq!(absolute(Path::new(".."), cwd), PathBuf::from("/repo"));
        assert_eq!(
            absolute(Path::new("./a/../b"), cwd),
            PathBuf::from("/repo/sub/b")
        );
        assert_eq!(absolute(Path::new("/x/./y"), cwd), PathBuf::from("/x/y"));
        assert_eq!(absolute(Path::new("../../../.."), cwd), PathBuf::from("/"));
    }

    #[test]
    fn settings_apply() {
        let c = parse(
            Path::new("r.toml"),
            "select = [\"RL4\"]\nfail-on = \"error\"\n[severity]\nerror-as-string = \"error\"\n[rules.std-log]\nbanned-imports = [\"log\", \"github.com/sirupsen/logrus\"]\n[env.FOO]\nrequired = true\n",
        )
        .unwrap();
        assert!(c.enabled(find_rule("RL401").unwrap()));
        assert!(!c.enabled(find_rule("RL101").unwrap()));
        assert_eq!(c.severity_of(find_rule("RL402").unwrap()), Severity::Error);
        assert_eq!(c.fail_on, FailOn::Error);
        assert_eq!(c.settings.banned_imports.len(), 2);
    }

    #[test]
    fn go_version_is_read_as_go_writes_it() {
        let version = |v: &str| {
            parse(Path::new("r.toml"), &format!("\ngo-version = \"{v}\"\n")).map(|c| c.go_version)
        };
        for v in ["1.24", "1.24.3", "1.25rc1", "go1.25"] {
            let want = if v.contains("25") { (1, 25) } else { (1, 24) };
            assert_eq!(
                version(v).unwrap(),
                Some(GoVersion::new(want.0, want.1)),
                "{v}"
            );
        }
        for bad in ["latest", "1", "1.x", ""] {
            let err = version(bad).unwrap_err();
            assert!(
                err.starts_with("r.toml:2:14: `go-version`") && err.contains("like \"1.24\""),
                "{err}"
            );
        }
    }

    #[test]
    fn max_file_size_takes_bytes_or_units() {
        let size = |t: &str| parse(Path::new("r.toml"), t).map(|c| c.max_file_size);
        assert_eq!(size("").unwrap(), DEFAULT_MAX_FILE_SIZE);
        assert_eq!(size("max-file-size = 1000\n").unwrap(), 1000);
        assert_eq!(size("max-file-size = \"16MiB\"\n").unwrap(), 16 << 20);
        assert_eq!(size("max-file-size = \"2 MB\"\n").unwrap(), 2_000_000);
        for bad in [
            "0",
            "-1",
            "\"lots\"",
            "\"5 parsecs\"",
            "\"99999999999 GiB\"",
        ] {
            let err = size(&format!("\n\nmax-file-size = {bad}\n")).unwrap_err();
            assert!(err.starts_with("r.toml:3:"), "{err}");
            assert!(err.contains("max-file-size"), "{err}");
        }
    }
}
