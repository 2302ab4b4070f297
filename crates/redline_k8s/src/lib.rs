//! Kubernetes manifests: loading with source positions (multi-document
//! YAML, `List`, JSON), the workload → pod template → container model, CPU
//! quantities, chart and overlay rendering, the masking of secret values,
//! and the `[slo]` settings RL801 checks against (the SLO specs, read with
//! `redline_slo`). The manifest rules themselves (RL701–RL705, RL801) live
//! in the catalog (`redline_rules::manifests`, `redline_rules::slo`), one
//! file each.
//!
//! [`check_containers`] loads one file and hands every container of every
//! workload to the rules ([`check_documents`] also every document, for the
//! rules that read a workload as a whole). Files that hold no Pod-bearing object produce
//! nothing; malformed YAML in a file that declares a Kubernetes `kind` is
//! `RL000 parse-error`.

pub mod model;
pub mod module;
pub mod quantity;
pub mod render;
pub mod render_cache;
pub mod secrets;
pub mod settings;
pub mod slo_coverage;
pub mod yaml;

pub use module::ModuleFacts;

use model::{Container, Workload};
use redline_config::Document;
use redline_diagnostics::rule::ParseError;
use redline_diagnostics::{Diagnostic, LineIndex, Severity};
use redline_runtime::spec::{EnvSpec, is_env_name};
use std::path::Path;

/// `.yaml`, `.yml` and `.json` files (any case): the one list, kept by
/// discovery.
pub use redline_go::is_manifest_path;

/// Everything the manifest rules need besides the file.
#[derive(Debug, Clone, Default)]
pub struct ManifestContext {
    /// The environment spec (RL705, and which names are secrets for RL704).
    pub env_spec: EnvSpec,
    /// RL703: variables every (selected) container needs, from
    /// `[manifests] required-env` (empty by default: RL703 is inactive
    /// until configured; `[env.NAME] required = true` adds to it).
    pub required_env: Vec<String>,
    /// RL703: only containers with these names; empty means all.
    pub required_env_containers: Vec<String>,
    /// RL701: the deployed module.
    pub module: ModuleFacts,
    /// RL801: the services the SLO specs of `[slo] specs` cover (`None`:
    /// RL801 is inactive).
    pub slo: Option<slo_coverage::SloCoverage>,
}

impl ManifestContext {
    /// Reads `[env]`, `[manifests]` and `[slo]` of `config` (read once, by
    /// `redline_config`), and the module facts of the nearest go.mod above
    /// `scan_root`. `go_version_override` (`go-version` of redline.toml)
    /// replaces the go.mod's version.
    pub fn from_config(
        config: Option<&Document>,
        go_version_override: Option<redline_go::GoVersion>,
        scan_root: &Path,
    ) -> Result<ManifestContext, String> {
        let mut ctx = ManifestContext::default();
        if let Some(doc) = config {
            ctx.env_spec = EnvSpec::from_config(Some(doc))?;
            ctx.slo = slo_coverage::coverage(doc)?;
            if let Some(m) = &doc.tables().manifests {
                if let Some(r) = &m.required_env {
                    if let Some(bad) = r.iter().find(|n| !is_env_name(n.get_ref())) {
                        return Err(doc.error_at(
                            bad.span().start,
                            format!(
                                "[manifests] required-env: `{}` is not an environment \
                                 variable name (letters, digits, `_`)",
                                bad.get_ref()
                            ),
                        ));
                    }
                    ctx.required_env = r.iter().map(|n| n.get_ref().clone()).collect();
                }
                if let Some(c) = &m.required_env_containers {
                    ctx.required_env_containers = c.clone();
                }
            }
        }
        ctx.module = ModuleFacts::discover(scan_root);
        if let Some(v) = go_version_override {
            ctx.module.go_version = Some(v);
        }
        Ok(ctx)
    }
}

