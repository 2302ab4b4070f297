//! Sloth plugins.
//!
//! **SLI plugins** (`sli.plugin: {id, options}`) are Go code that Sloth
//! interprets from `--sli-plugins-path` and that returns an error-ratio
//! query. redline does not run Go code: it writes out, exactly as the
//! plugin's template does, the queries of the common availability and
//! latency plugins of Sloth's plugin collection (`sloth-common/…`, the set
//! Sloth's Kubernetes deployment mounts) and of Sloth's getting-started
//! example plugin. Any other plugin is refused with the reason.
//!
//! **SLO plugins** (`slo_plugins`/`sloPlugins`, `plugins` of an SLO) change
//! the rules Sloth generates. redline generates its own rules, so it
//! accepts the plugins that leave them as Sloth's defaults leave them and
//! refuses the others.

use std::collections::BTreeMap;

/// The SLI plugins redline expands.
pub const EXPANDED: [&str; 7] = [
    "sloth-common/kubernetes/apiserver/availability",
    "sloth-common/kubernetes/apiserver/latency",
    "sloth-common/slok-go-http-metrics/availability",
    "sloth-common/slok-go-http-metrics/latency",
    "sloth-common/istio/v1/availability",
    "sloth-common/istio/v1/latency",
    "getting_started_availability",
];

/// `^{?([^=]+="[^=,"]+",)*([^=]+="[^=,"]+")$`, the plugins' filter check,
/// on a filter already trimmed of `{`, `}` and `,`.
fn valid_filter(filter: &str) -> bool {
    let mut rest = filter;
    loop {
        // name: one or more characters up to `=`
        let Some(eq) = rest.find('=') else {
            return false;
        };
        if eq == 0 {
            return false;
        }
        rest = &rest[eq + 1..];
        let Some(value) = rest.strip_prefix('"') else {
            return false;
        };
        let Some(close) = value.find(['"', '=', ',']) else {
            return false;
        };
        if close == 0 || !value[close..].starts_with('"') {
            return false;
        }
        rest = &value[close + 1..];
        if rest.is_empty() {
            return true;
        }
        match rest.strip_prefix(',') {
            Some(r) => rest = r,
            None => return false,
        }
    }
}

fn trim_filter(f: &str) -> &str {
    f.trim_matches(|c| c == '{' || c == '}' || c == ',')
}

/// The `filter` option, checked; `required` as the plugin has it.
fn filter(id: &str, options: &BTreeMap<String, String>, required: bool) -> Result<String, String> {
    match options.get("filter").map(String::as_str) {
        None | Some("") if required => Err(format!(
            "SLI plugin `{id}`: the `filter` option is required (e.g. `filter: 'job=\"api\"'`)"
        )),
        None | Some("") => Ok(String::new()),
        Some(f) => {
            let f = trim_filter(f);
            if valid_filter(f) {
                Ok(f.to_string())
            } else {
                Err(format!(
                    "SLI plugin `{id}`: invalid prometheus filter `{f}` (the plugin accepts `label=\"value\"` pairs separated by commas)"
                ))
            }
        }
    }
}

