use crate::declare_rule;

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
        target: Manifest,
        summary: "a Deployment or StatefulSet whose service has no SLO spec",
        needs_config: true,
    }
}
