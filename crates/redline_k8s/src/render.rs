//! Manifests as teams ship them: Helm charts rendered with the user's
//! `helm`, Kustomize overlays built with the user's `kustomize` (or
//! `kubectl kustomize`), and the findings of the rendered objects traced
//! back to the template or source file they came from (docs/rules.md,
//! "Kubernetes manifests").
//!
//! The driver calls [`plan`] with the manifest files it discovered: that
//! finds the charts and the overlays (entry points), and tells which files
//! they own (never also checked as raw YAML). [`render_chart`] and
//! [`build_overlay`] then run the tool and check the output.

use crate::render_cache::RenderCache;
use crate::settings::{ChartSettings, RenderSettings};
use crate::{ManifestCheck, ManifestContext, yaml};
use redline_diagnostics::{Diagnostic, LineIndex, Severity};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How findings are shown: the driver's display path of a file.
pub type Display<'a> = &'a (dyn Fn(&Path) -> String + Sync);

/// A chart to render (one per `[[helm.charts]]` entry, or one with the
/// chart's own values when redline.toml names none for it).
#[derive(Debug, Clone)]
pub struct ChartJob {
    /// The chart directory (with Chart.yaml).
    pub dir: PathBuf,
    /// `name:` of Chart.yaml (the first path component of `# Source:`).
    pub name: String,
    pub release: String,
    pub namespace: Option<String>,
    /// Values files, in order, after the chart's own values.yaml.
    pub values: Vec<PathBuf>,
}

/// A Kustomize overlay: a kustomization no other kustomization in the
/// tree uses.
#[derive(Debug, Clone)]
pub struct OverlayJob {
    pub dir: PathBuf,
    /// Its kustomization file.
    pub file: PathBuf,
}

/// What [`plan`] found.
#[derive(Debug, Default)]
pub struct Plan {
    pub charts: Vec<ChartJob>,
    pub overlays: Vec<OverlayJob>,
    /// Files of charts (templates, values, subcharts): never raw YAML.
    pub chart_files: BTreeSet<PathBuf>,
    /// Files every overlay's kustomizations name (resources, patches,
    /// the kustomization files): not raw YAML once their overlay built.
    pub overlay_files: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    /// Files of Kustomize components (`kind: Component`) and their
    /// patches: never deployed on their own, so not raw YAML when
    /// kustomize is there to build the overlays that use them.
    pub component_files: BTreeSet<PathBuf>,
}

/// The result of rendering one chart or overlay.
#[derive(Debug, Default)]
pub struct Rendered {
    pub diagnostics: Vec<Diagnostic>,
    /// Source text of the files findings point at (for code frames and
    /// suppression comments), by display path.
    pub sources: BTreeMap<String, Arc<[u8]>>,
    /// Files whose raw check this rendering replaces.
    pub consumed: BTreeSet<PathBuf>,
    /// Workloads (Pod-bearing objects) checked in the rendered output.
    pub workloads: usize,
}

