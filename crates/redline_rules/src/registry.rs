//! The registry: every rule family of the catalog. A family's module lists
//! its rules ([`Family`]); the lists below are built from the families, in
//! id order, so a new rule is registered in its family's list only.

use crate::manifests::{DocumentRule, ManifestRule};
use crate::meta::{InvalidSuppression, ParseError};
use crate::{
    GoModRule, GoRule, RuleMeta, controllers, http, logging, manifests, map_safety, modules,
    runtime_config, slo,
};
use std::ops::Deref;
use std::sync::LazyLock;

/// One family of rules (one folder of the catalog): its rules, by kind.
pub struct Family {
    pub name: &'static str,
    pub go: &'static [&'static dyn GoRule],
    pub go_mod: &'static [&'static dyn GoModRule],
    pub manifest: &'static [&'static dyn ManifestRule],
    /// Manifest rules over a whole workload, run on every YAML document.
    pub document: &'static [&'static dyn DocumentRule],
}

/// Every family of the catalog.
pub static FAMILIES: &[&Family] = &[
    &map_safety::FAMILY,
    &controllers::FAMILY,
    &runtime_config::FAMILY,
    &logging::FAMILY,
    &http::FAMILY,
    &modules::FAMILY,
    &manifests::FAMILY,
    &slo::FAMILY,
];

/// The rules the loaders and the driver report themselves.
static DRIVER_RULES: &[&RuleMeta] = &[&ParseError::META, &InvalidSuppression::META];

/// A list built from the families on first use, in id order.
pub struct Listed<T: 'static>(LazyLock<Vec<T>>);

impl<T: 'static> Deref for Listed<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: 'static> IntoIterator for &'static Listed<T> {
    type Item = &'static T;
    type IntoIter = std::slice::Iter<'static, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

fn collect<T: ?Sized>(
    of: fn(&'static Family) -> &'static [&'static T],
    id: fn(&T) -> &'static str,
) -> Vec<&'static T> {
    let mut rules: Vec<&'static T> = FAMILIES
        .iter()
        .flat_map(|f| of(f).iter().copied())
        .collect();
    rules.sort_by_key(|r| id(r));
    rules
}

static GO: Listed<&'static dyn GoRule> =
    Listed(LazyLock::new(|| collect(|f| f.go, |r| r.meta().id)));
static GO_MOD: Listed<&'static dyn GoModRule> =
    Listed(LazyLock::new(|| collect(|f| f.go_mod, |r| r.meta().id)));
static MANIFEST: Listed<&'static dyn ManifestRule> =
    Listed(LazyLock::new(|| collect(|f| f.manifest, |r| r.meta().id)));
static DOCUMENT: Listed<&'static dyn DocumentRule> =
    Listed(LazyLock::new(|| collect(|f| f.document, |r| r.meta().id)));
static ALL: Listed<&'static RuleMeta> = Listed(LazyLock::new(|| {
    let mut all: Vec<&'static RuleMeta> = DRIVER_RULES.to_vec();
    all.extend(GO.iter().map(|r| r.meta()));
    all.extend(GO_MOD.iter().map(|r| r.meta()));
    all.extend(MANIFEST.iter().map(|r| r.meta()));
    all.extend(DOCUMENT.iter().map(|r| r.meta()));
    all.sort_by_key(|r| r.id);
    all
}));

/// Go-source rules, run on every Go file.
pub static GO_RULES: &Listed<&'static dyn GoRule> = &GO;
/// go.mod rules, run on every `go.mod`.
pub static GO_MOD_RULES: &Listed<&'static dyn GoModRule> = &GO_MOD;
/// Manifest rules, run on every container of every workload.
pub static MANIFEST_RULES: &Listed<&'static dyn ManifestRule> = &MANIFEST;
/// Manifest rules over a whole workload, run on every YAML document.
pub static DOCUMENT_RULES: &Listed<&'static dyn DocumentRule> = &DOCUMENT;
/// Every rule of the catalog, sorted by id.
pub static ALL_RULES: &Listed<&'static RuleMeta> = &ALL;

/// Finds a rule by id (`RL101`, case-insensitive) or name (`new-map`).
pub fn find_rule(key: &str) -> Option<&'static RuleMeta> {
    ALL_RULES
        .iter()
        .copied()
        .find(|r| r.id.eq_ignore_ascii_case(key) || r.name == key)
}
/// A rule selector from configuration or the command line: an id, a name,
/// an id prefix (`RL1`, `RL70`) or `ALL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSelector(String);