/// One container the manifest rules check: its workload, and the file's
/// line index for positions.
pub struct ContainerSite<'a> {
    pub workload: &'a Workload<'a>,
    pub container: &'a Container<'a>,
    pub lines: &'a LineIndex,
}

/// What checks one manifest file with the manifest rules (the catalog's
/// `check_manifest`): rendering calls it on what helm and kustomize write.
pub type ManifestCheck = fn(&str, &[u8], &ManifestContext) -> Vec<Diagnostic>;

/// What checks one container: appends its findings.
pub type ContainerCheck<'c> = dyn FnMut(&ContainerSite<'_>, &mut Vec<Diagnostic>) + 'c;

/// One YAML document of a manifest file, for the rules that read a
/// workload as a whole (RL801), and the file's line index for positions.
pub struct DocumentSite<'a> {
    pub document: &'a yaml::YamlNode,
    pub lines: &'a LineIndex,
}

/// What checks one document: appends its findings.
pub type DocumentCheck<'c> = dyn FnMut(&DocumentSite<'_>, &mut Vec<Diagnostic>) + 'c;

/// Loads one manifest file and calls `check` on every well-formed
/// container of every workload in it. `display_path` is used in the
/// diagnostics; the result is sorted.
///
/// RL000 (docs/rules.md): a file that does not parse is an `error` only when it
/// names a checked built-in kind in a top-level `kind:` line; otherwise,
/// and for unrendered templates, `info`. A file that parses is never
/// RL000 for its syntax, whatever template markers it holds.
pub fn check_containers(
    display_path: &str,
    source: &[u8],
    check: &mut ContainerCheck<'_>,
) -> Vec<Diagnostic> {
    check_documents(
        display_path,
        source,
        &mut |_: &DocumentSite<'_>, _: &mut Vec<Diagnostic>| {},
        check,
    )
}