pub(crate) const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Finds charts and overlays among `files` (the discovered manifest
/// files; explicit files named on the command line are left out by the
/// caller).
pub fn plan(files: &[PathBuf], settings: &RenderSettings) -> Result<Plan, String> {
    let mut plan = Plan::default();
    // Charts: directories with Chart.yaml; one inside another (subcharts
    // under charts/, examples) is part of the outer one.
    let mut chart_dirs: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "Chart.yaml"))
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    chart_dirs.sort();
    chart_dirs.dedup();
    let outer: Vec<PathBuf> = chart_dirs
        .iter()
        .filter(|d| !chart_dirs.iter().any(|o| o != *d && d.starts_with(o)))
        .cloned()
        .collect();
    for f in files {
        if outer.iter().any(|d| f.starts_with(d)) {
            plan.chart_files.insert(f.clone());
        }
    }
    for dir in &outer {
        let chart_yaml = std::fs::read_to_string(dir.join("Chart.yaml")).unwrap_or_default();
        let meta = chart_meta(&chart_yaml);
        if meta.library {
            continue;
        }
        let name = meta.name.unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "chart".into())
        });
        let configured: Vec<&ChartSettings> = settings
            .charts
            .iter()
            .filter(|c| same_dir(&c.path, dir))
            .collect();
        if configured.is_empty() {
            plan.charts.push(ChartJob {
                dir: dir.clone(),
                release: name.clone(),
                name: name.clone(),
                namespace: None,
                values: Vec::new(),
            });
        }
        for c in configured {
            plan.charts.push(ChartJob {
                dir: dir.clone(),
                name: name.clone(),
                release: c.release.clone().unwrap_or_else(|| name.clone()),
                namespace: c.namespace.clone(),
                values: c.values.clone(),
            });
        }
    }
    // Kustomizations outside charts.
    let mut kdirs: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    for f in files {
        if plan.chart_files.contains(f) {
            continue;
        }
        let Some(dir) = f.parent() else { continue };
        if kdirs.contains_key(dir) {
            continue;
        }
        if let Some(k) = KUSTOMIZATION_NAMES
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
        {
            kdirs.insert(dir.to_path_buf(), k);
        }
    }
    let mut kinfo: BTreeMap<PathBuf, Kustomization> = BTreeMap::new();
    for (dir, file) in &kdirs {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        kinfo.insert(dir.clone(), Kustomization::read(dir, &text));
    }
    let used: BTreeSet<PathBuf> = kinfo
        .values()
        .flat_map(|k| k.dirs.iter().map(|d| normalize(d)))
        .collect();
    for (dir, file) in &kdirs {
        let k = &kinfo[dir];
        if k.component {
            plan.component_files.insert(file.clone());
            plan.component_files
                .extend(k.files.iter().map(|f| normalize(f)));
            continue;
        }
        if used.contains(&normalize(dir)) {
            continue;
        }
        // Everything its kustomizations name, transitively.
        let mut owned = BTreeSet::new();
        let mut stack = vec![dir.clone()];
        let mut seen = BTreeSet::new();
        while let Some(d) = stack.pop() {
            let d = normalize(&d);
            if !seen.insert(d.clone()) || seen.len() > 200 {
                continue;
            }
            let info = match kinfo.get(&d) {
                Some(i) => i.clone(),
                None => {
                    let Some(f) = KUSTOMIZATION_NAMES
                        .iter()
                        .map(|n| d.join(n))
                        .find(|p| p.is_file())
                    else {
                        continue;
                    };
                    owned.insert(f.clone());
                    Kustomization::read(&d, &std::fs::read_to_string(&f).unwrap_or_default())
                }
            };
            if let Some(f) = kdirs.get(&d) {
                owned.insert(f.clone());
            }
            owned.extend(info.files.iter().map(|f| normalize(f)));
            stack.extend(info.dirs.iter().cloned());
        }
        plan.overlays.push(OverlayJob {
            dir: dir.clone(),
            file: file.clone(),
        });
        plan.overlay_files.insert(dir.clone(), owned);
    }
    Ok(plan)
}

/// `Chart.yaml`'s `name:` and whether its `type:` is `library`.
struct ChartMeta {
    name: Option<String>,
    library: bool,
}

