//! The manifest rules RL701–RL705 of RULES.md ("Kubernetes manifests").
//! Each finding is reported at a `name:` key: the container's for
//! container-level rules (RL701, RL703), the env var's for the others.

use crate::ManifestContext;
use crate::model::{self, Container, EnvVar, Workload};
use crate::quantity::{ceil_cores, parse_cpu_millis};
use crate::yaml::Node;
use redline_diagnostics::{Diagnostic, LineIndex, Severity};
use redline_runtime::spec::{is_positive_integer, is_secret_name};

pub const PARSE_ERROR: (&str, &str) = ("RL000", "parse-error");
pub const GOMAXPROCS_UNSET: (&str, &str) = ("RL701", "gomaxprocs-unset");
pub const GOMAXPROCS_EXCEEDS_LIMIT: (&str, &str) = ("RL702", "gomaxprocs-exceeds-limit");
pub const REQUIRED_ENV_MISSING: (&str, &str) = ("RL703", "required-env-missing");
pub const SECRET_LITERAL: (&str, &str) = ("RL704", "secret-literal");
pub const ENV_LITERAL_INVALID: (&str, &str) = ("RL705", "env-literal-invalid");

struct Emitter<'a> {
    path: &'a str,
    index: &'a LineIndex,
    out: &'a mut Vec<Diagnostic>,
}

impl Emitter<'_> {
    fn emit(
        &mut self,
        (rule, name): (&'static str, &'static str),
        severity: Severity,
        at: &Node,
        message: String,
        help: &str,
    ) {
        self.out.push(Diagnostic {
            rule,
            name,
            severity,
            path: self.path.to_string(),
            span: self.index.span(at.start, at.end),
            message,
            help: Some(help.to_string()),
            fix: None,
        });
    }
}

/// Checks every container of every workload in one document.
pub fn check_document(
    doc: &Node,
    path: &str,
    index: &LineIndex,
    ctx: &ManifestContext,
    out: &mut Vec<Diagnostic>,
) {
    let mut em = Emitter { path, index, out };
    for workload in model::workloads(doc) {
        let problems = model::shape_problems(workload.pod_spec);
        for problem in &problems {
            em.emit(
                PARSE_ERROR,
                Severity::Error,
                problem.at,
                format!(
                    "in {}, {}: Kubernetes rejects this, and redline did not check that part",
                    describe_workload(&workload),
                    problem.message,
                ),
                "fix the field's shape (`kubectl apply --dry-run=server -f FILE` shows the API server's error)",
            );
        }
        for container in model::containers(workload.pod_spec) {
            // A container with a malformed part is reported above only.
            if problems
                .iter()
                .any(|p| p.container.is_some_and(|c| std::ptr::eq(c, container.node)))
            {
                continue;
            }
            check_container(&workload, &container, ctx, &mut em);
        }
    }
}

fn describe_workload(workload: &Workload) -> String {
    match workload.name {
        Some(name) => format!("{} `{name}`", workload.kind),
        None => format!("a {}", workload.kind),
    }
}

fn describe(workload: &Workload, container: &Container) -> String {
    let what = if container.init {
        "init container"
    } else {
        "container"
    };
    let name = container.name.unwrap_or("(unnamed)");
    match workload.name {
        Some(w) => format!("{what} `{name}` of {} `{w}`", workload.kind),
        None => format!("{what} `{name}` of a {}", workload.kind),
    }
}

