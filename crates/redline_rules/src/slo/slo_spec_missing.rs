use crate::manifests::{DocumentRule, ManifestFindings};
use crate::{RuleMeta, declare_rule};
use redline_k8s::ManifestContext;
use redline_k8s::yaml::YamlNode;

declare_rule! {
    /// ## What it does
    /// Finds a Deployment or StatefulSet among the checked manifests
    /// (rendered charts and overlays included) whose service name — the
    /// `app.kubernetes.io/name` label of its pod template, else its
    /// `metadata.name` — is the `service` of no SLO spec matched by
    /// `[slo] specs`. Inactive until `[slo] specs` (globs of Sloth or
    /// OpenSLO files, relative to the `redline.toml` that sets them) is
    /// set; `[slo] services`, when set, limits the rule to the service
    /// names it lists. Every format `redline slo` reads counts: Sloth
    /// `prometheus/v1`, `PrometheusServiceLevel` (also inside a `List`) and
    /// OpenSLO `SLO` documents. Reported at the workload's `metadata.name`.
    ///
    /// ## Why is this bad?
    /// A workload that serves users without an SLO has no error budget, no
    /// burn-rate alert and nothing for the deploy gate to check: its first
    /// outage is noticed by its users. "Every new interface declares its
    /// slo.yaml before it goes live."
    ///
    /// ## Example
    /// ```toml
    /// # redline.toml
    /// [slo]
    /// specs = ["slo/*.yaml"]
    /// ```
    /// with a Deployment `checkout` and no spec naming `service: checkout`.
    ///
    /// ## Use instead
    /// ```yaml
    /// # slo/checkout.yaml
    /// version: "prometheus/v1"
    /// service: "checkout"
    /// slos:
    ///   - name: "requests-availability"
    ///     objective: 99.9
    ///     sli:
    ///       events:
    ///         error_query: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
    ///         total_query: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
    /// ```
    pub struct SloSpecMissing {
        id: "RL801",
        name: "slo-spec-missing",
        severity: Error,
        fix: None,
        kind: Manifest,
        finds: "a Deployment or StatefulSet whose service has no SLO spec",
        inactive_until_configured: true,
    }
}

/// The Deployments and StatefulSets of a document (inside Lists too).
fn collect<'a>(node: &'a YamlNode, depth: usize, out: &mut Vec<&'a YamlNode>) {
    if depth > 8 {
        return;
    }
    let Some(kind) = node.get_str("kind") else {
        return;
    };
    if kind.ends_with("List") {
        if let Some(items) = node.get("items").and_then(YamlNode::as_seq) {
            for item in items {
                collect(item, depth + 1, out);
            }
        }
        return;
    }
    let apps = node
        .get_str("apiVersion")
        .is_none_or(|v| v.starts_with("apps/") || v.starts_with("extensions/"));
    if matches!(kind, "Deployment" | "StatefulSet") && apps {
        out.push(node);
    }
}

impl DocumentRule for SloSpecMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(
        &self,
        document: &YamlNode,
        settings: &ManifestContext,
        out: &mut ManifestFindings<'_>,
    ) {
        let Some(coverage) = &settings.slo else {
            return;
        };
        let mut workloads = Vec::new();
        collect(document, 0, &mut workloads);
        for w in workloads {
            let Some((name_key, name)) = w.get("metadata").and_then(|m| m.entry("name")) else {
                continue;
            };
            let Some(name) = name.as_str().filter(|n| !n.is_empty()) else {
                continue;
            };
            let label = w
                .path(&[
                    "spec",
                    "template",
                    "metadata",
                    "labels",
                    "app.kubernetes.io/name",
                ])
                .and_then(YamlNode::as_str)
                .filter(|s| !s.is_empty());
            let service = label.unwrap_or(name);
            if coverage.services.contains(service)
                || coverage.only.as_ref().is_some_and(|o| !o.contains(service))
            {
                continue;
            }
            let kind = w.get_str("kind").unwrap_or("workload");
            let from = if label.is_some() {
                "named by its pod template's `app.kubernetes.io/name` label"
            } else {
                "its `metadata.name`: the pod template has no `app.kubernetes.io/name` label"
            };
            out.report(
                name_key,
                format!(
                    "{kind} `{name}` serves service `{service}` ({from}), and no SLO spec matched by `[slo] specs` has `service: {service}`"
                ),
            )
            .help(format!(
                "declare its SLO before it goes live: a Sloth `prometheus/v1` spec or `PrometheusServiceLevel` with `service: {service}`, or an OpenSLO `SLO` with `spec.service: {service}`, in a file `[slo] specs` matches ({} spec files read); or leave it out of `[slo] services`",
                coverage.files.len()
            ));
        }
    }
}