fn chart_meta(text: &str) -> ChartMeta {
    let stream = yaml::parse_stream(text);
    let doc = stream.documents.first();
    ChartMeta {
        name: doc.and_then(|d| d.get_str("name")).map(str::to_string),
        library: doc.and_then(|d| d.get_str("type")) == Some("library"),
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => normalize(a) == normalize(b),
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_up = matches!(out.components().next_back(), Some(Component::ParentDir));
                if last_is_up || !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// What a kustomization names.
#[derive(Debug, Clone, Default)]
struct Kustomization {
    /// Directories it uses (other kustomizations: resources, bases,
    /// components).
    dirs: Vec<PathBuf>,
    /// Files it names (resources, patches, crds).
    files: Vec<PathBuf>,
    /// `kind: Component`: never an entry point.
    component: bool,
}

impl Kustomization {
    fn read(dir: &Path, text: &str) -> Kustomization {
        let mut k = Kustomization::default();
        let stream = yaml::parse_stream(text);
        let Some(doc) = stream.documents.first() else {
            return k;
        };
        k.component = doc.get_str("kind") == Some("Component");
        let mut add = |rel: &str| {
            if rel.contains("://") || rel.starts_with("github.com/") || rel.is_empty() {
                return;
            }
            let p = normalize(&dir.join(rel));
            if p.is_dir() {
                k.dirs.push(p);
            } else {
                k.files.push(p);
            }
        };
        for key in [
            "resources",
            "bases",
            "components",
            "crds",
            "patchesStrategicMerge",
        ] {
            for item in doc.get(key).and_then(yaml::YamlNode::as_seq).unwrap_or(&[]) {
                if let Some(s) = item.as_str() {
                    add(s);
                }
            }
        }
        for key in ["patches", "patchesJson6902"] {
            for item in doc.get(key).and_then(yaml::YamlNode::as_seq).unwrap_or(&[]) {
                if let Some(s) = item.get_str("path") {
                    add(s);
                }
            }
        }
        k
    }
}

/// A tool to run, with the arguments that come before the job's own
/// (`kubectl kustomize` is `kubectl` + `kustomize`).
#[derive(Debug, Clone)]
pub struct Tool {
    pub program: PathBuf,
    pub prefix: Vec<String>,
}

/// The output of a run that ended in time.
struct ToolOutput {
    success: bool,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `tool args…` in `cwd` with no standard input, killing it after
/// `timeout`.
fn run_tool(tool: &Tool, args: &[String], timeout: Duration) -> Result<ToolOutput, String> {
    let mut child = Command::new(&tool.program)
        .args(&tool.prefix)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", tool.program.display()))?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{}` did not finish within {} s and was stopped",
                    tool.program.display(),
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for `{}`: {e}", tool.program.display())),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(ToolOutput {
        success: status.success(),
        stdout,
        stderr: String::from_utf8_lossy(&stderr).trim().to_string(),
    })
}

/// The tool's output from the render cache when an entry is there under
/// `key`, else a run of the tool (stored when it succeeded). `store` and
/// `load` map the output to and from its stored form.
fn run_cached(
    settings: &RenderSettings,
    key: Option<u128>,
    store: impl FnOnce(Vec<u8>) -> Vec<u8>,
    load: impl FnOnce(Vec<u8>) -> Vec<u8>,
    run: impl FnOnce() -> Result<ToolOutput, String>,
) -> Result<ToolOutput, String> {
    let cache = settings.cache.as_ref().zip(key);
    if let Some((c, k)) = cache
        && let Some(stored) = c.get(k)
    {
        return Ok(ToolOutput {
            success: true,
            stdout: load(stored),
            stderr: String::new(),
        });
    }
    let output = run();
    match (&output, cache) {
        (Ok(out), Some((c, k))) if out.success => c.put(k, &store(out.stdout.clone())),
        _ => {
            if let Some(c) = &settings.cache {
                c.note_unstored();
            }
        }
    }
    output
}

/// An RL000 for a whole chart or overlay, at line 1 of `file`.
fn notice(
    file: &Path,
    display: Display,
    severity: Severity,
    message: String,
    help: String,
) -> (Diagnostic, String, Arc<[u8]>) {
    let source: Arc<[u8]> = std::fs::read(file).unwrap_or_default().into();
    let path = display(file);
    let d = Diagnostic {
        rule: &redline_diagnostics::rule::ParseError::META,
        severity,
        path: path.clone(),
        span: LineIndex::new(&source).span(0, 0),
        message,
        help: Some(help),
        fix: None,
    };
    (d, path, source)
}

fn push_notice(out: &mut Rendered, n: (Diagnostic, String, Arc<[u8]>)) {
    out.sources.insert(n.1, n.2);
    out.diagnostics.push(n.0);
}

/// helm's message, shortened to what a reader needs (its last lines).
fn tool_message(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            !l.trim().is_empty()
                && !l.starts_with("Use --debug flag")
                && !l.starts_with("# Warning")
        })
        .collect();
    // From the first `Error:` line on (warnings before it are noise).
    let from = lines
        .iter()
        .position(|l| l.starts_with("Error:"))
        .unwrap_or(lines.len().saturating_sub(6));
    let tail = &lines[from..lines.len().min(from + 6)];
    let msg = tail.join(" / ");
    if msg.is_empty() {
        "(no message)".into()
    } else if msg.len() > 1500 {
        let mut end = 1500;
        while !msg.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &msg[..end])
    } else {
        msg
    }
}

/// Resolves a values file: relative to the chart directory, else to
/// redline.toml's directory.
fn values_path(job: &ChartJob, settings: &RenderSettings, v: &Path) -> PathBuf {
    if v.is_absolute() {
        return v.to_path_buf();
    }
    let in_chart = job.dir.join(v);
    if in_chart.is_file() {
        return in_chart;
    }
    match &settings.base_dir {
        Some(b) => b.join(v),
        None => in_chart,
    }
}