impl RuleSelector {
    /// Parses a selector; `Err` names what is wrong.
    pub fn parse(s: &str) -> Result<RuleSelector, String> {
        let upper = s.to_ascii_uppercase();
        if upper == "ALL" || find_rule(s).is_some() {
            return Ok(RuleSelector(s.to_string()));
        }
        if upper.starts_with("RL")
            && upper.len() < 5
            && upper[2..].bytes().all(|b| b.is_ascii_digit())
            && ALL_RULES.iter().any(|r| r.id.starts_with(&upper))
        {
            return Ok(RuleSelector(upper));
        }
        Err(format!(
            "unknown rule `{s}` (see `redline rules` for ids and names)"
        ))
    }

    pub fn matches(&self, rule: &RuleMeta) -> bool {
        let s = &self.0;
        s.eq_ignore_ascii_case("ALL")
            || rule.id.eq_ignore_ascii_case(s)
            || rule.name == s
            || (s.len() < 5 && rule.id.starts_with(s.as_str()))
    }
}

/// The README's rule table, generated from the registry.
pub fn readme_table() -> String {
    let mut out =
        String::from("| id | name | severity | fix | what it finds |\n|---|---|---|---|---|\n");
    for r in ALL_RULES {
        let fix = match r.fix {
            Some(redline_diagnostics::Applicability::Safe) => "safe",
            Some(redline_diagnostics::Applicability::Unsafe) => "unsafe",
            Some(redline_diagnostics::Applicability::DisplayOnly) => "suggestion",
            None => "",
        };
        let sev = if !r.active_by_default {
            format!("{} (inactive until configured)", r.severity)
        } else {
            r.severity.to_string()
        };
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            r.id, r.name, sev, fix, r.finds
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_sorted_and_documented() {
        for pair in ALL_RULES.windows(2) {
            assert!(
                pair[0].id < pair[1].id,
                "{} before {}",
                pair[0].id,
                pair[1].id
            );
        }
        for r in ALL_RULES {
            let doc = r.documentation();
            assert!(doc.contains("## What it does"), "{} lacks docs", r.id);
            assert!(doc.contains("## Why is this bad?"), "{} lacks why", r.id);
        }
    }

    /// Each list holds the rules of its kind, and every family has rules.
    #[test]
    fn rules_are_listed_by_kind() {
        use redline_diagnostics::RuleKind;
        for r in GO_RULES {
            assert_eq!(r.meta().kind, RuleKind::Go, "{}", r.meta().id);
        }
        for r in GO_MOD_RULES {
            assert_eq!(r.meta().kind, RuleKind::GoMod, "{}", r.meta().id);
        }
        for r in MANIFEST_RULES {
            assert_eq!(r.meta().kind, RuleKind::Manifest, "{}", r.meta().id);
        }
        for r in DOCUMENT_RULES {
            assert_eq!(r.meta().kind, RuleKind::Manifest, "{}", r.meta().id);
        }
        for r in DRIVER_RULES {
            assert_eq!(r.kind, RuleKind::Driver, "{}", r.id);
        }
        for f in FAMILIES {
            assert!(
                !(f.go.is_empty()
                    && f.go_mod.is_empty()
                    && f.manifest.is_empty()
                    && f.document.is_empty()),
                "family {} lists no rule",
                f.name
            );
        }
        assert_eq!(
            ALL_RULES.len(),
            DRIVER_RULES.len()
                + GO_RULES.len()
                + GO_MOD_RULES.len()
                + MANIFEST_RULES.len()
                + DOCUMENT_RULES.len()
        );
    }

    #[test]
    fn selectors() {
        assert!(RuleSelector::parse("RL101").is_ok());
        assert!(RuleSelector::parse("new-map").is_ok());
        assert!(
            RuleSelector::parse("RL1")
                .unwrap()
                .matches(find_rule("RL101").unwrap())
        );
        assert!(
            !RuleSelector::parse("RL1")
                .unwrap()
                .matches(find_rule("RL401").unwrap())
        );
        assert!(RuleSelector::parse("RL999").is_err());
        assert!(RuleSelector::parse("nope").is_err());
    }
}