/// A Kubernetes `$(VAR)` reference: the value is expanded at start time
/// and is not literal.
fn has_var_reference(value: &str) -> bool {
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

/// `resourceFieldRef` of `limits.cpu` for this container: its divisor in
/// millicores (default 1 CPU).
fn limits_cpu_ref(var: &EnvVar, container: &Container) -> Option<Result<u64, String>> {
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

/// What a `valueFrom` is, in words.
fn source_kind(value_from: &Node) -> String {
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

/// `user:pass@` in the authority, or a `password=` parameter (a
/// `$(VAR)` reference is not a literal password).
pub fn url_has_password(url: &str) -> bool {
    let is_reference = |p: &str| p.starts_with("$(") && p.ends_with(')');
    let literal = |p: &str| !p.is_empty() && !is_reference(p);
    if let Some((_, rest)) = url.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
            && literal(password)
        {
            return true;
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        return query.split(['&', ';']).any(|kv| {
            kv.split_once('=')
                .is_some_and(|(k, v)| k.eq_ignore_ascii_case("password") && literal(v))
        });
    }
    false
}

fn check_container(
    workload: &Workload,
    container: &Container,
    ctx: &ManifestContext,
    em: &mut Emitter,
) {
    let who = describe(workload, container);
    let limit_text = container.cpu_limit.and_then(Node::as_str);
    let limit_millis = limit_text.and_then(|t| parse_cpu_millis(t).ok());
    let has_limit = container.cpu_limit.is_some() && limit_millis != Some(0);

    // RL701
    let module = &ctx.module;
    let runtime_reads_cgroup = module.go_version.is_some_and(|v| v >= (1, 25));
    if has_limit && !runtime_reads_cgroup && !module.imports_automaxprocs {
        let gomaxprocs: Vec<&EnvVar> = container
            .env
            .iter()
            .filter(|v| v.name == "GOMAXPROCS")
            .collect();
        let satisfied = gomaxprocs
            .iter()
            .any(|v| v.value.is_some() || limits_cpu_ref(v, container).is_some());
        if !satisfied {
            let limit = limit_text.unwrap_or("set");
            let detail = match gomaxprocs.iter().find_map(|v| v.value_from) {
                Some(from) => format!(
                    "its GOMAXPROCS comes from {}, which does not follow the CPU limit",
                    source_kind(from)
                ),
                None => "no GOMAXPROCS".to_string(),
            };
            em.emit(
                GOMAXPROCS_UNSET,
                Severity::Error,
                container.anchor,
                format!(
                    "{who} has a CPU limit ({limit}) but {detail}: the Go runtime (before 1.25) \
                     starts one thread per node CPU and is throttled by the limit"
                ),
                "add `env: [{name: GOMAXPROCS, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}]`, \
                 start the service with `redline exec`, import go.uber.org/automaxprocs, or move \
                 go.mod to go 1.25+",
            );
        }
    }

    // RL702
    for var in container.env.iter().filter(|v| v.name == "GOMAXPROCS") {
        if let Some(value) = var.literal() {
            if has_var_reference(value) {
                continue;
            }
            if !is_positive_integer(value) {
                em.emit(
                    GOMAXPROCS_EXCEEDS_LIMIT,
                    Severity::Error,
                    var.name_key,
                    format!(
                        "GOMAXPROCS of {who} is {:?}, not a positive integer (the Go runtime \
                         ignores it)",
                        value.chars().take(40).collect::<String>()
                    ),
                    "use a whole number of threads no larger than the CPU limit, or \
                     `valueFrom: {resourceFieldRef: {resource: limits.cpu}}`",
                );
                continue;
            }
            if let Some(millis) = limit_millis.filter(|m| *m > 0) {
                let max = ceil_cores(millis);
                let n: u64 = value.parse().unwrap_or(u64::MAX);
                if n > max {
                    em.emit(
                        GOMAXPROCS_EXCEEDS_LIMIT,
                        Severity::Error,
                        var.name_key,
                        format!(
                            "GOMAXPROCS={value} of {who} is larger than its CPU limit ({}, at \
                             most {max} thread{}): the extra threads are throttled",
                            limit_text.unwrap_or("?"),
                            if max == 1 { "" } else { "s" }
                        ),
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
                em.emit(
                    GOMAXPROCS_EXCEEDS_LIMIT,
                    Severity::Error,
                    var.name_key,
                    format!(
                        "GOMAXPROCS of {who} comes from limits.cpu with a divisor that makes it \
                         {value}, larger than the CPU limit ({}, at most {max})",
                        limit_text.unwrap_or("?")
                    ),
                    "drop the divisor (the default, 1, yields whole CPUs rounded up)",
                );
            }
        }
    }

    // RL703
    let selected = ctx.required_env_containers.is_empty()
        || container
            .name
            .is_some_and(|n| ctx.required_env_containers.iter().any(|c| c == n));
    if selected {
        let missing: Vec<&str> = ctx
            .required_env
            .iter()
            .filter(|r| !container.env.iter().any(|v| v.name == r.as_str()))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let list = missing.join(", ");
            if container.has_env_from {
                em.emit(
                    REQUIRED_ENV_MISSING,
                    Severity::Info,
                    container.anchor,
                    format!(
                        "{who} does not list {list} in `env`; it may come from `envFrom`, which \
                         redline cannot see into"
                    ),
                    "list required variables in `env` (with valueFrom) so reviewers and redline \
                     can see them",
                );
            } else {
                em.emit(
                    REQUIRED_ENV_MISSING,
                    Severity::Error,
                    container.anchor,
                    format!(
                        "{who} lacks required environment variable{} {list}: the service \
                         cannot start correctly",
                        if missing.len() == 1 { "" } else { "s" }
                    ),
                    "add them to `env` (secrets with `valueFrom.secretKeyRef`)",
                );
            }
        }
    }

    // RL704 and RL705
    for var in &container.env {
        let Some(value) = var.literal() else {
            continue;
        };
        if has_var_reference(value) {
            continue;
        }
        let secret_literal = if var.name == "DATABASE_URL" {
            url_has_password(value)
        } else {
            !value.is_empty()
                && (is_secret_name(var.name)
                    || ctx.env_spec.get(var.name).is_some_and(|s| s.secret))
        };
        if secret_literal {
            let what = if var.name == "DATABASE_URL" {
                "holds a literal password"
            } else {
                "is a literal secret"
            };
            em.emit(
                SECRET_LITERAL,
                Severity::Error,
                var.name_key,
                format!(
                    "{} of {who} {what} in the manifest (value not shown): anyone who can read \
                     the manifest or its git history has it",
                    var.name
                ),
                "store it in a Secret and use `valueFrom: {secretKeyRef: {name: …, key: …}}`; \
                 rotate the exposed value",
            );
            continue;
        }
        if var.name == "GOMAXPROCS" {
            continue;
        }
        let problems = ctx.env_spec.check_value(var.name, value);
        if !problems.is_empty() {
            let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
            em.emit(
                ENV_LITERAL_INVALID,
                Severity::Error,
                var.name_key,
                format!("{who}: {}", messages.join("; ")),
                "fix the value so it meets the environment spec (RULES.md, redline.toml [env])",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_detection() {
        assert!(url_has_password("postgres://u:p@db/x"));
        assert!(url_has_password("mysql://u:p%40ss@db:3306/x"));
        assert!(url_has_password(
            "postgres://db/x?sslmode=require&password=s3cret"
        ));
        assert!(!url_has_password("postgres://u@db/x"));
        assert!(!url_has_password("postgres://u:@db/x"));
        assert!(!url_has_password("postgres://u:$(DB_PASSWORD)@db/x"));
        assert!(!url_has_password("postgres://db/x?user=u"));
        assert!(!url_has_password("postgres://db/path:with@colon"));
        assert!(!url_has_password("not a url"));
    }

    #[test]
    fn var_references() {
        assert!(has_var_reference("$(JWT)"));
        assert!(has_var_reference("Bearer $(TOKEN)"));
        assert!(!has_var_reference("$$(ESCAPED)"));
        assert!(!has_var_reference("price $5"));
        assert!(!has_var_reference("$("));
    }
}