/// Renders one chart and checks what helm writes.
pub fn render_chart(
    job: &ChartJob,
    settings: &RenderSettings,
    ctx: &ManifestContext,
    check: ManifestCheck,
    display: Display,
) -> Rendered {
    let mut out = Rendered::default();
    let chart_yaml = job.dir.join("Chart.yaml");
    let chart_shown = display(&job.dir);
    let Some(helm) = &settings.helm else {
        push_notice(
            &mut out,
            notice(
                &chart_yaml,
                display,
                Severity::Info,
                format!(
                    "not checked: `{chart_shown}` is a Helm chart, and `helm` is not on PATH, so \
                     its templates were not rendered"
                ),
                "install helm (v3) or point redline at it (`--helm PATH`, or `[helm] binary` in \
                 redline.toml) to check what this chart deploys"
                    .into(),
            ),
        );
        return out;
    };
    let values: Vec<PathBuf> = job
        .values
        .iter()
        .map(|v| values_path(job, settings, v))
        .collect();
    let mut args = vec![
        "template".to_string(),
        job.release.clone(),
        job.dir.to_string_lossy().into_owned(),
    ];
    if let Some(v) = &settings.kube_version {
        args.push("--kube-version".into());
        args.push(v.clone());
    }
    if let Some(ns) = &job.namespace {
        args.push("--namespace".into());
        args.push(ns.clone());
    }
    for v in &values {
        args.push("--values".into());
        args.push(v.to_string_lossy().into_owned());
    }
    let values_shown = if values.is_empty() {
        "the chart's values.yaml".to_string()
    } else {
        format!(
            "the chart's values.yaml + {}",
            values
                .iter()
                .map(|v| display(v))
                .collect::<Vec<_>>()
                .join(" + ")
        )
    };
    let what = format!(
        "chart `{chart_shown}` (release `{}`{}, values: {values_shown})",
        job.release,
        job.namespace
            .as_ref()
            .map(|n| format!(", namespace `{n}`"))
            .unwrap_or_default()
    );
    let key = settings.cache.as_ref().and_then(|c| {
        c.chart_key(
            helm,
            &job.dir,
            &job.release,
            job.namespace.as_deref(),
            settings.kube_version.as_deref(),
            &values,
        )
    });
    let output = match run_cached(
        settings,
        key,
        |stdout| stdout,
        |stdout| stdout,
        || run_tool(helm, &args, settings.timeout),
    ) {
        Ok(o) if o.success => o,
        Ok(o) => {
            push_notice(
                &mut out,
                notice(
                    &chart_yaml,
                    display,
                    Severity::Error,
                    format!(
                        "cannot render {what}: helm says: {}",
                        tool_message(&o.stderr)
                    ),
                    "make `helm template` render it: give it the values it needs \
                     (`[[helm.charts]] values = […]` in redline.toml), fix the template, or put \
                     the dependencies Chart.yaml lists into charts/ (`helm dependency build`)"
                        .into(),
                ),
            );
            return out;
        }
        Err(e) => {
            push_notice(
                &mut out,
                notice(
                    &chart_yaml,
                    display,
                    Severity::Error,
                    format!("cannot render {what}: {e}"),
                    "check that `helm template` works on this chart".into(),
                ),
            );
            return out;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    for chunk in split_helm_output(&text) {
        let template = chunk.source.as_deref().and_then(|s| {
            // `name/templates/x.yaml`, `name/charts/sub/templates/x.yaml`.
            let rel = s.split_once('/').map(|(_, r)| r)?;
            Some(job.dir.join(rel))
        });
        let target = match &template {
            Some(t) if t.is_file() => Attribution::File(t.clone()),
            _ => Attribution::Fallback(chart_yaml.clone()),
        };
        let origin = chunk
            .source
            .as_deref()
            .map(|s| format!("template `{s}` of {what}"))
            .unwrap_or_else(|| what.clone());
        check_chunk(
            &chunk.text,
            &target,
            &origin,
            &[],
            (ctx, check),
            display,
            &mut out,
        );
    }
    out.consumed.insert(chart_yaml);
    out
}

/// One document of helm's output and its `# Source:` line.
struct Chunk {
    source: Option<String>,
    text: String,
}

fn split_helm_output(text: &str) -> Vec<Chunk> {
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut current = Chunk {
        source: None,
        text: String::new(),
    };
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            if !current.text.trim().is_empty() {
                chunks.push(current);
            }
            current = Chunk {
                source: None,
                text: String::new(),
            };
            continue;
        }
        if current.source.is_none()
            && let Some(s) = line.strip_prefix("# Source: ")
        {
            current.source = Some(s.trim().to_string());
        }
        current.text.push_str(line);
    }
    if !current.text.trim().is_empty() {
        chunks.push(current);
    }
    chunks
}

