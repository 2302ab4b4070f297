//! `slo generate --format prometheus-operator`: the generated rule groups
//! wrapped in prometheus-operator `PrometheusRule` objects
//! (`monitoring.coreos.com/v1`), what Sloth's Kubernetes users deploy.
//!
//! One object per `PrometheusServiceLevel`, as Sloth writes it: its
//! `metadata.name` and `namespace`, its labels and annotations. One object
//! per service for the other formats, named `redline-slo-SERVICE` (made a
//! valid Kubernetes name). One object for every SLO with `--name`. The
//! metadata labels are also `app.kubernetes.io/component: SLO` and
//! `app.kubernetes.io/managed-by: redline` (over the resource's own, as
//! Sloth's are) plus `--label KEY=VALUE` (the operator's `ruleSelector`
//! usually selects on one, e.g. `release=prometheus`); `--namespace` sets
//! `metadata.namespace` of every object; without it, a
//! `PrometheusServiceLevel`'s namespace is kept and the others have none,
//! so that `kubectl apply -n` decides.

use crate::prometheus_rules;
use crate::spec::Slo;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFormat {
    /// A Prometheus rule file.
    Prometheus,
    /// prometheus-operator `PrometheusRule` objects.
    PrometheusOperator,
}

#[derive(Debug, clap::Args)]
pub struct RulesFormatArgs {
    /// `prometheus`: a Prometheus rule file; `prometheus-operator`: `PrometheusRule` objects, one per PrometheusServiceLevel or service.
    #[arg(long, value_enum, default_value = "prometheus")]
    pub format: RulesFormat,
    /// prometheus-operator: one `PrometheusRule` of this name for every SLO (default: a PrometheusServiceLevel's name, else `redline-slo-SERVICE` per service).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// prometheus-operator: `metadata.namespace` of the objects (default: a PrometheusServiceLevel's namespace, else none: `kubectl apply -n` decides).
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// prometheus-operator: an extra metadata label (repeatable), e.g. `release=prometheus` for the operator's `ruleSelector`.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
}

/// The text `slo generate` writes for `args`: a rule file, or one
/// `PrometheusRule` object per name, separated by `---`. Errors name the
/// flag and what to change.
pub fn render(slos: &[Slo], args: &RulesFormatArgs) -> Result<String, String> {
    if args.format == RulesFormat::Prometheus {
        let used = [
            ("--name", args.name.is_some()),
            ("--namespace", args.namespace.is_some()),
            ("--label", !args.labels.is_empty()),
        ];
        if let Some((flag, _)) = used.iter().find(|(_, on)| *on) {
            return Err(format!(
                "{flag} sets PrometheusRule metadata: add `--format prometheus-operator`"
            ));
        }
        return Ok(prometheus_rules::generate(slos));
    }
    let mut labels = BTreeMap::new();
    for l in &args.labels {
        let Some((k, v)) = l.split_once('=') else {
            return Err(format!("--label `{l}`: expected KEY=VALUE"));
        };
        check_label_key(k).map_err(|e| format!("--label `{l}`: {e}"))?;
        check_label_value(v).map_err(|e| format!("--label `{l}`: {e}"))?;
        labels.insert(k.to_string(), v.to_string());
    }
    if let Some(ns) = &args.namespace {
        check_dns_label(ns).map_err(|e| format!("--namespace `{ns}`: {e}"))?;
    }
    if let Some(n) = &args.name {
        check_dns_subdomain(n).map_err(|e| format!("--name `{n}`: {e}"))?;
    }
    // Objects in the order their first SLO comes in, keyed by name and
    // namespace.
    let mut objects: Vec<Object> = Vec::new();
    for slo in slos {
        let meta = slo.k8s.as_ref();
        let name = match (&args.name, meta.and_then(|m| m.name.as_ref())) {
            (Some(n), _) => n.clone(),
            (None, Some(n)) => {
                check_dns_subdomain(n).map_err(|e| {
                    format!(
                        "the PrometheusServiceLevel `{n}` ({}) cannot name its PrometheusRule: its metadata.name {e}; give --name",
                        slo.path
                    )
                })?;
                n.clone()
            }
            (None, None) => object_name(&slo.service),
        };
        let namespace = match (&args.namespace, &args.name) {
            (Some(ns), _) => Some(ns.clone()),
            // One object for every SLO: a namespace only if all share it.
            (None, Some(_)) => {
                let mut all = slos
                    .iter()
                    .map(|s| s.k8s.as_ref().and_then(|m| m.namespace.clone()));
                let first = all.next().flatten();
                if all.all(|ns| ns == first) {
                    first
                } else {
                    None
                }
            }
            (None, None) => meta.and_then(|m| m.namespace.clone()),
        };
        let key = (name, namespace);
        match objects.iter_mut().find(|o| o.key == key) {
            Some(o) => o.slos.push(slo.clone()),
            None => {
                // The resource's labels and annotations (without --name: a
                // name of its own), then redline's, then --label.
                let mut l = BTreeMap::new();
                let mut annotations = BTreeMap::new();
                if let (Some(m), None) = (meta, &args.name) {
                    l.extend(m.labels.clone());
                    annotations.extend(m.annotations.clone());
                }
                l.insert("app.kubernetes.io/component".to_string(), "SLO".to_string());
                l.insert(
                    "app.kubernetes.io/managed-by".to_string(),
                    "redline".to_string(),
                );
                l.extend(labels.clone());
                objects.push(Object {
                    key,
                    labels: l,
                    annotations,
                    slos: vec![slo.clone()],
                });
            }
        }
    }
    let mut out = String::new();
    out.push_str(
        "# Generated by `redline slo generate --format prometheus-operator`; do not edit by hand.\n",
    );
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n");
        let _ = writeln!(out, "  name: {}", quoted(&o.key.0));
        if let Some(ns) = &o.key.1 {
            let _ = writeln!(out, "  namespace: {}", quoted(ns));
        }
        out.push_str("  labels:\n");
        for (k, v) in &o.labels {
            let _ = writeln!(out, "    {}: {}", quoted(k), quoted(v));
        }
        if !o.annotations.is_empty() {
            out.push_str("  annotations:\n");
            for (k, v) in &o.annotations {
                let _ = writeln!(out, "    {}: {}", quoted(k), quoted(v));
            }
        }
        out.push_str("spec:\n");
        prometheus_rules::write_groups(&mut out, &o.slos, 2);
    }
    Ok(out)
}

