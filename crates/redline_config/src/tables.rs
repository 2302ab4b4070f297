//! The typed tables of `redline.toml`: every key the file may hold, each
//! table once. Keys are kebab-case; every table rejects a key it does not
//! list (the error names the key, its line and column). Values are plain
//! (strings, numbers, lists), with their position ([`Spanned`]) where the
//! part of redline that owns the table checks them further and must point
//! at them: a rule selector, a glob, a regular expression, a version.
//!
//! Adding a key: a field in its table here (kebab-case follows from the
//! field's name), then its use in the crate that owns the table.

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

/// The whole file: `redline check`'s keys at the top, then one table per
/// part of redline.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Tables {
    pub select: Option<Vec<Spanned<String>>>,
    pub ignore: Option<Vec<Spanned<String>>>,
    pub exclude: Option<Vec<String>>,
    pub fail_on: Option<Spanned<String>>,
    pub go_version: Option<Spanned<String>>,
    pub required_modules: Option<Vec<String>>,
    pub check_tests: Option<bool>,
    pub test_paths: Option<Vec<String>>,
    pub extend_test_paths: Option<Vec<String>>,
    pub test_build_tags: Option<Vec<String>>,
    pub severity: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    pub rules: Option<RulesTable>,
    pub max_file_size: Option<Spanned<toml::Value>>,
    /// `redline env`, `redline exec`, RL703–RL705 (`redline_runtime::spec`).
    pub env: Option<EnvTable>,
    /// `redline logs`, `redline exec --logs` (`redline_runtime::logs`).
    pub logs: Option<LogsTable>,
    /// RL703 (`redline_k8s::ManifestContext`).
    pub manifests: Option<ManifestsTable>,
    /// `redline slo` and RL801 (`redline_slo::config`).
    pub slo: Option<Spanned<SloTable>>,
    /// Chart rendering (`redline_k8s::settings`).
    pub helm: Option<HelmTable>,
    /// Overlay building (`redline_k8s::settings`).
    pub kustomize: Option<KustomizeTable>,
}

/// `[rules]`: settings of single rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RulesTable {
    #[serde(rename = "std-log", alias = "RL401")]
    pub std_log: Option<StdLogTable>,
}

/// `[rules.std-log]` (RL401).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StdLogTable {
    pub banned_imports: Vec<String>,
}

/// `[slo]`: the defaults of `redline slo` and the specs RL801 reads. The
/// old snake_case spellings are read too (a serde alias each) and reported
/// as deprecated ([`crate::Document::old_spellings`]).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SloTable {
    /// Window of Sloth specs, which do not state one (default `30d`).
    pub window: Option<String>,
    /// Default `--prometheus` URL.
    pub prometheus: Option<String>,
    /// Default `--timeout`, in seconds.
    #[serde(alias = "timeout_secs")]
    pub timeout_secs: Option<u64>,
    /// Default `--retries`.
    pub retries: Option<u32>,
    /// Default `--fail-below`, in percent of the budget.
    #[serde(alias = "fail_below")]
    pub fail_below: Option<f64>,
    /// Default `--min-coverage`: a duration (`1h`), a share of the window
    /// (`10%`) or `"0"` (off).
    pub min_coverage: Option<String>,
    /// Default `--allow-no-traffic` of `status` and `report`.
    pub allow_no_traffic: Option<bool>,
    /// Globs of the SLO spec files, relative to this redline.toml (RL801 of
    /// `redline check` reads them; setting it turns RL801 on).
    pub specs: Option<Vec<Spanned<String>>>,
    /// RL801 applies only to these services.
    pub services: Option<Vec<String>>,
}

/// `[manifests]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ManifestsTable {
    pub required_env: Option<Vec<Spanned<String>>>,
    pub required_env_containers: Option<Vec<String>>,
}

/// `[logs]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LogsTable {
    /// A preset's name (`redline_runtime::logs::Preset`).
    pub preset: Option<Spanned<String>>,
    pub required_fields: Option<Vec<String>>,
    pub timestamp_fields: Option<Vec<String>>,
    pub level_field: Option<String>,
    pub levels: Option<Vec<String>>,
    pub error_levels: Option<Vec<String>>,
    pub stack_fields: Option<Vec<String>>,
    pub max_line_bytes: Option<usize>,
}

/// `[helm]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HelmTable {
    pub binary: Option<Spanned<String>>,
    pub timeout_seconds: Option<Spanned<u64>>,
    pub kube_version: Option<String>,
    #[serde(default)]
    pub charts: Vec<ChartTable>,
}

/// One `[[helm.charts]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ChartTable {
    pub path: Spanned<String>,
    #[serde(default)]
    pub values: Vec<String>,
    pub release: Option<String>,
    pub namespace: Option<String>,
}

/// `[kustomize]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KustomizeTable {
    pub binary: Option<Spanned<String>>,
}

/// `[env]`: `replace-default` and one `[env.VAR]` table per variable, in
/// the order of the file.
#[derive(Debug, Default)]
pub struct EnvTable {
    pub replace_default: bool,
    pub vars: Vec<(String, VarTable)>,
    /// The first key that is neither `replace-default` nor a variable's
    /// name: [`crate::Document::parse`] reports it at its own position.
    pub(crate) unknown: Option<Spanned<String>>,
}

impl EnvTable {
    /// The error of an unknown key of `[env]`.
    pub(crate) fn unknown_key(key: &str) -> String {
        format!(
            "unknown key `{key}` in [env]: expected `replace-default` or an `[env.VAR]` table \
             whose name is an environment variable (letters, digits, `_`)"
        )
    }
}

/// One `[env.VAR]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "an [env.VAR] table (keys: required, pattern, min-length, max-length, classes, one-of, secret)"
)]
pub struct VarTable {
    pub required: Option<bool>,
    pub pattern: Option<Spanned<String>>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    /// Character class names (`redline_runtime::spec::CharClass`).
    pub classes: Option<Vec<Spanned<String>>>,
    pub one_of: Option<Vec<String>>,
    pub secret: Option<bool>,
}

/// A POSIX-style environment variable name.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl<'de> Deserialize<'de> for EnvTable {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnvTable;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`replace-default = true|false` and `[env.VAR]` tables")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvTable, A::Error> {
                let mut table = EnvTable::default();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    if key.get_ref() == "replace-default" {
                        table.replace_default = map.next_value()?;
                    } else if is_env_name(key.get_ref()) {
                        let var: VarTable = map.next_value()?;
                        table.vars.push((key.into_inner(), var));
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                        table.unknown.get_or_insert(key);
                    }
                }
                Ok(table)
            }
        }
        d.deserialize_map(V)
    }
}

/// A name of a fixed vocabulary (`classes = ["upper"]`, `preset = "zap"`)
/// read into the owner's enum `T`, with serde's message for a name it
/// does not know at the name's position.
pub fn named<T: de::DeserializeOwned>(
    doc: &crate::Document,
    value: &Spanned<String>,
) -> Result<T, String> {
    T::deserialize(de::value::StrDeserializer::<de::value::Error>::new(
        value.get_ref(),
    ))
    .map_err(|e| doc.error_at(value.span().start, e))
}