/// Where a rendered document's findings go.
enum Attribution {
    /// The template or source file it came from: findings at the best
    /// matching line.
    File(PathBuf),
    /// No source file on disk (a packed subchart, a generated object):
    /// findings at line 1 of this file (Chart.yaml, the kustomization).
    Fallback(PathBuf),
}

/// Checks one rendered document and moves its findings to `target`.
fn check_chunk(
    text: &str,
    target: &Attribution,
    origin: &str,
    notes: &[String],
    (ctx, check): (&ManifestContext, ManifestCheck),
    display: Display,
    out: &mut Rendered,
) {
    let stream = yaml::parse_stream(text);
    let objects: Vec<String> = stream
        .documents
        .iter()
        .flat_map(crate::model::workloads)
        .map(|w| match w.name {
            Some(n) => format!("{} `{n}`", w.kind),
            None => w.kind.to_string(),
        })
        .collect();
    out.workloads += objects.len();
    let (file, exact) = match target {
        Attribution::File(f) => (f, true),
        Attribution::Fallback(f) => (f, false),
    };
    let shown = display(file);
    let diags = check(&shown, text.as_bytes(), ctx);
    if diags.is_empty() {
        return;
    }
    let source: Arc<[u8]> = match out.sources.get(&shown) {
        Some(s) => s.clone(),
        None => std::fs::read(file).unwrap_or_default().into(),
    };
    let source_text = String::from_utf8_lossy(&source).into_owned();
    let index = LineIndex::new(&source);
    let rendered_lines: Vec<&str> = text.lines().collect();
    let object = if objects.is_empty() {
        String::new()
    } else {
        format!("{}, ", objects.join(", "))
    };
    for mut d in diags {
        let rendered_line = rendered_lines
            .get(d.span.line.saturating_sub(1))
            .copied()
            .unwrap_or("");
        let (start, end) = if exact {
            best_match(&source_text, rendered_line, d.span.line, d.rule.id)
        } else {
            (0, 0)
        };
        d.span = index.span(start, end);
        d.path = shown.clone();
        // The rule's message names the object already, most of the time.
        let object = if objects.iter().all(|o| d.message.contains(o.as_str())) {
            ""
        } else {
            object.as_str()
        };
        let mut suffix = format!("{object}rendered from {origin}");
        for n in notes {
            suffix.push_str("; ");
            suffix.push_str(n);
        }
        d.message = format!("{} [{suffix}]", d.message);
        out.diagnostics.push(d);
    }
    out.sources.insert(shown, source);
}

/// The byte range in `source` (a template or source file) that best
/// matches the rendered line a finding is at: the same line text (e.g.
/// `- name: DB_PASSWORD`), else a line with the same key holding a
/// template expression (`- name: {{ .Chart.Name }}`), else the line that
/// brings in the section (`env:`/`containers:` with `{{`), else line 1.
/// Of several candidates, the one nearest `rendered_no`.
pub fn best_match(source: &str, rendered: &str, rendered_no: usize, rule: &str) -> (usize, usize) {
    let norm = |l: &str| {
        let t = l.trim();
        let t = t.strip_prefix("- ").unwrap_or(t).trim_start();
        t.trim_end_matches(|c: char| c.is_whitespace()).to_string()
    };
    let wanted = norm(rendered);
    let key = wanted
        .split_once(':')
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .unwrap_or_default();
    let mut offsets = Vec::new();
    let mut at = 0;
    for line in source.split_inclusive('\n') {
        offsets.push((at, line));
        at += line.len();
    }
    let pick = |pred: &dyn Fn(&str) -> bool| -> Option<(usize, usize)> {
        offsets
            .iter()
            .enumerate()
            .filter(|(_, (_, l))| pred(l))
            .min_by_key(|(i, _)| (i + 1).abs_diff(rendered_no))
            .map(|(_, (start, l))| {
                let lead = l.len() - l.trim_start().len();
                let body = l.trim_end();
                (start + lead, start + body.len().max(lead))
            })
    };
    let without_comment = |l: &str| -> String {
        let t = norm(l);
        match t.find(" #") {
            Some(i) => t[..i].trim_end().to_string(),
            None => t,
        }
    };
    if !wanted.is_empty()
        && let Some(r) = pick(&|l| without_comment(l) == without_comment(&wanted))
    {
        return r;
    }
    if !key.is_empty()
        && let Some(r) = pick(&|l| {
            let t = norm(l);
            t.starts_with(&format!("{key}:")) && t.contains("{{")
        })
    {
        return r;
    }
    let section = if matches!(rule, "RL701" | "RL703") {
        "containers"
    } else {
        "env"
    };
    if let Some(r) = pick(&|l| l.contains(section) && l.contains("{{")) {
        return r;
    }
    (0, 0)
}

