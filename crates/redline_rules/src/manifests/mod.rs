//! Kubernetes manifest rules, per workload and container. The loader and
//! the workload → pod template → container model live in `redline_k8s`;
//! each rule here reads one container of that model ([`ManifestRule`]).
//! A rule that reads a workload as a whole (RL801) is a [`DocumentRule`]:
//! it sees each YAML document of a file.

pub mod env_literal_invalid;
pub mod gomaxprocs_exceeds_limit;
pub mod gomaxprocs_unset;
pub mod required_env_missing;
pub mod secret_literal;

pub use env_literal_invalid::EnvLiteralInvalid;
pub use gomaxprocs_exceeds_limit::GomaxprocsExceedsLimit;
pub use gomaxprocs_unset::GomaxprocsUnset;
pub use required_env_missing::RequiredEnvMissing;
pub use secret_literal::SecretLiteral;

use crate::{Family, RuleMeta};
use redline_diagnostics::{Diagnostic, Emitter, LineIndex};
use redline_k8s::model::{Container, EnvVar, Workload};
use redline_k8s::quantity::parse_cpu_millis;
use redline_k8s::yaml::YamlNode;
use redline_k8s::{ContainerSite, DocumentSite, ManifestContext};

/// The family's rules.
pub static FAMILY: Family = Family {
    name: "manifests",
    go: &[],
    go_mod: &[],
    manifest: &[
        &GomaxprocsUnset,
        &GomaxprocsExceedsLimit,
        &RequiredEnvMissing,
        &SecretLiteral,
        &EnvLiteralInvalid,
    ],
    document: &[],
};

/// What a manifest rule sees: one container, its workload, and the
/// manifest settings of `redline.toml`.
pub struct ContainerContext<'a> {
    pub workload: &'a Workload<'a>,
    pub container: &'a Container<'a>,
    pub settings: &'a ManifestContext,
    /// The container in words, for messages.
    pub who: String,
}

impl ContainerContext<'_> {
    /// `resources.limits.cpu` as written.
    pub fn cpu_limit_text(&self) -> Option<&str> {
        self.container.cpu_limit.and_then(YamlNode::as_str)
    }

    /// `resources.limits.cpu` in millicores, when it parses.
    pub fn cpu_limit_millis(&self) -> Option<u64> {
        self.cpu_limit_text().and_then(|t| parse_cpu_millis(t).ok())
    }

    /// A CPU limit is set and not zero.
    pub fn has_cpu_limit(&self) -> bool {
        self.container.cpu_limit.is_some() && self.cpu_limit_millis() != Some(0)
    }
}

/// Where a manifest rule reports: the findings of that one rule on one
/// container (or document), at a YAML node.
pub struct ManifestFindings<'a> {
    emitter: Emitter<'a>,
    lines: &'a LineIndex,
}

impl ManifestFindings<'_> {
    /// Reports a finding at `at` (a `name:` key: the container's for
    /// container-level findings, the env var's for the others, the
    /// workload's `metadata.name` for workload-level ones).
    pub fn report(&mut self, at: &YamlNode, message: impl Into<String>) -> &mut Diagnostic {
        let span = self.lines.span(at.start, at.end);
        self.emitter.report(span, message)
    }
}

/// A rule over Kubernetes manifests, run on every container of every
/// workload.
pub trait ManifestRule: Sync + Send {
    fn meta(&self) -> &'static RuleMeta;
    fn check(&self, cx: &ContainerContext<'_>, out: &mut ManifestFindings<'_>);
}

/// A rule over Kubernetes manifests that reads a workload as a whole (its
/// kind, names and labels), run on every YAML document of a file; it finds
/// the workloads it checks itself (inside a `List` too).
pub trait DocumentRule: Sync + Send {
    fn meta(&self) -> &'static RuleMeta;
    fn check(
        &self,
        document: &YamlNode,
        settings: &ManifestContext,
        out: &mut ManifestFindings<'_>,
    );
}

/// Checks one manifest file with every manifest rule. `display_path` is
/// used in the diagnostics; the result is sorted. A file that does not
/// parse, or a workload part Kubernetes rejects, is RL000 (see
/// [`redline_k8s::check_containers`]).
pub fn check_manifest(
    display_path: &str,
    source: &[u8],
    settings: &ManifestContext,
) -> Vec<Diagnostic> {
    check_manifest_with(
        display_path,
        source,
        settings,
        &crate::MANIFEST_RULES[..],
        &crate::DOCUMENT_RULES[..],
    )
}

/// [`check_manifest`] with the given rules only (RL000 is always reported).
pub fn check_manifest_with(
    display_path: &str,
    source: &[u8],
    settings: &ManifestContext,
    rules: &[&'static dyn ManifestRule],
    document_rules: &[&'static dyn DocumentRule],
) -> Vec<Diagnostic> {
    redline_k8s::check_documents(
        display_path,
        source,
        &mut |site: &DocumentSite<'_>, out: &mut Vec<Diagnostic>| {
            for rule in document_rules {
                let mut findings = ManifestFindings {
                    emitter: Emitter::new(rule.meta(), display_path, &mut *out),
                    lines: site.lines,
                };
                rule.check(site.document, settings, &mut findings);
            }
        },
        &mut |site: &ContainerSite<'_>, out: &mut Vec<Diagnostic>| {
            let cx = ContainerContext {
                workload: site.workload,
                container: site.container,
                settings,
                who: site.container.describe(site.workload),
            };
            for rule in rules {
                let mut findings = ManifestFindings {
                    emitter: Emitter::new(rule.meta(), display_path, &mut *out),
                    lines: site.lines,
                };
                rule.check(&cx, &mut findings);
            }
        },
    )
}

/// `resourceFieldRef` of `limits.cpu` for this container: its divisor in
/// millicores (default 1 CPU).
pub(crate) fn limits_cpu_ref(var: &EnvVar, container: &Container) -> Option<Result<u64, String>> {
    let r = var.value_from?.get("resourceFieldRef")?;
    if r.get_str("resource") != Some("limits.cpu") {
        return None;
    }
    if let Some(other) = r.get_str("containerName")
        && !other.is_empty()
        && Some(other) != container.name
    {
        return None;
    }
    Some(match r.get("divisor").filter(|d| !d.is_null()) {
        None => Ok(1000),
        Some(d) => d
            .as_str()
            .ok_or_else(|| "divisor is not a quantity".to_string())
            .and_then(parse_cpu_millis),
    })
}