fn bucket(id: &str, options: &BTreeMap<String, String>) -> Result<String, String> {
    match options.get("bucket").map(String::as_str) {
        None | Some("") => Err(format!(
            "SLI plugin `{id}`: the `bucket` option is required (the histogram bucket `le` of the latency target, e.g. `0.25`)"
        )),
        Some(b) if b.parse::<f64>().is_ok() => Ok(b.to_string()),
        Some(b) => Err(format!("SLI plugin `{id}`: `bucket` `{b}` is not a number")),
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(id: &str, key: &str, options: &BTreeMap<String, String>) -> Result<bool, String> {
    match options.get(key).map(String::as_str) {
        None | Some("") => Ok(false),
        Some("1" | "t" | "T" | "TRUE" | "true" | "True") => Ok(true),
        Some("0" | "f" | "F" | "FALSE" | "false" | "False") => Ok(false),
        Some(v) => Err(format!("SLI plugin `{id}`: `{key}` `{v}` is not a boolean")),
    }
}

fn required(id: &str, key: &str, options: &BTreeMap<String, String>) -> Result<String, String> {
    match options.get(key).map(|v| v.trim()) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(format!("SLI plugin `{id}`: the `{key}` option is required")),
    }
}

/// `filter,` or nothing.
fn comma(f: &str) -> String {
    if f.is_empty() {
        String::new()
    } else {
        format!("{f},")
    }
}

const W: &str = "{{.window}}";

/// The error-ratio query of SLI plugin `id` with these options; `labels`
/// are the spec's labels (Sloth passes the plugin the spec-level labels).
/// `Err` says why the plugin cannot be expanded or what is wrong.
pub fn expand(
    id: &str,
    options: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> Result<String, String> {
    match id {
        "sloth-common/kubernetes/apiserver/availability" => {
            let f = filter(id, options, false)?;
            Ok(format!(
                "sum(rate(apiserver_request_total{{ {}code=~\"(5..|429)\" }}[{W}]))\n/\nsum(rate(apiserver_request_total{{ {f} }}[{W}]))",
                comma(&f)
            ))
        }
        "sloth-common/kubernetes/apiserver/latency" => {
            let b = bucket(id, options)?;
            let f = comma(&filter(id, options, false)?);
            Ok(format!(
                "(\n  sum(rate(apiserver_request_duration_seconds_count{{ {f}verb!=\"WATCH\" }}[{W}]))\n  -\n  sum(rate(apiserver_request_duration_seconds_bucket{{ {f}le=\"{b}\",verb!=\"WATCH\" }}[{W}]))\n)\n/\nsum(rate(apiserver_request_duration_seconds_count{{ {f}verb!=\"WATCH\" }}[{W}]))"
            ))
        }
        "sloth-common/slok-go-http-metrics/availability" => {
            let f = filter(id, options, true)?;
            Ok(format!(
                "sum(rate(http_request_duration_seconds_count{{ {}code=~\"(5..|429)\" }}[{W}]))\n/\nsum(rate(http_request_duration_seconds_count{{ {f} }}[{W}]))",
                comma(&f)
            ))
        }
        "sloth-common/slok-go-http-metrics/latency" => {
            let b = bucket(id, options)?;
            let mut f = filter(id, options, true)?;
            if parse_bool(id, "exclude_errors", options)? {
                f = format!("{f},code!~\"5..\"");
            }
            Ok(format!(
                "1 - (\n  sum(rate(http_request_duration_seconds_bucket{{ {}le=\"{b}\" }}[{W}]))\n  /\n  sum(rate(http_request_duration_seconds_count{{ {f} }}[{W}]))\n)",
                comma(&f)
            ))
        }
        "sloth-common/istio/v1/availability" => {
            let service = required(id, "service", options)?;
            let namespace = required(id, "namespace", options)?;
            let f = comma(trim_filter(
                options.get("filter").map_or("", String::as_str),
            ));
            let sel = format!(
                "{f}destination_service_name=\"{service}\",destination_service_namespace=\"{namespace}\""
            );
            Ok(format!(
                "(\n  sum(rate(istio_requests_total{{ {sel},response_code=~\"(5..|429)\" }}[{W}])) \n  /          \n  (sum(rate(istio_requests_total{{ {sel} }}[{W}])) > 0)\n) OR on() vector(0)"
            ))
        }
        "sloth-common/istio/v1/latency" => {
            let b = bucket(id, options)?;
            let service = required(id, "service", options)?;
            let namespace = required(id, "namespace", options)?;
            let raw = trim_filter(options.get("filter").map_or("", String::as_str));
            let f = match (parse_bool(id, "exclude_errors", options)?, raw.is_empty()) {
                (false, true) => String::new(),
                (false, false) => format!("{raw},"),
                (true, true) => "code!~\"5..\",".to_string(),
                (true, false) => format!("{raw},code!~\"5..\","),
            };
            let sel = format!(
                "{f}destination_service_name=\"{service}\",destination_service_namespace=\"{namespace}\""
            );
            Ok(format!(
                "1 - ((\n  sum(rate(istio_request_duration_milliseconds_bucket{{ {sel},le=\"{b}\" }}[{W}]))\n  /\n  (sum(rate(istio_request_duration_milliseconds_count{{ {sel} }}[{W}])) > 0)\n) OR on() vector(1))"
            ))
        }
        "getting_started_availability" => {
            let job = match options.get("job") {
                Some(j) => j.clone(),
                None => return Err(format!("SLI plugin `{id}`: the `job` option is required")),
            };
            for k in ["owner", "tier"] {
                if labels.get(k).is_none_or(|v| v.is_empty()) {
                    return Err(format!(
                        "SLI plugin `{id}`: invalid labels: {k:?} label is required (the plugin checks the spec's `labels`)"
                    ));
                }
            }
            let mut f = options.get("filter").cloned().unwrap_or_default();
            if !f.is_empty() {
                f = format!("{},", trim_filter(&f));
                if !valid_filter(trim_filter(&f)) {
                    return Err(format!("SLI plugin `{id}`: invalid prometheus filter: {f}"));
                }
            }
            Ok(format!(
                "sum(rate(http_request_duration_seconds_count{{ {f}job=\"{job}\",code=~\"(5..|429)\" }}[{W}]))\n/\nsum(rate(http_request_duration_seconds_count{{ {f}job=\"{job}\" }}[{W}]))"
            ))
        }
        other => Err(format!(
            "SLI plugin `{other}` cannot be expanded: Sloth runs SLI plugins as Go code loaded from `--sli-plugins-path`, which redline does not run; redline writes out the queries of {} only. Write this SLI as `raw` with the error-ratio query the plugin produces",
            EXPANDED
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Why redline refuses SLO plugin `id`, or `None` when it accepts it.
pub fn slo_plugin_refusal(id: &str) -> Option<String> {
    let what = match id {
        // Sloth's default chain: redline generates its own SLI, metadata
        // and alert rules in their place.
        "sloth.dev/core/sli_rules/v1"
        | "sloth.dev/core/metadata_rules/v1"
        | "sloth.dev/core/alert_rules/v1"
        // Validation and logging only; redline validates the queries itself.
        | "sloth.dev/core/validate/v1"
        | "sloth.dev/core/debug/v1"
        | "sloth.dev/core/noop/v1" => return None,
        "sloth.dev/contrib/info_labels/v1" => "adds labels to Sloth's info metric",
        "sloth.dev/contrib/rule_intervals/v1" => "sets evaluation intervals on Sloth's rule groups",
        "sloth.dev/contrib/remove_labels/v1" => "removes labels from Sloth's rules",
        "sloth.dev/contrib/denominator_corrected_rules/v1" => {
            "replaces Sloth's SLI rules with denominator-corrected ones"
        }
        "sloth.dev/contrib/error_budget_exhausted_alert/v1" => {
            "adds an alert when the error budget is exhausted"
        }
        "sloth.dev/contrib/validate_victoria_metrics/v1" => {
            "validates the queries as VictoriaMetrics MetricsQL instead of PromQL"
        }
        _ => "is Go code that Sloth loads and runs to change the rules it generates",
    };
    Some(format!(
        "SLO plugin `{id}` {what}; redline generates its own rules and does not run Sloth's SLO plugins, so the rules would not be what this plugin makes: remove it (redline accepts only Sloth's core `sli_rules`, `metadata_rules`, `alert_rules`, `validate`, `debug` and `noop` plugins, which change nothing in redline's rules)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_checked_as_the_plugins_check_them() {
        assert!(valid_filter("job=\"api\""));
        assert!(valid_filter("job=\"api\",env=\"prod\""));
        assert!(!valid_filter("job=api"));
        assert!(!valid_filter("job=\"a,b\""));
        assert!(!valid_filter(""));
        assert!(!valid_filter("job=\"api\","));
    }
}