/// Builds one overlay and checks the objects kustomize writes.
pub fn build_overlay(
    job: &OverlayJob,
    owned: &BTreeSet<PathBuf>,
    settings: &RenderSettings,
    ctx: &ManifestContext,
    check: ManifestCheck,
    display: Display,
) -> Rendered {
    let mut out = Rendered::default();
    let overlay_shown = display(&job.dir);
    let Some(tool) = &settings.kustomize else {
        push_notice(
            &mut out,
            notice(
                &job.file,
                display,
                Severity::Info,
                format!(
                    "not built: `{overlay_shown}` is a Kustomize overlay, and neither \
                     `kustomize` nor `kubectl` is on PATH; its files were checked as they are"
                ),
                "install kustomize (or kubectl) or point redline at it (`--kustomize PATH`, or \
                 `[kustomize] binary` in redline.toml) to check what this overlay deploys"
                    .into(),
            ),
        );
        return out;
    };
    let what = format!("overlay `{overlay_shown}`");
    let built = match build_with_origins(tool, &job.dir, settings) {
        Ok(b) => b,
        Err(message) => {
            push_notice(
                &mut out,
                // `info`: the kustomization file itself parses (a file that
                // parses is never an RL000 error), and overlays often fail
                // to build for reasons outside the code under review
                // (remote resources without network, generated files, dev
                // or design overlays) — the field test's six false errors.
                notice(
                    &job.file,
                    display,
                    Severity::Info,
                    format!("cannot build {what}, so it was not checked: {message}"),
                    "fix the overlay so that `kustomize build` builds it, or exclude it (`exclude` in redline.toml)".into(),
                ),
            );
            return out;
        }
    };
    let (text, wrapper) = built;
    for chunk in split_documents(&text) {
        let stream = yaml::parse_stream(&chunk);
        let doc = stream.documents.first();
        let annotation = |key: &str| {
            doc.and_then(|d| d.path(&["metadata", "annotations", key]))
                .and_then(yaml::YamlNode::as_str)
                .map(str::to_string)
        };
        let origin = annotation("config.kubernetes.io/origin").map(|o| {
            let s = yaml::parse_stream(&o);
            let d = s.documents.first();
            (
                d.and_then(|d| d.get_str("path")).map(str::to_string),
                d.and_then(|d| d.get_str("configuredIn"))
                    .map(str::to_string),
                d.and_then(|d| d.get_str("repo")).is_some(),
            )
        });
        let resolve = |rel: &str| normalize(&wrapper.join(rel));
        let target = match &origin {
            Some((Some(p), _, false)) if resolve(p).is_file() => {
                let file = unwrap_real(&resolve(p), &job.dir);
                out.consumed.insert(file.clone());
                Attribution::File(file)
            }
            Some((_, Some(k), false)) if resolve(k).is_file() => {
                Attribution::Fallback(unwrap_real(&resolve(k), &job.dir))
            }
            _ => Attribution::Fallback(job.file.clone()),
        };
        let mut notes = Vec::new();
        if let Some(t) = annotation("alpha.config.kubernetes.io/transformations") {
            let s = yaml::parse_stream(&t);
            let kind = doc.and_then(|d| d.get_str("kind")).unwrap_or("");
            let name = doc
                .and_then(|d| d.path(&["metadata", "name"]))
                .and_then(yaml::YamlNode::as_str)
                .unwrap_or("");
            let mut kustomizations: Vec<PathBuf> = s
                .documents
                .first()
                .and_then(yaml::YamlNode::as_seq)
                .unwrap_or(&[])
                .iter()
                .filter(|t| {
                    t.path(&["configuredBy", "kind"])
                        .and_then(yaml::YamlNode::as_str)
                        .is_some_and(|k| k.contains("Patch"))
                })
                .filter_map(|t| t.get_str("configuredIn"))
                .map(|k| unwrap_real(&resolve(k), &job.dir))
                .collect();
            kustomizations.dedup();
            // kustomize lists its patch transformer on every object; name
            // the patches that target this one.
            let patches: Vec<String> = kustomizations
                .iter()
                .flat_map(|k| patches_targeting(k, kind, name))
                .map(|p| display(&p))
                .collect();
            if !patches.is_empty() {
                notes.push(format!("patched by {}", patches.join(", ")));
            }
        }
        check_chunk(
            &chunk,
            &target,
            &format!("{what} by kustomize"),
            &notes,
            (ctx, check),
            display,
            &mut out,
        );
    }
    out.consumed.extend(owned.iter().cloned());
    out.consumed.insert(job.file.clone());
    out
}

