use super::{ContainerContext, ManifestFindings, ManifestRule, limits_cpu_ref};
use crate::{RuleMeta, declare_rule};
use redline_k8s::model::has_var_reference;
use redline_k8s::quantity::ceil_cores;
use redline_runtime::spec::is_positive_integer;

declare_rule! {
    /// ## What it does
    /// Finds a literal `GOMAXPROCS` that is not a positive integer, or is
    /// larger than the container's CPU limit rounded up.
    ///
    /// ## Why is this bad?
    /// More Ps than the quota allows means CFS throttling; a value Go cannot
    /// parse is silently ignored, so the setting does nothing.
    ///
    /// ## Example
    /// ```yaml
    /// env: [{name: GOMAXPROCS, value: "8"}]
    /// resources: {limits: {cpu: "2"}}
    /// ```
    ///
    /// ## Use instead
    /// `valueFrom.resourceFieldRef` of `limits.cpu`, or a value no larger
    /// than the limit.
    pub struct GomaxprocsExceedsLimit {
        id: "RL702",
        name: "gomaxprocs-exceeds-limit",
        severity: Error,
        fix: None,
        kind: Manifest,
        finds: "GOMAXPROCS is invalid or above the CPU limit",
    }
}

impl ManifestRule for GomaxprocsExceedsLimit {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &ContainerContext<'_>, out: &mut ManifestFindings<'_>) {
        let container = cx.container;
        let who = &cx.who;
        let limit_text = cx.cpu_limit_text();
        let limit_millis = cx.cpu_limit_millis();
        for var in container.env.iter().filter(|v| v.name == "GOMAXPROCS") {
            if let Some(value) = var.literal() {
                if has_var_reference(value) {
                    continue;
                }
                if !is_positive_integer(value) {
                    out.report(
                        var.name_key,
                        format!(
                            "GOMAXPROCS of {who} is {:?}, not a positive integer (the Go runtime \
                             ignores it)",
                            value.chars().take(40).collect::<String>()
                        ),
                    )
                    .help(
                        "use a whole number of threads no larger than the CPU limit, or \
                         `valueFrom: {resourceFieldRef: {resource: limits.cpu}}`",
                    );
                    continue;
                }
                if let Some(millis) = limit_millis.filter(|m| *m > 0) {
                    let max = ceil_cores(millis);
                    let n: u64 = value.parse().unwrap_or(u64::MAX);
                    if n > max {
                        out.report(
                            var.name_key,
                            format!(
                                "GOMAXPROCS={value} of {who} is larger than its CPU limit ({}, at \
                                 most {max} thread{}): the extra threads are throttled",
                                limit_text.unwrap_or("?"),
                                if max == 1 { "" } else { "s" }
                            ),
                        )
                        .help(
                            "lower GOMAXPROCS to the limit rounded up, or use `valueFrom: \
                             {resourceFieldRef: {resource: limits.cpu}}`",
                        );
                    }
                }
            } else if let Some(Ok(divisor)) = limits_cpu_ref(var, container)
                && divisor > 0
                && let Some(millis) = limit_millis.filter(|m| *m > 0)
            {
                let value = millis.div_ceil(divisor);
                let max = ceil_cores(millis);
                if value > max {
                    out.report(
                        var.name_key,
                        format!(
                            "GOMAXPROCS of {who} comes from limits.cpu with a divisor that makes it \
                             {value}, larger than the CPU limit ({}, at most {max})",
                            limit_text.unwrap_or("?")
                        ),
                    )
                    .help("drop the divisor (the default, 1, yields whole CPUs rounded up)");
                }
            }
        }
    }
}