/// One `PrometheusRule`: (name, namespace), its metadata and its SLOs.
struct Object {
    key: (String, Option<String>),
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    slos: Vec<Slo>,
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// `redline-slo-SERVICE`, lower-cased, every run of characters a
/// Kubernetes name cannot hold turned into one `-`, at most 253 bytes.
pub fn object_name(service: &str) -> String {
    let mut name = String::from("redline-slo-");
    for c in service.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    name.truncate(253);
    let trimmed = name.trim_end_matches(['-', '.']);
    if trimmed.len() <= "redline-slo".len() {
        return "redline-slo".to_string();
    }
    trimmed.to_string()
}

fn alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// A DNS-1123 label: what a namespace name must be.
fn check_dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err("must be 1 to 63 characters".into());
    }
    if !s.chars().all(|c| alnum(c) || c == '-') || !s.starts_with(alnum) || !s.ends_with(alnum) {
        return Err(
            "must be lower-case letters, digits and `-`, starting and ending with a letter or digit"
                .into(),
        );
    }
    Ok(())
}

/// A DNS-1123 subdomain: what a PrometheusRule's name must be.
fn check_dns_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err("must be 1 to 253 characters".into());
    }
    for part in s.split('.') {
        if part.is_empty()
            || !part.chars().all(|c| alnum(c) || c == '-')
            || !part.starts_with(alnum)
            || !part.ends_with(alnum)
        {
            return Err("must be lower-case letters, digits, `-` and `.`, each `.`-separated part starting and ending with a letter or digit".into());
        }
    }
    Ok(())
}

fn label_name_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A Kubernetes label key: `[prefix/]name`.
fn check_label_key(k: &str) -> Result<(), String> {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix {
        check_dns_subdomain(p).map_err(|e| format!("the key's prefix {e}"))?;
    }
    if !label_name_part(name) {
        return Err("the key's name must be 1 to 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit".into());
    }
    Ok(())
}

fn check_label_value(v: &str) -> Result<(), String> {
    if v.is_empty() || label_name_part(v) {
        Ok(())
    } else {
        Err("the value must be empty or 1 to 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_kubernetes_names() {
        assert_eq!(object_name("checkout"), "redline-slo-checkout");
        assert_eq!(object_name("My_Service v2"), "redline-slo-my-service-v2");
        assert_eq!(object_name("__"), "redline-slo");
        assert!(check_dns_subdomain(&object_name(&"x".repeat(400))).is_ok());
    }

    #[test]
    fn label_and_name_checks() {
        assert!(check_label_key("release").is_ok());
        assert!(check_label_key("app.kubernetes.io/part-of").is_ok());
        assert!(check_label_key("-x").is_err());
        assert!(check_label_key("Bad_Prefix/x").is_err());
        assert!(check_label_value("").is_ok());
        assert!(check_label_value("a b").is_err());
        assert!(check_dns_label("monitoring").is_ok());
        assert!(check_dns_label("Monitoring").is_err());
        assert!(check_dns_subdomain("a..b").is_err());
    }
}