/// The patch files (or, for an inline patch, the kustomization itself)
/// of `kustomization` whose target or patched object has this kind and,
/// after a `namePrefix`/`nameSuffix`, this name.
fn patches_targeting(kustomization: &Path, kind: &str, name: &str) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(kustomization) else {
        return Vec::new();
    };
    let dir = kustomization.parent().unwrap_or(Path::new("."));
    let stream = yaml::parse_stream(&text);
    let Some(doc) = stream.documents.first() else {
        return Vec::new();
    };
    let matches = |k: Option<&str>, n: Option<&str>| {
        k.is_none_or(|k| k == kind) && n.is_none_or(|n| !n.is_empty() && name.contains(n))
    };
    let patched_object = |text: &str| {
        yaml::parse_stream(text).documents.iter().any(|d| {
            matches(
                d.get_str("kind"),
                d.path(&["metadata", "name"])
                    .and_then(yaml::YamlNode::as_str),
            )
        })
    };
    let mut out = Vec::new();
    let mut file_entries: Vec<(Option<&yaml::YamlNode>, Option<String>)> = Vec::new();
    for item in doc
        .get("patches")
        .and_then(yaml::YamlNode::as_seq)
        .unwrap_or(&[])
    {
        file_entries.push((item.get("target"), item.get_str("path").map(str::to_string)));
        if let Some(inline) = item.get_str("patch")
            && item.get("target").is_none()
            && patched_object(inline)
        {
            out.push(kustomization.to_path_buf());
        }
    }
    for item in doc
        .get("patchesStrategicMerge")
        .and_then(yaml::YamlNode::as_seq)
        .unwrap_or(&[])
    {
        file_entries.push((None, item.as_str().map(str::to_string)));
    }
    for (target, path) in file_entries {
        let file = path.as_ref().map(|p| normalize(&dir.join(p)));
        let hit = match target {
            Some(t) => matches(t.get_str("kind"), t.get_str("name")),
            None => file
                .as_ref()
                .and_then(|f| std::fs::read_to_string(f).ok())
                .is_some_and(|t| patched_object(&t)),
        };
        if hit {
            out.push(file.unwrap_or_else(|| kustomization.to_path_buf()));
        }
    }
    out.dedup();
    out
}

/// Paths in origin annotations are relative to the wrapper directory; the
/// wrapper reaches the overlay through its canonical path, so map that
/// prefix back to the path the driver uses.
fn unwrap_real(path: &Path, overlay: &Path) -> PathBuf {
    let Ok(real_overlay) = overlay.canonicalize() else {
        return path.to_path_buf();
    };
    // The deepest common ancestor of the canonical overlay and `path`,
    // re-rooted at the overlay as the driver names it.
    let mut base_real = real_overlay.clone();
    let mut base_shown = overlay.to_path_buf();
    loop {
        if let Ok(rest) = path.strip_prefix(&base_real) {
            return normalize(&base_shown.join(rest));
        }
        if !base_real.pop() {
            return path.to_path_buf();
        }
        base_shown = base_shown.join("..");
    }
}