/// [`check_containers`], and `document` on every YAML document of the
/// file first (also a document with parts Kubernetes rejects: a rule over
/// a whole workload reads only what it needs).
pub fn check_documents(
    display_path: &str,
    source: &[u8],
    document: &mut DocumentCheck<'_>,
    check: &mut ContainerCheck<'_>,
) -> Vec<Diagnostic> {
    let index = LineIndex::new(source);
    let is_json_path = display_path
        .rsplit('.')
        .next()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let text = match std::str::from_utf8(source) {
        Ok(t) => t,
        Err(e) => {
            let lossy = String::from_utf8_lossy(source);
            let severity = if names_checked_kind(&lossy) {
                Severity::Error
            } else if is_json_path && !declares_kubernetes_kind(&lossy) {
                return Vec::new();
            } else {
                Severity::Info
            };
            let mut d = parse_error(
                display_path,
                &index,
                e.valid_up_to(),
                "the file is not valid UTF-8".into(),
            );
            d.severity = severity;
            return vec![d];
        }
    };
    // Tabs are whitespace in JSON but not indentation in YAML; JSON
    // strings cannot hold a raw tab, so swapping them keeps every offset.
    let looks_json = text.trim_start().starts_with(['{', '[']);
    let text = if looks_json {
        std::borrow::Cow::Owned(text.replace('\t', " "))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    let stream = yaml::parse_stream(&text);
    let template = looks_like_template(&text);
    let mut out = Vec::new();
    for doc in &stream.documents {
        check_workloads(doc, &index, document, &mut out);
        check_document(doc, display_path, &index, check, &mut out);
    }
    if template {
        // A template's `{{ … }}` can parse as a YAML mapping where a list
        // belongs: that is an unrendered manifest, not a broken one, and a
        // file that parses is never RL000.
        out.retain(|d| d.rule != &ParseError::META);
    }
    if let Some(err) = &stream.error {
        let mut d = parse_error(display_path, &index, err.offset, err.message.clone());
        if template {
            d.severity = Severity::Info;
            d.message = format!(
                "not checked: this looks like an unrendered Helm/Go or Jinja template \
                 (`{{{{ … }}}}` or `{{% … %}}` outside comments), and it is not valid YAML ({})",
                err.message
            );
            d.help = Some(TEMPLATE_HELP.into());
            out.push(d);
        } else if names_checked_kind(&text) {
            out.push(d);
        } else if !is_json_path || declares_kubernetes_kind(&text) {
            d.severity = Severity::Info;
            d.message = format!(
                "not checked: this YAML does not parse ({}); it names no checked Kubernetes \
                 kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) \
                 in a top-level `kind:` line",
                err.message
            );
            d.help = Some(
                "if it is a manifest, fix the syntax at this position; otherwise exclude it \
                 (`exclude` in redline.toml)"
                    .into(),
            );
            out.push(d);
        }
    }
    redline_diagnostics::sort(&mut out);
    out
}

fn parse_error(path: &str, index: &LineIndex, offset: usize, message: String) -> Diagnostic {
    let mut d = Diagnostic::new(
        &ParseError::META,
        path,
        index.span(offset, offset),
        format!("cannot parse this Kubernetes manifest: {message}"),
    );
    d.help("fix the YAML/JSON syntax at this position (parsing stopped here), then re-run");
    d
}

/// `document` on one document.
fn check_workloads(
    doc: &yaml::YamlNode,
    lines: &LineIndex,
    document: &mut DocumentCheck<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let site = DocumentSite {
        document: doc,
        lines,
    };
    document(&site, out);
}

/// RL000 for the parts of each workload Kubernetes rejects, and `check`
/// on every other container of one document.
fn check_document(
    doc: &yaml::YamlNode,
    path: &str,
    lines: &LineIndex,
    check: &mut ContainerCheck<'_>,
    out: &mut Vec<Diagnostic>,
) {
    for workload in model::workloads(doc) {
        let shape_errors = model::shape_errors(workload.pod_spec);
        for error in &shape_errors {
            let mut d = Diagnostic::new(
                &ParseError::META,
                path,
                lines.span(error.at.start, error.at.end),
                format!(
                    "in {}, {}: Kubernetes rejects this, and redline did not check that part",
                    workload.describe(),
                    error.message,
                ),
            );
            d.help(
                "fix the field's shape (`kubectl apply --dry-run=server -f FILE` shows the API server's error)",
            );
            out.push(d);
        }
        for container in model::containers(workload.pod_spec) {
            // A container with a malformed part is reported above only.
            if shape_errors
                .iter()
                .any(|e| e.container.is_some_and(|c| std::ptr::eq(c, container.node)))
            {
                continue;
            }
            let site = ContainerSite {
                workload: &workload,
                container: &container,
                lines,
            };
            check(&site, out);
        }
    }
}

/// The built-in kinds the manifest rules check.
pub const CHECKED_BUILTIN_KINDS: [&str; 7] = [
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
];

/// A top-level `kind:` line (at column 0, YAML; or a `"kind"` key in a
/// JSON file) naming one of [`CHECKED_BUILTIN_KINDS`].
fn names_checked_kind(text: &str) -> bool {
    let json = text.trim_start().starts_with(['{', '[']);
    let value_is_checked = |rest: &str| {
        let Some(v) = rest.trim_start().strip_prefix(':') else {
            return false;
        };
        let v = v.split(" #").next().unwrap_or(v);
        let v = v.trim().trim_end_matches(',').trim();
        let v = v.trim_matches(|c| c == '"' || c == '\'');
        CHECKED_BUILTIN_KINDS.contains(&v)
    };
    if json {
        // JSON has no line structure to speak of: any `"kind": "Pod"`.
        let mut rest = text;
        while let Some(i) = rest.find("\"kind\"") {
            rest = &rest[i + 6..];
            if value_is_checked(rest.split(['}', '\n']).next().unwrap_or("")) {
                return true;
            }
        }
        return false;
    }
    text.lines().any(|l| {
        let l = l.strip_prefix("---").map_or(l, str::trim_start);
        l.strip_prefix("kind")
            .or_else(|| l.strip_prefix("\"kind\""))
            .or_else(|| l.strip_prefix("'kind'"))
            .is_some_and(value_is_checked)
    })
}

/// A `kind:` next to an `apiVersion:` anywhere (YAML or JSON).
fn declares_kubernetes_kind(text: &str) -> bool {
    let has = |key: &str| {
        text.lines().any(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            let t = t.trim_start_matches('"');
            t.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start_matches('"').trim_start().starts_with(':'))
        })
    };
    has("kind") && has("apiVersion")
}

