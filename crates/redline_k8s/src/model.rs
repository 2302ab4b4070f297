//! The part of the Kubernetes object model the manifest rules read:
//! workload → pod template → containers (and init containers) → env.

use crate::yaml::{Value, YamlNode};

/// A Pod-bearing object.
#[derive(Debug)]
pub struct Workload<'a> {
    pub kind: &'a str,
    pub name: Option<&'a str>,
    pub pod_spec: &'a YamlNode,
}

/// One container of a pod spec.
#[derive(Debug)]
pub struct Container<'a> {
    pub node: &'a YamlNode,
    pub name: Option<&'a str>,
    /// The `name:` key (where container-level findings are reported), or
    /// the container itself when it has no name.
    pub anchor: &'a YamlNode,
    pub init: bool,
    /// `resources.limits.cpu`.
    pub cpu_limit: Option<&'a YamlNode>,
    pub env: Vec<EnvVar<'a>>,
    /// `envFrom` is present and not empty.
    pub has_env_from: bool,
}

/// One entry of `env`.
#[derive(Debug)]
pub struct EnvVar<'a> {
    pub name: &'a str,
    /// The `name:` key.
    pub name_key: &'a YamlNode,
    /// `value:` (a scalar; `null` counts as empty).
    pub value: Option<&'a YamlNode>,
    pub value_from: Option<&'a YamlNode>,
}

impl Workload<'_> {
    /// The workload in words: "Deployment `api`", "a Pod".
    pub fn describe(&self) -> String {
        match self.name {
            Some(name) => format!("{} `{name}`", self.kind),
            None => format!("a {}", self.kind),
        }
    }
}

impl Container<'_> {
    /// The container in words: "container `api` of Deployment `orders`".
    pub fn describe(&self, workload: &Workload<'_>) -> String {
        let what = if self.init {
            "init container"
        } else {
            "container"
        };
        let name = self.name.unwrap_or("(unnamed)");
        match workload.name {
            Some(w) => format!("{what} `{name}` of {} `{w}`", workload.kind),
            None => format!("{what} `{name}` of a {}", workload.kind),
        }
    }
}

impl EnvVar<'_> {
    /// The literal value: `Some("")` for `value:`/`value: null`, `None`
    /// when the variable comes from `valueFrom` or has no value at all.
    pub fn literal(&self) -> Option<&str> {
        let v = self.value?;
        if v.is_null() {
            return Some("");
        }
        v.as_str()
    }
}

/// A Kubernetes `$(VAR)` reference: the value is expanded at start time
/// and is not literal.
pub fn has_var_reference(value: &str) -> bool {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' {
            if bytes[i + 1] == b'$' {
                i += 2;
                continue;
            }
            if bytes[i + 1] == b'(' && value[i + 2..].contains(')') {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// Where the pod spec lives, per kind (and the API groups that own it).
fn pod_spec_path(kind: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    const CORE: &[&str] = &["v1"];
    const APPS: &[&str] = &["apps/", "extensions/"];
    const BATCH: &[&str] = &["batch/"];
    match kind {
        "Pod" => Some((&["spec"], CORE)),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
            Some((&["spec", "template", "spec"], APPS))
        }
        "Job" => Some((&["spec", "template", "spec"], BATCH)),
        "CronJob" => Some((&["spec", "jobTemplate", "spec", "template", "spec"], BATCH)),
        _ => None,
    }
}

fn api_version_matches(api_version: Option<&str>, groups: &[&str]) -> bool {
    // Missing apiVersion (hand-written fragments): trust the kind.
    let Some(v) = api_version else { return true };
    groups.iter().any(|g| {
        if g.ends_with('/') {
            v.starts_with(g)
        } else {
            v == *g
        }
    })
}

/// Every Pod-bearing object in a document, looking into `List`s (and
/// `…List` kinds) and their `items`.
pub fn workloads(doc: &YamlNode) -> Vec<Workload<'_>> {
    let mut out = Vec::new();
    collect(doc, 0, &mut out);
    out
}

fn collect<'a>(node: &'a YamlNode, depth: usize, out: &mut Vec<Workload<'a>>) {
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
    let name = node.path(&["metadata", "name"]).and_then(YamlNode::as_str);
    if let Some((path, groups)) = pod_spec_path(kind)
        && api_version_matches(node.get_str("apiVersion"), groups)
    {
        if let Some(pod_spec) = node.path(path)
            && pod_spec.as_map().is_some()
        {
            out.push(Workload {
                kind,
                name,
                pod_spec,
            });
        }
        return;
    }
    if let Some(pod_spec) = custom_pod_spec(node, kind) {
        out.push(Workload {
            kind,
            name,
            pod_spec,
        });
    }
}

/// Kinds that are never workloads, whatever their spec holds: a
/// CustomResourceDefinition's schema may describe `template.spec.containers`.
const NOT_WORKLOADS: &[&str] = &["CustomResourceDefinition"];