/// The relative path from directory `from` to `to` (both absolute).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// `kustomize build` of a wrapper kustomization (in a temporary
/// directory) that includes the overlay and asks for origin and
/// transformer annotations. Returns the output and the wrapper directory
/// (origin paths are relative to it).
fn build_with_origins(
    tool: &Tool,
    overlay: &Path,
    settings: &RenderSettings,
) -> Result<(String, PathBuf), String> {
    let real = overlay
        .canonicalize()
        .map_err(|e| format!("{}: {e}", overlay.display()))?;
    let base = std::env::temp_dir()
        .canonicalize()
        .unwrap_or_else(|_| std::env::temp_dir());
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let wrapper = base.join(format!(
        "redline-kustomize-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&wrapper).map_err(|e| format!("{}: {e}", wrapper.display()))?;
    let rel = relative(&wrapper, &real);
    let body = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - {}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n",
        json_string(&rel.to_string_lossy())
    );
    let result = std::fs::write(wrapper.join("kustomization.yaml"), body)
        .map_err(|e| format!("{}: {e}", wrapper.display()))
        .and_then(|()| {
            // `kustomize build DIR`, but `kubectl kustomize DIR`.
            let mut args = Vec::new();
            if tool.prefix.is_empty() {
                args.push("build".to_string());
            }
            args.push(wrapper.to_string_lossy().into_owned());
            // Cached output names the files below the scanned root
            // relative to it, not to this wrapper.
            let key = settings
                .cache
                .as_ref()
                .and_then(|c| c.overlay_key(tool, overlay));
            let prefix = settings
                .cache
                .as_ref()
                .map(|c| format!("{}/", relative(&wrapper, c.root()).to_string_lossy()))
                .unwrap_or_default();
            run_cached(
                settings,
                key,
                |stdout| {
                    RenderCache::to_stored(&String::from_utf8_lossy(&stdout), &prefix).into_bytes()
                },
                |stored| {
                    RenderCache::from_stored(&String::from_utf8_lossy(&stored), &prefix)
                        .into_bytes()
                },
                || run_tool(tool, &args, settings.timeout),
            )
        });
    let _ = std::fs::remove_dir_all(&wrapper);
    let output = result?;
    if !output.success {
        // Name the overlay as the user knows it, not through the wrapper.
        let message = tool_message(&output.stderr).replace(
            &format!("'{}'", rel.to_string_lossy()),
            &format!("'{}'", overlay.display()),
        );
        return Err(format!("kustomize says: {message}"));
    }
    Ok((
        String::from_utf8_lossy(&output.stdout).into_owned(),
        wrapper,
    ))
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The documents of a multi-document stream, as text.
fn split_documents(text: &str) -> Vec<String> {
    split_helm_output(text)
        .into_iter()
        .map(|c| c.text)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_match_prefers_same_text_then_template_key() {
        let tpl = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: {{ .Chart.Name }}\n          env:\n            - name: DB_PASSWORD\n              value: {{ .Values.pw }}\n";
        let (s, e) = best_match(tpl, "            - name: DB_PASSWORD", 12, "RL704");
        assert_eq!(&tpl[s..e], "- name: DB_PASSWORD");
        let (s, e) = best_match(tpl, "        - name: api", 9, "RL701");
        assert_eq!(&tpl[s..e], "- name: {{ .Chart.Name }}");
        let tpl2 = "spec:\n  containers:\n    {{- toYaml .Values.containers | nindent 4 }}\n";
        let (s, e) = best_match(tpl2, "    - name: api", 9, "RL701");
        assert_eq!(&tpl2[s..e], "{{- toYaml .Values.containers | nindent 4 }}");
        assert_eq!(best_match("a: b\n", "- name: x", 3, "RL704"), (0, 0));
    }

    #[test]
    fn tool_messages_start_at_the_error() {
        let m = tool_message(
            "# Warning: 'vars' is deprecated.\nError: accumulating resources: x\n: exit status 1\n",
        );
        assert_eq!(m, "Error: accumulating resources: x / : exit status 1");
        assert_eq!(tool_message(""), "(no message)");
    }

    #[test]
    fn helm_output_splits_on_source_lines() {
        let text = "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/charts/s/templates/b.yaml\nkind: B\n";
        let chunks = split_helm_output(text);
        assert_eq!(chunks.len(), 2);
        assert_eq!(
            chunks[1].source.as_deref(),
            Some("c/charts/s/templates/b.yaml")
        );
        assert!(chunks[1].text.contains("kind: B"));
    }

    #[test]
    fn relative_and_normalize() {
        assert_eq!(
            relative(Path::new("/tmp/w"), Path::new("/work/x/o")),
            PathBuf::from("../../work/x/o")
        );
        assert_eq!(normalize(Path::new("a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("../a")), PathBuf::from("../a"));
        assert_eq!(normalize(Path::new("../../a")), PathBuf::from("../../a"));
        assert_eq!(normalize(Path::new("./x/../../a")), PathBuf::from("../a"));
    }
}
