//! The environment spec (README, "The environment spec"): which
//! variables a service needs and what their values must look like.
//!
//! One spec serves `redline env`, `redline exec` and the manifest rule
//! RL705, which calls [`EnvSpec::check_value`] so a literal in a Deployment
//! is judged exactly like the variable at start time.
//!
//! `redline.toml` can extend the default (the `[env.VAR]` tables override
//! the fields they set and add new variables) or replace it
//! (`[env] replace-default = true`). A secret's value never appears in any
//! message.

use redline_config::Document;
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A character class a value must contain at least once (`classes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CharClass {
    Upper,
    Lower,
    Digit,
    Symbol,
}

impl CharClass {
    fn matches(self, c: char) -> bool {
        match self {
            CharClass::Upper => c.is_uppercase(),
            CharClass::Lower => c.is_lowercase(),
            CharClass::Digit => c.is_ascii_digit(),
            CharClass::Symbol => !c.is_alphanumeric() && !c.is_whitespace(),
        }
    }
    fn describe(self) -> &'static str {
        match self {
            CharClass::Upper => "an upper-case letter",
            CharClass::Lower => "a lower-case letter",
            CharClass::Digit => "a digit",
            CharClass::Symbol => "a symbol",
        }
    }
}

/// The rule for one variable.
#[derive(Debug, Clone)]
pub struct VarSpec {
    pub name: String,
    pub required: bool,
    pub pattern: Option<Regex>,
    /// Minimum length in bytes.
    pub min_length: Option<usize>,
    /// Maximum length in characters.
    pub max_length: Option<usize>,
    pub classes: Vec<CharClass>,
    pub one_of: Vec<String>,
    /// The value is never printed.
    pub secret: bool,
    /// `GOMAXPROCS`: a positive integer (compared with the cgroup quota by
    /// `redline env`/`exec`).
    pub positive_integer: bool,
}

impl VarSpec {
    fn new(name: &str) -> VarSpec {
        VarSpec {
            name: name.to_string(),
            required: false,
            pattern: None,
            min_length: None,
            max_length: None,
            classes: Vec::new(),
            one_of: Vec::new(),
            secret: false,
            positive_integer: false,
        }
    }
}

/// What is wrong with one variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EnvProblemKind {
    Missing,
    NotUtf8,
    Pattern,
    TooShort,
    TooLong,
    MissingClass,
    NotOneOf,
    NotPositiveInteger,
    ExceedsCpuLimit,
}

impl EnvProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvProblemKind::Missing => "missing",
            EnvProblemKind::NotUtf8 => "not-utf8",
            EnvProblemKind::Pattern => "pattern",
            EnvProblemKind::TooShort => "too-short",
            EnvProblemKind::TooLong => "too-long",
            EnvProblemKind::MissingClass => "missing-class",
            EnvProblemKind::NotOneOf => "not-one-of",
            EnvProblemKind::NotPositiveInteger => "not-positive-integer",
            EnvProblemKind::ExceedsCpuLimit => "exceeds-cpu-limit",
        }
    }
}

/// One broken expectation. `message` is safe to print: it never holds the
/// value of a secret variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvProblem {
    pub var: String,
    pub kind: EnvProblemKind,
    pub message: String,
}

/// The environment spec: variables in name order.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    vars: BTreeMap<String, VarSpec>,
    /// Variables that `redline.toml` marks `required = true` itself (the
    /// built-in defaults are not in it): RL703 requires these in manifests.
    configured_required: Vec<String>,
}

fn regex(pattern: &str) -> Regex {
    // The default patterns are constants checked by the tests.
    Regex::new(pattern).unwrap_or_else(|_| Regex::new("$^").expect("trivial regex"))
}

impl Default for EnvSpec {
    /// The production baseline (README, "The environment spec").
    fn default() -> EnvSpec {
        let mut vars = BTreeMap::new();
        let mut database_url = VarSpec::new("DATABASE_URL");
        database_url.required = true;
        database_url.pattern = Some(regex("^(postgres|postgresql|mysql)://"));
        // The URL may carry a password.
        database_url.secret = true;
        let mut jwt = VarSpec::new("JWT_SECRET");
        jwt.required = true;
        jwt.min_length = Some(32);
        jwt.classes = vec![CharClass::Upper, CharClass::Lower, CharClass::Digit];
        jwt.secret = true;
        let mut service = VarSpec::new("SERVICE_NAME");
        service.required = true;
        service.pattern = Some(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"));
        service.max_length = Some(63);
        let mut level = VarSpec::new("LOG_LEVEL");
        level.one_of = ["debug", "info", "warn", "error"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut procs = VarSpec::new("GOMAXPROCS");
        procs.positive_integer = true;
        for v in [database_url, jwt, service, level, procs] {
            vars.insert(v.name.clone(), v);
        }
        EnvSpec {
            vars,
            configured_required: Vec::new(),
        }
    }
}

/// A POSIX-style environment variable name (the names `[env.VAR]` takes).
pub use redline_config::is_env_name;

/// Names that hold a secret even without a spec entry (RL704, docs/rules.md):
/// the one list, shared with the manifest rules and the report renderers.
pub use redline_diagnostics::secrets::{is_secret_name, is_secret_value};

impl EnvSpec {
    /// The default spec, extended or replaced by the `[env]` table of
    /// `config` when given.
    pub fn from_config(config: Option<&Document>) -> Result<EnvSpec, String> {
        let mut spec = EnvSpec::default();
        let Some(doc) = config else {
            return Ok(spec);
        };
        let Some(table) = &doc.tables().env else {
            return Ok(spec);
        };
        if table.replace_default {
            spec.vars.clear();
        }
        for (name, t) in &table.vars {
            let var = spec
                .vars
                .entry(name.clone())
                .or_insert_with(|| VarSpec::new(name));
            if let Some(r) = t.required {
                var.required = r;
                spec.configured_required.retain(|n| n != name);
                if r {
                    spec.configured_required.push(name.clone());
                }
            }
            if let Some(p) = &t.pattern {
                let compiled = Regex::new(p.get_ref()).map_err(|e| {
                    let detail = e.to_string().replace('\n', " ");
                    doc.error_at(
                        p.span().start,
                        format!("[env.{name}] pattern is not a valid regular expression: {detail}"),
                    )
                })?;
                var.pattern = Some(compiled);
            }
            if let Some(n) = t.min_length {
                var.min_length = Some(n);
            }
            if let Some(n) = t.max_length {
                var.max_length = Some(n);
            }
            if let Some(c) = &t.classes {
                var.classes = c
                    .iter()
                    .map(|c| redline_config::named(doc, c))
                    .collect::<Result<_, _>>()?;
            }
            if let Some(o) = &t.one_of {
                var.one_of = o.clone();
            }
            if let Some(s) = t.secret {
                var.secret = s;
            }
        }
        Ok(spec)
    }

    /// [`EnvSpec::from_config`] on the text of a configuration file.
    pub fn from_config_text(display_path: &str, text: &str) -> Result<EnvSpec, String> {
        let doc = Document::parse(Path::new(display_path), display_path, text.to_string())?;
        EnvSpec::from_config(Some(&doc))
    }

    /// The variables `redline.toml` itself marks `required = true`
    /// (`[env.NAME]`), in the order it names them; the built-in defaults
    /// are not among them.
    pub fn configured_required(&self) -> &[String] {
        &self.configured_required
    }

    pub fn vars(&self) -> impl Iterator<Item = &VarSpec> {
        self.vars.values()
    }

    pub fn get(&self, var: &str) -> Option<&VarSpec> {
        self.vars.get(var)
    }

    /// Whether the value of `var` must never be printed: a spec'd secret or
    /// a name RL704 treats as a secret.
    pub fn is_secret(&self, var: &str) -> bool {
        self.vars.get(var).is_some_and(|v| v.secret) || is_secret_name(var)
    }

    /// Checks one value of `var` against its rule. Variables without a rule
    /// have no problems. Messages never hold a secret's value.
    pub fn check_value(&self, var: &str, value: &str) -> Vec<EnvProblem> {
        let Some(spec) = self.vars.get(var) else {
            return Vec::new();
        };
        // A URL with a password or a DSN with `password=` is a secret
        // whatever the variable is called.
        let secret = self.is_secret(var) || is_secret_value(value);
        let shown = if secret {
            format!("{var} (value hidden: secret)")
        } else {
            // URL userinfo (`user@`) is masked wherever a value is shown.
            let value = redline_diagnostics::secrets::redact(value);
            format!("{var}={}", quote_for_message(&value))
        };
        let mut problems = Vec::new();
        let mut push = |kind, message: String| {
            problems.push(EnvProblem {
                var: var.to_string(),
                kind,
                message,
            })
        };
        if spec.positive_integer && !is_positive_integer(value) {
            push(
                EnvProblemKind::NotPositiveInteger,
                format!("{shown} is not a positive integer"),
            );
        }
        if let Some(re) = &spec.pattern
            && !re.is_match(value)
        {
            push(
                EnvProblemKind::Pattern,
                format!("{shown} does not match `{}`", re.as_str()),
            );
        }
        if let Some(min) = spec.min_length
            && value.len() < min
        {
            let have = if secret {
                String::new()
            } else {
                format!(" (it has {})", value.len())
            };
            push(
                EnvProblemKind::TooShort,
                format!("{shown} must be at least {min} bytes long{have}"),
            );
        }
        if let Some(max) = spec.max_length {
            let n = value.chars().count();
            if n > max {
                let have = if secret {
                    String::new()
                } else {
                    format!(" (it has {n})")
                };
                push(
                    EnvProblemKind::TooLong,
                    format!("{shown} must be at most {max} characters long{have}"),
                );
            }
        }
        let missing: Vec<&str> = spec
            .classes
            .iter()
            .filter(|c| !value.chars().any(|ch| c.matches(ch)))
            .map(|c| c.describe())
            .collect();
        if !missing.is_empty() {
            push(
                EnvProblemKind::MissingClass,
                format!("{shown} must contain {}", missing.join(", ")),
            );
        }
        if !spec.one_of.is_empty() && !spec.one_of.iter().any(|o| o == value) {
            push(
                EnvProblemKind::NotOneOf,
                format!("{shown} must be one of: {}", spec.one_of.join(", ")),
            );
        }
        problems
    }

    /// Checks a whole environment: every required variable present, every
    /// present variable valid. `lookup` returns `Err(())` for a value that
    /// is not UTF-8.
    pub fn check_env<F>(&self, mut lookup: F) -> Vec<EnvProblem>
    where
        F: FnMut(&str) -> Option<Result<String, ()>>,
    {
        let mut problems = Vec::new();
        for spec in self.vars.values() {
            match lookup(&spec.name) {
                None if spec.required => problems.push(EnvProblem {
                    var: spec.name.clone(),
                    kind: EnvProblemKind::Missing,
                    message: format!("{} is required but not set", spec.name),
                }),
                None => {}
                Some(Err(())) => problems.push(EnvProblem {
                    var: spec.name.clone(),
                    kind: EnvProblemKind::NotUtf8,
                    message: format!("{} is not valid UTF-8", spec.name),
                }),
                Some(Ok(value)) => problems.extend(self.check_value(&spec.name, &value)),
            }
        }
        problems
    }

    /// [`EnvSpec::check_env`] on this process's environment.
    pub fn check_process_env(&self) -> Vec<EnvProblem> {
        self.check_env(|name| std::env::var_os(name).map(|v| v.into_string().map_err(|_| ())))
    }
}

/// `1`, `2`, `16`… (what Go's runtime accepts as a GOMAXPROCS override,
/// without a sign).
pub fn is_positive_integer(value: &str) -> bool {
    !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit())
        && value.bytes().any(|b| b != b'0')
}

/// A non-secret value quoted for a message, cut at 80 characters.
fn quote_for_message(value: &str) -> String {
    let mut shown: String = value.chars().take(80).collect();
    if shown.len() < value.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_JWT: &str = "Abcdefghijklmnopqrstuvwxyz0123456789";

    fn kinds(p: &[EnvProblem]) -> Vec<EnvProblemKind> {
        p.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn default_spec_accepts_the_baseline() {
        let spec = EnvSpec::default();
        assert!(
            spec.check_value("DATABASE_URL", "postgres://u@db/x")
                .is_empty()
        );
        assert!(spec.check_value("JWT_SECRET", GOOD_JWT).is_empty());
        assert!(spec.check_value("SERVICE_NAME", "orders-api").is_empty());
        assert!(spec.check_value("LOG_LEVEL", "warn").is_empty());
        assert!(spec.check_value("GOMAXPROCS", "4").is_empty());
        assert!(spec.check_value("UNRELATED", "anything").is_empty());
    }

    #[test]
    fn default_spec_rejects_each_rule() {
        let spec = EnvSpec::default();
        assert_eq!(
            kinds(&spec.check_value("SERVICE_NAME", "My_Service")),
            [EnvProblemKind::Pattern]
        );
        assert_eq!(
            kinds(&spec.check_value("SERVICE_NAME", &"a".repeat(64))),
            [EnvProblemKind::TooLong]
        );
        assert_eq!(
            kinds(&spec.check_value("DATABASE_URL", "redis://x")),
            [EnvProblemKind::Pattern]
        );
        assert_eq!(
            kinds(&spec.check_value("JWT_SECRET", "short")),
            [EnvProblemKind::TooShort, EnvProblemKind::MissingClass]
        );
        assert_eq!(
            kinds(&spec.check_value("LOG_LEVEL", "verbose")),
            [EnvProblemKind::NotOneOf]
        );
        for bad in ["0", "-1", "two", "1.5", "", "+2"] {
            assert_eq!(
                kinds(&spec.check_value("GOMAXPROCS", bad)),
                [EnvProblemKind::NotPositiveInteger],
                "{bad}"
            );
        }
    }

    #[test]
    fn secrets_never_appear_in_messages() {
        let spec = EnvSpec::default();
        let secret = "hunter2-short";
        for p in spec.check_value("JWT_SECRET", secret) {
            assert!(!p.message.contains(secret), "{}", p.message);
        }
        let url = "redis://admin:hunter2@db";
        let problems = spec.check_value("DATABASE_URL", url);
        assert_eq!(problems.len(), 1);
        assert!(!problems[0].message.contains("hunter2"));
        // A name that looks like a secret is hidden even when configured
        // without `secret = true`.
        let spec =
            EnvSpec::from_config_text("redline.toml", "[env.STRIPE_API_KEY]\nmin-length = 40\n")
                .unwrap();
        let p = spec.check_value("STRIPE_API_KEY", "sk_live_123");
        assert_eq!(kinds(&p), [EnvProblemKind::TooShort]);
        assert!(!p[0].message.contains("sk_live"));
    }

    #[test]
    fn every_rl704_secret_is_hidden() {
        // Configured without `secret = true`: the RL704 list decides.
        let mut text = String::new();
        for name in [
            "PASSWORD",
            "API_KEY",
            "SECRET_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "PRIVATE_KEY",
            "DB_PASS",
            "REDIS_URL",
            "HTTPS_PROXY",
            "DSN",
        ] {
            text.push_str(&format!("[env.{name}]\npattern = \"^never$\"\n"));
        }
        let spec = EnvSpec::from_config_text("redline.toml", &text).unwrap();
        for (name, value) in [
            ("PASSWORD", "hunter2xyz"),
            ("API_KEY", "hunter2xyz"),
            ("SECRET_KEY", "hunter2xyz"),
            ("AWS_SECRET_ACCESS_KEY", "hunter2xyz"),
            ("PRIVATE_KEY", "hunter2xyz"),
            ("DB_PASS", "hunter2xyz"),
            ("REDIS_URL", "redis://:hunter2xyz@cache:6379"),
            ("HTTPS_PROXY", "http://u:hunter2xyz@proxy"),
            ("DSN", "host=db password=hunter2xyz"),
        ] {
            let p = spec.check_value(name, value);
            assert_eq!(kinds(&p), [EnvProblemKind::Pattern], "{name}");
            assert!(!p[0].message.contains("hunter2xyz"), "{}", p[0].message);
        }
        // A URL's userinfo is masked even when it holds no password.
        let p = spec.check_value("REDIS_URL", "redis://tokenuser@cache");
        assert!(!p[0].message.contains("tokenuser"), "{}", p[0].message);
    }

    #[test]
    fn configured_required_lists_only_the_config() {
        assert!(EnvSpec::default().configured_required().is_empty());
        let spec = EnvSpec::from_config_text(
            "redline.toml",
            "[env.REGION]\nrequired = true\n[env.SERVICE_NAME]\nrequired = false\n[env.LOG_LEVEL]\none-of = [\"info\"]\n",
        )
        .unwrap();
        assert_eq!(spec.configured_required(), ["REGION"]);
    }

    #[test]
    fn check_env_reports_every_problem_at_once() {
        let spec = EnvSpec::default();
        let problems = spec.check_env(|name| match name {
            "SERVICE_NAME" => Some(Ok("Bad Name".into())),
            "LOG_LEVEL" => Some(Err(())),
            _ => None,
        });
        assert_eq!(
            kinds(&problems),
            [
                EnvProblemKind::Missing,
                EnvProblemKind::Missing,
                EnvProblemKind::NotUtf8,
                EnvProblemKind::Pattern
            ]
        );
    }

    #[test]
    fn config_extends_and_replaces() {
        // Another part's table does not disturb the spec.
        let text = r#"
[logs]
preset = "zap"

[env.SERVICE_NAME]
required = false

[env.REGION]
required = true
one-of = ["eu-west-1", "us-east-1"]

[env.API_TOKEN]
pattern = "^tok_[a-z]+$"
classes = ["symbol"]
"#;
        let spec = EnvSpec::from_config_text("redline.toml", text).unwrap();
        assert!(!spec.get("SERVICE_NAME").unwrap().required);
        // The default pattern is kept: the table only overrides what it sets.
        assert!(spec.get("SERVICE_NAME").unwrap().pattern.is_some());
        assert!(spec.get("JWT_SECRET").is_some());
        assert_eq!(
            kinds(&spec.check_value("REGION", "mars")),
            [EnvProblemKind::NotOneOf]
        );
        assert!(spec.check_value("API_TOKEN", "tok_abc").is_empty());

        let replaced = EnvSpec::from_config_text(
            "redline.toml",
            "[env]\nreplace-default = true\n[env.PORT]\nrequired = true\n",
        )
        .unwrap();
        assert_eq!(
            replaced.vars().map(|v| v.name.as_str()).collect::<Vec<_>>(),
            ["PORT"]
        );
    }

    #[test]
    fn config_errors_name_file_and_line() {
        let err = EnvSpec::from_config_text(
            "cfg/redline.toml",
            "[env.PORT]\nrequired = true\npatern = \"x\"\n",
        )
        .unwrap_err();
        assert!(err.starts_with("cfg/redline.toml:"), "{err}");
        assert!(err.contains("patern"), "{err}");
        assert!(err.contains(":2:") || err.contains(":3:"), "{err}");

        let err = EnvSpec::from_config_text(
            "redline.toml",
            "[env.PORT]\nrequired = true\npattern = \"(\"\n",
        )
        .unwrap_err();
        assert!(err.starts_with("redline.toml:3:"), "{err}");

        let err = EnvSpec::from_config_text("redline.toml", "[env]\nmode = \"x\"\n").unwrap_err();
        assert!(err.starts_with("redline.toml:2:"), "{err}");
        assert!(err.contains("[env.VAR] table"), "{err}");
        let err = EnvSpec::from_config_text("redline.toml", "[env]\n\"my-var\" = 1\n").unwrap_err();
        assert!(
            err.contains("my-var") && err.contains("replace-default"),
            "{err}"
        );

        let err = EnvSpec::from_config_text("redline.toml", "[env.X]\nclasses = [\"emoji\"]\n")
            .unwrap_err();
        assert!(err.contains("redline.toml:2"), "{err}");
    }
}
