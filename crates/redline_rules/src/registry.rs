//! The registry: every rule of the catalog, in id order.

use crate::{
    GoRule, RuleMeta, controllers, http, logging, manifests, map_safety, meta, modules,
    runtime_config, slo,
};

/// Go-source rules, run on every Go file.
pub static GO_RULES: &[&dyn GoRule] = &[
    &map_safety::NewMap,
    &map_safety::NilMapWrite,
    &controllers::KeyfuncIgnoresNamespace,
    &controllers::UnsynchronizedReconcilerState,
    &controllers::MapWriteInGoroutine,
    &controllers::ClientRateLimitDefaults,
    &runtime_config::OsSetenv,
    &logging::StdLog,
    &logging::ErrorAsString,
    &http::HttpServeWithoutTimeouts,
    &http::HttpServerTimeouts,
    &http::HttpServerWriteIdleTimeouts,
];

/// Every rule of the catalog, sorted by id.
pub static ALL_RULES: &[&RuleMeta] = &[
    &meta::ParseError::META,
    &meta::InvalidSuppression::META,
    &map_safety::NewMap::META,
    &map_safety::NilMapWrite::META,
    &controllers::KeyfuncIgnoresNamespace::META,
    &controllers::UnsynchronizedReconcilerState::META,
    &controllers::MapWriteInGoroutine::META,
    &controllers::ClientRateLimitDefaults::META,
    &runtime_config::OsSetenv::META,
    &logging::StdLog::META,
    &logging::ErrorAsString::META,
    &http::HttpServeWithoutTimeouts::META,
    &http::HttpServerTimeouts::META,
    &http::HttpServerWriteIdleTimeouts::META,
    &modules::RequiredModule::META,
    &manifests::GomaxprocsUnset::META,
    &manifests::GomaxprocsExceedsLimit::META,
    &manifests::RequiredEnvMissing::META,
    &manifests::SecretLiteral::META,
    &manifests::EnvLiteralInvalid::META,
    &slo::SloSpecMissing::META,
];

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
        let sev = if r.needs_config {
            format!("{} (inactive until configured)", r.severity)
        } else {
            r.severity.to_string()
        };
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            r.id, r.name, sev, fix, r.summary
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
        for g in GO_RULES {
            assert!(ALL_RULES.iter().any(|r| r.id == g.meta().id));
        }
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
