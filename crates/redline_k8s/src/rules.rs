//! The manifest rules RL701–RL705 of RULES.md ("Kubernetes manifests").
//! Each finding is reported at a `name:` key: the container's for
//! container-level rules (RL701, RL703), the env var's for the others.

use crate::ManifestContext;
use crate::model::{self, Container, EnvVar, Workload};
use crate::quantity::{ceil_cores, parse_cpu_millis};
use crate::yaml::Node;
use redline_diagnostics::{Diagnostic, LineIndex, Severity};
use redline_runtime::spec::{EnvSpec, is_positive_integer, is_secret_name, is_secret_value};

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

/// Whether `var = value` is a literal secret (RL704): a secret name with a
/// literal value, or a value that is a URL with a password or a DSN with
/// `password=`, whatever the name. Not literals: a value made only of
/// `$(VAR)` references (or holding one: the secret part is expanded), an
/// absolute file path (a mounted secret file), a URL whose password is a
/// `$(VAR)` reference. A variable the environment spec marks secret
/// (`DATABASE_URL` by default, `[env.NAME] secret = true`) whose value is
/// a URL is judged by its value: a URL without a password is no secret.
pub fn is_literal_secret(spec: &EnvSpec, name: &str, value: &str) -> bool {
    if is_secret_value(value) {
        return true;
    }
    let spec_secret = spec.get(name).is_some_and(|s| s.secret) && !value.contains("://");
    !value.is_empty()
        && !has_var_reference(value)
        && !value.starts_with('/')
        && (is_secret_name(name) || spec_secret)
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
    let runtime_reads_cgroup = module
        .go_version
        .is_some_and(|v| v >= redline_go::GoVersion::new(1, 25));
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

    // RL703: inactive until redline.toml names required variables
    // (`[manifests] required-env`, or `[env.NAME] required = true`).
    let selected = ctx.required_env_containers.is_empty()
        || container
            .name
            .is_some_and(|n| ctx.required_env_containers.iter().any(|c| c == n));
    let mut required: Vec<&str> = ctx.required_env.iter().map(String::as_str).collect();
    for name in ctx.env_spec.configured_required() {
        if !required.contains(&name.as_str()) {
            required.push(name);
        }
    }
    if selected && !required.is_empty() {
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|r| !container.env.iter().any(|v| v.name == *r))
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
        if is_literal_secret(&ctx.env_spec, var.name, value) {
            let what = if is_secret_value(value) {
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
        if has_var_reference(value) {
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

/// A copy of a manifest's text with every secret value overwritten by
/// `*` (one for one, line breaks kept, so every position stays right), or
/// `None` when it holds none. This is what reports quote: no code frame,
/// snippet or fingerprint of any format sees a secret (RULES.md, RL704).
///
/// Masked: the literal `value:` of an env entry whose `name:` is a secret
/// (block or flow style, JSON too, in any order of the keys), the value of
/// a mapping key that is a secret name (`DB_PASSWORD: x` in a ConfigMap),
/// and anywhere in the file the userinfo of a URL and a `password=` value.
/// A file the YAML parser could not read to its end is masked line by line
/// the same way.
pub fn mask_secrets(source: &[u8], spec: &EnvSpec) -> Option<Vec<u8>> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let text = String::from_utf8_lossy(source);
    let secret_name = |n: &str| is_secret_name(n) || spec.get(n).is_some_and(|s| s.secret);
    // The same tab swap as the loader (JSON strings hold no raw tab).
    let looks_json = text.trim_start().starts_with(['{', '[']);
    let parsed = if looks_json {
        std::borrow::Cow::Owned(text.replace('\t', " "))
    } else {
        std::borrow::Cow::Borrowed(&*text)
    };
    // Offsets are only trusted when the lossy text is the source itself.
    if matches!(text, std::borrow::Cow::Borrowed(_)) {
        let stream = crate::yaml::parse_stream(&parsed);
        let mut stack: Vec<&Node> = stream.documents.iter().collect();
        while let Some(node) = stack.pop() {
            match &node.value {
                crate::yaml::Value::Map(entries) => {
                    let env_secret = node.get_str("name").is_some_and(secret_name);
                    for (k, v) in entries {
                        let key = k.as_str();
                        let is_value = env_secret && key == Some("value");
                        if (is_value || key.is_some_and(secret_name)) && v.as_str().is_some() {
                            ranges.push(scalar_content(source, v));
                        }
                        stack.push(v);
                    }
                }
                crate::yaml::Value::Seq(items) => stack.extend(items),
                crate::yaml::Value::Scalar { .. } => {}
            }
        }
        if stream.error.is_some() {
            // Where the parser stopped says little about what it could not
            // read (an unclosed `[` swallows the rest): every line.
            ranges.extend(mask_lines(source, 0, &secret_name));
        }
    } else {
        ranges.extend(mask_lines(source, 0, &secret_name));
    }
    let mut out = redline_diagnostics::secrets::redact_bytes(source).into_owned();
    if ranges.is_empty() && out == source {
        return None;
    }
    redline_diagnostics::secrets::mask_ranges(&mut out, &ranges);
    Some(out)
}

/// The bytes of a scalar without its quotes.
fn scalar_content(source: &[u8], node: &Node) -> (usize, usize) {
    let (mut s, mut e) = (node.start.min(source.len()), node.end.min(source.len()));
    if e > s + 1 && matches!(source[s], b'"' | b'\'') && source[e - 1] == source[s] {
        s += 1;
        e -= 1;
    }
    (s, e)
}

/// Line by line, from the line holding `from`: a `value:` after a
/// secret `name:` on the same line (flow style) or on the next one (block
/// style), and a `SECRET_NAME: value` line.
fn mask_lines(
    source: &[u8],
    from: usize,
    secret_name: &dyn Fn(&str) -> bool,
) -> Vec<(usize, usize)> {
    let from = from.min(source.len());
    let start = source[..from]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let mut out = Vec::new();
    let mut pending = false;
    let mut offset = start;
    for line in source[start..].split_inclusive(|b| *b == b'\n') {
        let here = offset;
        offset += line.len();
        let pairs = keyed_values(line);
        let mut named = false;
        for &((ks, ke), (vs, ve)) in &pairs {
            let key = String::from_utf8_lossy(&line[ks..ke]);
            let value = String::from_utf8_lossy(&line[vs..ve]);
            let value = value.trim_matches(['"', '\'']);
            if key == "name" && secret_name(value) {
                named = true;
            } else if (key == "value" && (named || pending)) || secret_name(&key) {
                out.push((here + vs, here + ve));
            }
        }
        let has_value = pairs.iter().any(|&((ks, ke), _)| &line[ks..ke] == b"value");
        pending = named && !has_value;
    }
    out
}

/// `key: value` pairs of one line (`- name: X`, `{name: X, value: "y"}`,
/// `"name": "X",`): the key's and the value's byte ranges in the line.
#[allow(clippy::type_complexity)]
fn keyed_values(line: &[u8]) -> Vec<((usize, usize), (usize, usize))> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if !(c.is_ascii_alphabetic() || c == b'_') {
            i += 1;
            continue;
        }
        // A key: a run of name characters (maybe quoted), `:`, a space.
        let ks = i;
        while i < line.len() && (line[i].is_ascii_alphanumeric() || line[i] == b'_') {
            i += 1;
        }
        let ke = i;
        if i < line.len() && matches!(line[i], b'"' | b'\'') {
            i += 1;
        }
        let preceded = ks == 0
            || matches!(
                line[ks - 1],
                b' ' | b'\t' | b'{' | b',' | b'-' | b'"' | b'\''
            );
        let colon =
            line.get(i) == Some(&b':') && line.get(i + 1).is_none_or(|b| b.is_ascii_whitespace());
        if !(preceded && colon) {
            continue;
        }
        i += 1;
        while i < line.len() && line[i] == b' ' {
            i += 1;
        }
        let vs = i;
        let ve = match line.get(vs) {
            Some(&q @ (b'"' | b'\'')) => {
                let mut e = vs + 1;
                while e < line.len() && line[e] != q {
                    e += if line[e] == b'\\' { 2 } else { 1 };
                }
                (e + 1).min(line.len())
            }
            _ => {
                let mut e = vs;
                while e < line.len() && !matches!(line[e], b',' | b'}' | b'\n' | b'\r' | b'#') {
                    e += 1;
                }
                while e > vs && line[e - 1] == b' ' {
                    e -= 1;
                }
                e
            }
        };
        out.push(((ks, ke), (vs, ve)));
        i = ve.max(vs + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_secrets() {
        let spec = EnvSpec::default();
        for (name, value) in [
            ("JWT_SECRET", "x"),
            ("DB_PASS", "hunter2"),
            ("PASSWORD", "hunter2"),
            ("AWS_SECRET_ACCESS_KEY", "abc"),
            ("DATABASE_URL", "postgres://u:p@db/x"),
            ("REDIS_URL", "redis://:hunter2@cache:6379"),
            ("HTTPS_PROXY", "http://u:p@proxy:3128"),
            ("DSN", "host=db password=hunter2"),
            ("DATABASE_URL", "postgres://u:p@$(DB_HOST)/x"),
        ] {
            assert!(is_literal_secret(&spec, name, value), "{name}={value}");
        }
        for (name, value) in [
            ("JWT_SECRET", ""),
            ("JWT_SECRET", "$(JWT)"),
            ("API_TOKEN", "Bearer $(TOKEN)"),
            (
                "GOOGLE_APPLICATION_CREDENTIALS",
                "/var/run/secrets/gcp.json",
            ),
            ("DATABASE_URL", "postgres://u:$(DB_PASSWORD)@db/x"),
            ("DATABASE_URL", "postgres://u@db/x"),
            ("PASSWORD_MIN_LENGTH", "12"),
            ("SERVICE_NAME", "orders"),
        ] {
            assert!(!is_literal_secret(&spec, name, value), "{name}={value}");
        }
    }

    fn findings(yaml: &str, ctx: &ManifestContext) -> Vec<(&'static str, usize)> {
        crate::check_manifest("d.yaml", yaml.as_bytes(), ctx)
            .iter()
            .map(|d| (d.rule, d.span.line))
            .collect()
    }

    const NO_ENV: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: api\n      image: x\n";

    #[test]
    fn rl703_is_inactive_until_configured() {
        assert_eq!(findings(NO_ENV, &ManifestContext::default()), []);
        // `[env.NAME] required = true` activates it; the built-in spec,
        // which marks DATABASE_URL required, does not.
        let env_spec = EnvSpec::from_config_text(
            "redline.toml",
            "[env.REGION]\nrequired = true\n[env.SERVICE_NAME]\npattern = \"^x\"\n",
        )
        .unwrap();
        let ctx = ManifestContext {
            env_spec,
            ..ManifestContext::default()
        };
        let d = crate::check_manifest("d.yaml", NO_ENV.as_bytes(), &ctx);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].rule, d[0].span.line), ("RL703", 6));
        assert!(d[0].message.contains("REGION") && !d[0].message.contains("SERVICE_NAME"));
    }

    fn masked(yaml: &str) -> String {
        let out = mask_secrets(yaml.as_bytes(), &EnvSpec::default()).expect("something masked");
        assert_eq!(out.len(), yaml.len());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn masking_hides_every_secret_and_keeps_positions() {
        let yaml = "env:\n  - {name: JWT_SECRET, value: \"s3cretFlowValue\"}\n  - name: DB_PASS\n    value: blockValue1\n  - value: beforeName1\n    name: API_TOKEN\n  - name: DATABASE_URL\n    value: postgres://app:urlPass1@db/x\n  - name: DSN\n    value: host=db password=dsnPass1\n  - name: PRIVATE_KEY\n    value: |\n      multiLine1\n      multiLine2\ndata:\n  STRIPE_API_KEY: mapValue1\n  SERVICE_NAME: orders\n";
        let out = masked(yaml);
        for secret in [
            "s3cretFlowValue",
            "blockValue1",
            "beforeName1",
            "urlPass1",
            "dsnPass1",
            "multiLine1",
            "multiLine2",
            "mapValue1",
        ] {
            assert!(!out.contains(secret), "{secret} in\n{out}");
        }
        assert_eq!(out.lines().count(), yaml.lines().count());
        assert!(out.contains("name: JWT_SECRET") && out.contains("SERVICE_NAME: orders"));
        assert!(mask_secrets(NO_ENV.as_bytes(), &EnvSpec::default()).is_none());
    }

    #[test]
    fn masking_reaches_past_a_syntax_error_and_json() {
        let yaml = "env:\n  - name: x\n    value: [unclosed\n  - {name: JWT_SECRET, value: afterError1}\n  - name: DB_PASSWORD\n    value: afterError2\n";
        let out = masked(yaml);
        assert!(
            !out.contains("afterError1") && !out.contains("afterError2"),
            "{out}"
        );
        let json = "{\"env\": [\n\t{\"name\": \"JWT_SECRET\",\n\t \"value\": \"jsonSecret1\"}]}\n";
        assert!(!masked(json).contains("jsonSecret1"));
        // Not UTF-8: line by line on the bytes.
        let mut bytes = b"- {name: JWT_SECRET, value: rawSecret1} \xff\n".to_vec();
        let out = mask_secrets(&bytes, &EnvSpec::default()).unwrap();
        assert!(!String::from_utf8_lossy(&out).contains("rawSecret1"));
        bytes.truncate(0);
        assert!(mask_secrets(&bytes, &EnvSpec::default()).is_none());
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
