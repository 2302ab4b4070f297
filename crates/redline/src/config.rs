//! `redline.toml`: discovery (walking up from the working directory, or
//! `--config FILE`) and the settings of `redline check`. Sections owned by
//! other crates (`[env]`, `[logs]`, `[manifests]`, `[slo]`) are read by
//! those crates from the same file; here they are only allowed.

use redline_diagnostics::{LineIndex, Severity};
use redline_rules::{ALL_RULES, RuleMeta, RuleSelector, Settings, find_rule};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

pub const FILE_NAME: &str = "redline.toml";

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

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    exclude: Option<Vec<String>>,
    fail_on: Option<Spanned<String>>,
    go_version: Option<Spanned<String>>,
    required_modules: Option<Vec<String>>,
    severity: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    rules: Option<RawRules>,
    max_file_size: Option<Spanned<toml::Value>>,
    // Owned by other crates, which read them from the same file.
    env: Option<toml::Value>,
    logs: Option<toml::Value>,
    manifests: Option<toml::Value>,
    slo: Option<toml::Value>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRules {
    #[serde(rename = "std-log", alias = "RL401")]
    std_log: Option<RawStdLog>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStdLog {
    banned_imports: Vec<String>,
}

/// The effective configuration of a run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    pub select: Vec<RuleSelector>,
    pub ignore: Vec<RuleSelector>,
    pub exclude: Vec<String>,
    pub fail_on: FailOn,
    pub go_version: Option<String>,
    pub severity: BTreeMap<&'static str, Severity>,
    pub settings: Settings,
    /// Inputs larger than this many bytes are not parsed (RL000 says so).
    pub max_file_size: u64,
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
            fail_on: FailOn::Warning,
            go_version: None,
            severity: BTreeMap::new(),
            settings: Settings::default(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
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
}

/// Finds `redline.toml` in `start` or its ancestors.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}

fn at(path: &Path, text: &str, offset: usize, message: impl std::fmt::Display) -> String {
    let (line, col) = LineIndex::new(text.as_bytes()).position(offset);
    format!("{}:{line}:{col}: {message}", path.display())
}

/// Loads a configuration file. Errors name the file, line and column.
pub fn load(path: &Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read configuration: {e}", path.display()))?;
    parse(path, &text)
}

pub fn parse(path: &Path, text: &str) -> Result<Config, String> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        at(path, text, offset, e.message().trim_end())
    })?;
    let mut config = Config {
        path: Some(path.to_path_buf()),
        ..Config::default()
    };
    let selectors = |list: Vec<Spanned<String>>, key: &str| -> Result<Vec<RuleSelector>, String> {
        list.into_iter()
            .map(|s| {
                RuleSelector::parse(s.get_ref())
                    .map_err(|e| at(path, text, s.span().start, format!("`{key}`: {e}")))
            })
            .collect()
    };
    if let Some(select) = raw.select {
        config.select = selectors(select, "select")?;
    }
    if let Some(ignore) = raw.ignore {
        config.ignore = selectors(ignore, "ignore")?;
    }
    if let Some(exclude) = raw.exclude {
        for g in &exclude {
            globset::Glob::new(g)
                .map_err(|e| format!("{}: `exclude`: invalid glob `{g}`: {e}", path.display()))?;
        }
        config.exclude = exclude;
    }
    if let Some(f) = raw.fail_on {
        config.fail_on = FailOn::parse(f.get_ref())
            .map_err(|e| at(path, text, f.span().start, format!("`fail-on`: {e}")))?;
    }
    if let Some(v) = raw.go_version {
        let ok = v.get_ref().split_once('.').is_some_and(|(a, b)| {
            a.parse::<u32>().is_ok()
                && b.split('.')
                    .next()
                    .is_some_and(|m| m.parse::<u32>().is_ok())
        });
        if !ok {
            return Err(at(
                path,
                text,
                v.span().start,
                format!(
                    "`go-version`: `{}` is not a Go version like \"1.24\"",
                    v.get_ref()
                ),
            ));
        }
        config.go_version = Some(v.into_inner());
    }
    if let Some(mods) = raw.required_modules {
        config.settings.required_modules = mods;
    }
    if let Some(sev) = raw.severity {
        for (key, value) in sev {
            let rule = find_rule(key.get_ref()).ok_or_else(|| {
                at(
                    path,
                    text,
                    key.span().start,
                    format!(
                        "`severity`: unknown rule `{}` (see `redline rules`)",
                        key.get_ref()
                    ),
                )
            })?;
            let level: Severity = value.get_ref().parse().map_err(|e| {
                at(
                    path,
                    text,
                    value.span().start,
                    format!("`severity.{}`: {e}", key.get_ref()),
                )
            })?;
            config.severity.insert(rule.id, level);
        }
    }
    if let Some(rules) = raw.rules
        && let Some(std_log) = rules.std_log
    {
        config.settings.banned_imports = std_log.banned_imports;
    }
    if let Some(v) = raw.max_file_size {
        let parsed = match v.get_ref() {
            toml::Value::Integer(n) if *n > 0 => Ok(*n as u64),
            toml::Value::String(s) => parse_size(s),
            other => Err(format!("`{other}` is not a size like 8388608 or \"8MiB\"")),
        };
        config.max_file_size =
            parsed.map_err(|e| at(path, text, v.span().start, format!("`max-file-size`: {e}")))?;
    }
    let _ = (raw.env, raw.logs, raw.manifests, raw.slo);
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