const TEMPLATE_HELP: &str = "render it and check the output: a Helm chart (a directory with Chart.yaml) is rendered by `redline check` when `helm` is on PATH (or `--helm PATH`); otherwise `helm template CHART | redline check --stdin-filename rendered.yaml -`";

/// Unrendered Helm/Go (`{{ … }}`) or Jinja (`{% … %}`) templates, with the
/// markers outside YAML comments.
pub fn looks_like_template(text: &str) -> bool {
    text.lines().any(|line| {
        let code = strip_comment(line);
        code.contains("{{") || code.contains("{%")
    })
}

/// The part of a YAML line before its comment: a `#` at the start or after
/// whitespace, outside quoted scalars (a quote opens one only where a
/// scalar can start, so the apostrophe of `don't` is text).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut prev = b' ';
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' if matches!(prev, b' ' | b'\t' | b'[' | b'{' | b',' | b':' | b'-') => {
                // Skip to the closing quote ('' and \" are escapes).
                i += 1;
                while i < bytes.len() {
                    if b == b'"' && bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if bytes[i] == b {
                        if b == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
            }
            b'#' if matches!(prev, b' ' | b'\t') || i == 0 => return &line[..i],
            _ => {}
        }
        prev = bytes.get(i).copied().unwrap_or(b' ');
        i += 1;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loader alone: RL000 only, no container rule.
    fn check_manifest(path: &str, source: &[u8], _: &ManifestContext) -> Vec<Diagnostic> {
        check_containers(
            path,
            source,
            &mut |_: &ContainerSite<'_>, _: &mut Vec<Diagnostic>| {},
        )
    }

    #[test]
    fn manifest_paths() {
        assert!(is_manifest_path(Path::new("a/b.yaml")));
        assert!(is_manifest_path(Path::new("b.YML")));
        assert!(is_manifest_path(Path::new("b.json")));
        assert!(!is_manifest_path(Path::new("b.go")));
        assert!(!is_manifest_path(Path::new("yaml")));
    }

    #[test]
    fn parse_errors_only_for_kubernetes_files() {
        let ctx = ManifestContext::default();
        let bad = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n";
        let d = check_manifest("pod.yaml", bad, &ctx);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].rule.id, "RL000");
        assert_eq!(d[0].rule.name, "parse-error");
        assert!(d[0].span.line >= 4, "{:?}", d[0].span);
        // Other YAML that does not parse: a notice, not an error.
        let d = check_manifest("values.yaml", b"a: [x\n", &ctx);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].rule.id, d[0].severity), ("RL000", Severity::Info));
        // A broken JSON file that is no manifest (tsconfig with comments).
        assert!(check_manifest("tsconfig.json", b"{ // c\n \"a\": 1 }", &ctx).is_empty());
        let tpl = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels: {{- include \"x\" . | nindent 4 }}\n";
        let d = check_manifest("templates/d.yaml", tpl, &ctx);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].rule.id, d[0].severity), ("RL000", Severity::Info));
        assert!(d[0].message.contains("unrendered"), "{}", d[0].message);
        // A rendered ConfigMap may hold `{{ }}` in its data: checked as usual.
        let cm = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  t: '{{ .Labels.x }}'\n";
        assert!(check_manifest("cm.yaml", cm, &ctx).is_empty());
        let not_utf8 = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: \xff\n";
        let d = check_manifest("pod.yaml", not_utf8, &ctx);
        assert_eq!(d[0].rule.id, "RL000");
        assert_eq!(d[0].span.line, 4);
    }

    #[test]
    fn parse_error_severity_follows_the_top_level_kind() {
        let ctx = ManifestContext::default();
        let sev = |src: &str| {
            let d = check_manifest("x.yaml", src.as_bytes(), &ctx);
            assert_eq!(d.len(), 1, "{src}: {d:?}");
            assert_eq!(d[0].rule.id, "RL000");
            d[0].severity
        };
        // A checked built-in kind at the top level: error.
        assert_eq!(
            sev("apiVersion: batch/v1\nkind: Job\nspec: [x\n"),
            Severity::Error
        );
        assert_eq!(
            sev("---\napiVersion: v1\nkind: \"Pod\" # c\nspec: [x\n"),
            Severity::Error
        );
        // A CRD (not a checked kind) that does not parse: info.
        assert_eq!(
            sev("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: [x\n"),
            Severity::Info
        );
        // `kind: Pod` nested (not at the top level) does not count.
        assert_eq!(
            sev("apiVersion: v1\nkind: List\nitems:\n  - kind: Pod\n    spec: [x\n"),
            Severity::Info
        );
        // A template marker outside comments: info, even for a Deployment.
        assert_eq!(
            sev("apiVersion: apps/v1\nkind: Deployment\nspec: {% if x %}\n  a: [b\n"),
            Severity::Info
        );
        // `{{` inside a comment does not make a file a template.
        let commented =
            "# use {{ .Values.x }} in the chart\napiVersion: apps/v1\nkind: Deployment\nspec: [x\n";
        assert_eq!(sev(commented), Severity::Error);
        let d = check_manifest("x.yaml", commented.as_bytes(), &ctx);
        assert!(
            !d[0].help.as_deref().unwrap_or("").contains("kubectl"),
            "{d:?}"
        );
        assert!(!looks_like_template("a: b # {{ x }}\n"));
        assert!(!looks_like_template("a: 'x # y' # {{ x }}\n"));
        assert!(!looks_like_template("a: don't # {{ x }}\n"));
        assert!(looks_like_template("a: \"#\" {{ x }}\n"));
        assert!(looks_like_template("a: {{ x }}\n"));
        // A template that parses is never RL000, whatever its markers.
        let parses = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          env: {{ .Values.env }}\n";
        assert!(check_manifest("t.yaml", parses.as_bytes(), &ctx).is_empty());
    }

    #[test]
    fn context_from_config() {
        let dir = std::env::temp_dir().join(format!("redline-k8s-ctx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("redline.toml");
        let context = |go| {
            Document::load(&cfg).and_then(|doc| ManifestContext::from_config(Some(&doc), go, &dir))
        };
        std::fs::write(
            &cfg,
            "[manifests]\nrequired-env = [\"REGION\"]\nrequired-env-containers = [\"api\"]\n[helm]\ntimeout-seconds = 5\n",
        )
        .unwrap();
        let go_1_25 = redline_go::GoVersion::new(1, 25);
        let ctx = context(Some(go_1_25)).unwrap();
        assert_eq!(ctx.required_env, ["REGION"]);
        assert_eq!(ctx.required_env_containers, ["api"]);
        assert_eq!(ctx.module.go_version, Some(go_1_25));
        std::fs::write(&cfg, "[manifests]\nrequired_env = [\"REGION\"]\n").unwrap();
        let err = context(None).unwrap_err();
        assert!(err.contains("redline.toml:2"), "{err}");
        std::fs::write(
            &cfg,
            "[manifests]\nrequired-env = [\n  \"OK\",\n  \"a-b\",\n]\n",
        )
        .unwrap();
        let err = context(None).unwrap_err();
        assert!(
            err.contains("redline.toml:4:3: [manifests] required-env") && err.contains("a-b"),
            "{err}"
        );
    }
}
