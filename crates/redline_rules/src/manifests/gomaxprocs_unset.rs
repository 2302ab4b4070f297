use super::{ContainerContext, ManifestFindings, ManifestRule, limits_cpu_ref};
use crate::{RuleMeta, declare_rule};
use redline_k8s::model::EnvVar;
use redline_k8s::yaml::YamlNode;

declare_rule! {
    /// ## What it does
    /// Finds a container with `resources.limits.cpu` and no `GOMAXPROCS`
    /// env var (a literal, or `valueFrom.resourceFieldRef` of `limits.cpu`).
    /// Not reported when the scanned module's `go.mod` says `go 1.25` or
    /// later (the runtime then reads the cgroup limit itself) or the module
    /// uses `go.uber.org/automaxprocs`.
    ///
    /// ## Why is this bad?
    /// Before Go 1.25 a Go program sizes its scheduler to the node's cores,
    /// not the container's CPU limit: a service limited to 2 CPUs on a
    /// 64-core node runs 64 threads, is throttled by the CFS quota and its
    /// tail latency explodes.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   limits:
    ///     cpu: "2"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// env:
    ///   - name: GOMAXPROCS
    ///     valueFrom:
    ///       resourceFieldRef:
    ///         resource: limits.cpu
    /// ```
    /// or start the service with `redline exec`, which sets it from the
    /// cgroup quota.
    pub struct GomaxprocsUnset {
        id: "RL701",
        name: "gomaxprocs-unset",
        severity: Error,
        fix: None,
        kind: Manifest,
        finds: "a CPU-limited container without GOMAXPROCS",
    }
}

impl ManifestRule for GomaxprocsUnset {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &ContainerContext<'_>, out: &mut ManifestFindings<'_>) {
        let container = cx.container;
        let module = &cx.settings.module;
        let runtime_reads_cgroup = module
            .go_version
            .is_some_and(|v| v >= redline_go::GoVersion::new(1, 25));
        if !cx.has_cpu_limit() || runtime_reads_cgroup || module.imports_automaxprocs {
            return;
        }
        let gomaxprocs: Vec<&EnvVar> = container
            .env
            .iter()
            .filter(|v| v.name == "GOMAXPROCS")
            .collect();
        let satisfied = gomaxprocs
            .iter()
            .any(|v| v.value.is_some() || limits_cpu_ref(v, container).is_some());
        if satisfied {
            return;
        }
        let limit = cx.cpu_limit_text().unwrap_or("set");
        let detail = match gomaxprocs.iter().find_map(|v| v.value_from) {
            Some(from) => format!(
                "its GOMAXPROCS comes from {}, which does not follow the CPU limit",
                source_kind(from)
            ),
            None => "no GOMAXPROCS".to_string(),
        };
        out.report(
            container.anchor,
            format!(
                "{} has a CPU limit ({limit}) but {detail}: the Go runtime (before 1.25) \
                 starts one thread per node CPU and is throttled by the limit",
                cx.who
            ),
        )
        .help(
            "add `env: [{name: GOMAXPROCS, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}]`, \
             start the service with `redline exec`, import go.uber.org/automaxprocs, or move \
             go.mod to go 1.25+",
        );
    }
}

/// What a `valueFrom` is, in words.
fn source_kind(value_from: &YamlNode) -> String {
    if let Some(r) = value_from.get("resourceFieldRef") {
        return format!(
            "resourceFieldRef `{}`",
            r.get_str("resource").unwrap_or("?")
        );
    }
    value_from
        .as_map()
        .and_then(|m| m.first())
        .and_then(|(k, _)| k.as_str())
        .unwrap_or("valueFrom")
        .to_string()
}
