//! Helm charts and Kustomize overlays in a `redline check` run: finds them
//! among the discovered manifests, renders them with the user's tools (in
//! parallel), checks the rendered objects with the findings traced to their
//! templates and source files, and hands back the manifests that are still
//! to be checked as raw YAML (never a chart's templates, nor the files of
//! an overlay that built).

use crate::check::{DirResult, RunOptions, finish_file};
use crate::config::Config;
use rayon::prelude::*;
use redline_diagnostics::{Diagnostic, LineIndex};
use redline_go::DiscoveredFile;
use redline_k8s::render::{self, Rendered, normalize};
use redline_k8s::settings::RenderSettings;
use redline_rules::manifests::check_manifest;
use redline_rules::{ALL_RULES, RuleKind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Renders the charts and overlays among `files`; returns the files left
/// to check as raw manifests and the results of the rendered ones.
pub fn render_discovered(
    files: Vec<DiscoveredFile>,
    config: &Config,
    cwd: &Path,
    scan_root: &Path,
    options: RunOptions<'_>,
) -> Result<(Vec<DiscoveredFile>, Vec<DirResult>), String> {
    let manifest_rules_on = ALL_RULES
        .iter()
        .any(|r| r.kind == RuleKind::Manifest && config.enabled(r));
    if !manifest_rules_on || files.is_empty() {
        return Ok((files, Vec::new()));
    }
    let walked: Vec<PathBuf> = files
        .iter()
        .filter(|f| !f.explicit)
        .map(|f| f.path.clone())
        .collect();
    let mut settings = RenderSettings::load(config.document.as_deref(), options.tools)?;
    if let Some(cache) = options.cache {
        let mut render_cache = redline_k8s::render_cache::RenderCache::new(
            std::sync::Arc::new(cache.rendered_store()),
            scan_root,
        );
        if let Some(log) = options.render_log {
            render_cache = render_cache.with_log(log.clone());
        }
        settings.cache = Some(render_cache);
    }
    let plan = render::plan(&walked, &settings)?;
    if plan.charts.is_empty() && plan.overlays.is_empty() && plan.chart_files.is_empty() {
        return Ok((files, Vec::new()));
    }
    let ctx = redline_k8s::ManifestContext::from_config(
        config.document.as_deref(),
        config.go_version,
        scan_root,
    )?;
    let display = |p: &Path| crate::check::display_path(&normalize(p), cwd);
    let mut chart_jobs = plan.charts.clone();
    if settings.helm.is_none() {
        // Nothing to render: one notice per chart, however many
        // renderings redline.toml lists for it.
        chart_jobs.dedup_by(|a, b| a.dir == b.dir);
    }
    let charts = chart_jobs
        .par_iter()
        .with_max_len(1)
        .map(|job| render::render_chart(job, &settings, &ctx, check_manifest, &display));
    let overlays = plan.overlays.par_iter().with_max_len(1).map(|job| {
        let owned = plan
            .overlay_files
            .get(&job.dir)
            .cloned()
            .unwrap_or_default();
        render::build_overlay(job, &owned, &settings, &ctx, check_manifest, &display)
    });
    let rendered: Vec<Rendered> = charts.chain(overlays).collect();
    let mut skip: BTreeSet<PathBuf> = plan.chart_files.iter().map(|p| normalize(p)).collect();
    if settings.kustomize.is_some() {
        skip.extend(plan.component_files.iter().map(|p| normalize(p)));
    }
    for r in &rendered {
        skip.extend(r.consumed.iter().map(|p| normalize(p)));
    }
    let (raw, replaced): (Vec<DiscoveredFile>, Vec<DiscoveredFile>) = files
        .into_iter()
        .partition(|f| f.explicit || !skip.contains(&normalize(&f.path)));
    if let Some(p) = options.progress {
        p.add_done(replaced.len());
    }
    let rendered = merge_renderings(rendered);
    let mut results: Vec<DirResult> = rendered.into_iter().map(|r| finish(r, config)).collect();
    if let Some(first) = results.first_mut() {
        first.files_scanned += replaced.len();
    }
    Ok((raw, results))
}

/// One finding per place: a base that several overlays (or a chart that
/// several `[[helm.charts]]` renderings) deploy the same way gives the
/// same finding at the same line; it is reported once, naming every
/// rendering (the part of the message in `[…]`).
fn merge_renderings(mut rendered: Vec<Rendered>) -> Vec<Rendered> {
    type Key = (&'static str, String, usize, usize, String);
    let split = |m: &str| -> (String, String) {
        match m.rfind(" [") {
            Some(i) if m.ends_with(']') => (m[..i].to_string(), m[i + 2..m.len() - 1].to_string()),
            _ => (m.to_string(), String::new()),
        }
    };
    let mut first: BTreeMap<Key, (usize, usize)> = BTreeMap::new();
    let mut extra: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
    for (ri, r) in rendered.iter_mut().enumerate() {
        let mut keep = Vec::with_capacity(r.diagnostics.len());
        for d in std::mem::take(&mut r.diagnostics) {
            let (base, origin) = split(&d.message);
            let key = (
                d.rule.id,
                d.path.clone(),
                d.span.start_byte,
                d.span.end_byte,
                base,
            );
            match first.get(&key) {
                Some(&at) => extra.entry(at).or_default().push(origin),
                None => {
                    first.insert(key, (ri, keep.len()));
                    keep.push(d);
                }
            }
        }
        r.diagnostics = keep;
    }
    for ((ri, di), origins) in extra {
        let d = &mut rendered[ri].diagnostics[di];
        let (base, origin) = split(&d.message);
        let mut all = vec![origin];
        for o in origins {
            if !all.contains(&o) {
                all.push(o);
            }
        }
        d.message = format!("{base} [{}]", all.join("; also "));
    }
    rendered
}

/// The findings of the files the rendered output points at, each file
/// finished like any other ([`crate::check::finish_file`]).
fn finish(r: Rendered, config: &Config) -> DirResult {
    let mut by_path: BTreeMap<String, Vec<Diagnostic>> = BTreeMap::new();
    for d in r.diagnostics {
        by_path.entry(d.path.clone()).or_default().push(d);
    }
    let mut out = DirResult::default();
    for (path, diags) in by_path {
        let source = r
            .sources
            .get(&path)
            .cloned()
            .unwrap_or_else(|| Vec::new().into());
        let lines = LineIndex::new(&source);
        let diags = finish_file(&path, &source, &lines, diags, config);
        if !diags.is_empty() {
            out.sources.insert(path, source);
        }
        out.diagnostics.extend(diags);
    }
    out
}