/// The pod spec of any other kind (Argo Rollout, OpenKruise CloneSet and
/// Advanced DaemonSet, Knative Service, …) whose `spec.template` or
/// `spec.jobTemplate.spec.template` is a pod template: a mapping whose
/// `spec.containers` is a list.
fn custom_pod_spec<'a>(node: &'a YamlNode, kind: &str) -> Option<&'a YamlNode> {
    if NOT_WORKLOADS.contains(&kind) {
        return None;
    }
    [
        &["spec", "template", "spec"][..],
        &["spec", "jobTemplate", "spec", "template", "spec"][..],
    ]
    .into_iter()
    .filter_map(|path| node.path(path))
    .find(|pod_spec| {
        pod_spec.as_map().is_some()
            && pod_spec
                .get("containers")
                .and_then(YamlNode::as_seq)
                .is_some()
    })
}

/// The containers then init containers of a pod spec.
pub fn containers<'a>(pod_spec: &'a YamlNode) -> Vec<Container<'a>> {
    let mut out = Vec::new();
    for (field, init) in [("containers", false), ("initContainers", true)] {
        let Some(list) = pod_spec.get(field).and_then(YamlNode::as_seq) else {
            continue;
        };
        for node in list.iter().filter(|n| n.as_map().is_some()) {
            let (anchor, name) = match node.entry("name") {
                Some((key, value)) => (key, value.as_str()),
                None => (node, None),
            };
            let env = node
                .get("env")
                .and_then(YamlNode::as_seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(|e| {
                    let (name_key, name) = e.entry("name")?;
                    Some(EnvVar {
                        name: name.as_str()?,
                        name_key,
                        value: e.get("value"),
                        value_from: e.get("valueFrom").filter(|v| v.as_map().is_some()),
                    })
                })
                .collect();
            out.push(Container {
                node,
                name,
                anchor,
                init,
                cpu_limit: node
                    .path(&["resources", "limits", "cpu"])
                    .filter(|n| !n.is_null()),
                env,
                has_env_from: node
                    .get("envFrom")
                    .and_then(YamlNode::as_seq)
                    .is_some_and(|s| !s.is_empty()),
            });
        }
    }
    out
}

/// A field the manifest rules read that has the wrong shape: Kubernetes
/// would reject the object, and redline cannot check that part of it.
#[derive(Debug)]
pub struct ShapeError<'a> {
    pub at: &'a YamlNode,
    /// The container it belongs to, when it is inside one.
    pub container: Option<&'a YamlNode>,
    pub message: String,
}

fn shape_name(node: &YamlNode) -> &'static str {
    match &node.value {
        Value::Map(_) => "a mapping",
        Value::Seq(_) => "a list",
        Value::Scalar { .. } => "a scalar",
    }
}

/// Wrong shapes among `containers`/`initContainers`, their `env` and
/// `envFrom` lists and the env entries' `name` (null means absent, as in
/// Kubernetes). A wrong-shaped field is reported at its key.
pub fn shape_errors(pod_spec: &YamlNode) -> Vec<ShapeError<'_>> {
    let mut out = Vec::new();
    for field in ["containers", "initContainers"] {
        let Some((key, list)) = pod_spec.entry(field).filter(|(_, n)| !n.is_null()) else {
            continue;
        };
        let Some(items) = list.as_seq() else {
            out.push(ShapeError {
                at: key,
                container: None,
                message: format!(
                    "`{field}` is {}, not a list of containers",
                    shape_name(list)
                ),
            });
            continue;
        };
        for (i, c) in items.iter().enumerate() {
            if c.as_map().is_none() {
                out.push(ShapeError {
                    at: c,
                    container: None,
                    message: format!("`{field}[{i}]` is {}, not a container", shape_name(c)),
                });
                continue;
            }
            let who = c
                .get_str("name")
                .map_or_else(|| format!("`{field}[{i}]`"), |n| format!("container `{n}`"));
            for list_field in ["env", "envFrom"] {
                let Some((key, l)) = c.entry(list_field).filter(|(_, n)| !n.is_null()) else {
                    continue;
                };
                let Some(entries) = l.as_seq() else {
                    out.push(ShapeError {
                        at: key,
                        container: Some(c),
                        message: format!(
                            "`{list_field}` of {who} is {}, not a list",
                            shape_name(l)
                        ),
                    });
                    continue;
                };
                if list_field != "env" {
                    continue;
                }
                for (j, e) in entries.iter().enumerate() {
                    if e.get("name").and_then(YamlNode::as_str).is_none() {
                        out.push(ShapeError {
                            at: e,
                            container: Some(c),
                            message: format!(
                                "`env[{j}]` of {who} has no `name` (it is {})",
                                shape_name(e)
                            ),
                        });
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_references() {
        assert!(has_var_reference("$(JWT)"));
        assert!(has_var_reference("Bearer $(TOKEN)"));
        assert!(!has_var_reference("$$(ESCAPED)"));
        assert!(!has_var_reference("price $5"));
        assert!(!has_var_reference("$("));
    }
}
