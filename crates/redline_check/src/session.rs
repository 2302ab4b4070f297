//! One `redline check` run, from the request to the findings to report:
//! configuration → the scan ([`check`]: discover → parse → rules → one
//! `finish_file` step per file) → gating (new code since a revision, then
//! the baseline) → fixes until nothing more applies → what to report.
//!
//! The binary builds a [`Request`] from its arguments, opens a
//! [`Session`], runs it and prints the [`Ran`] it gets back; everything
//! the run has to say on the way (warnings, notes) goes to a [`Listener`].

use crate::check::{self, Outcome, RunOptions};
use crate::config::{self, Config, Configs, Overrides};
use crate::{Listener, baseline, cache, fix, newcode};
use redline_diagnostics::Diagnostic;
use redline_diagnostics::render::Sources;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the configuration of the checked files comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConfigSource {
    /// The nearest `redline.toml` of each checked file, up to the
    /// repository root.
    #[default]
    Discover,
    /// One file for every checked file (`--config FILE`).
    File(PathBuf),
    /// The built-in defaults (`--isolated`).
    Defaults,
}

/// The revision new code is measured from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// `--new-from-rev REV`.
    Rev(String),
    /// `--new-from-merge-base BRANCH`: the merge base of BRANCH and HEAD.
    MergeBase(String),
}

/// What happens to the fixes the findings carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FixMode {
    /// Nothing: the findings are reported.
    #[default]
    Report,
    /// `--diff`: the fixes as a unified diff, nothing written.
    Diff,
    /// `--fix`: written, then the tree is checked again until nothing
    /// more applies; `read_only` also rewrites files without write
    /// permission.
    Apply { read_only: bool },
}

/// Everything one run is asked to do.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Files and directories to check (ignored with `stdin_filename`), as
    /// given: a relative path is read from the process's working directory
    /// (the binary's `cwd`); findings show paths relative to the session's.
    pub paths: Vec<PathBuf>,
    /// Check standard input as this file (`-` with `--stdin-filename`).
    pub stdin_filename: Option<PathBuf>,
    pub config: ConfigSource,
    /// What the command line changes in every configuration.
    pub overrides: Overrides,
    /// Report only what is new since this revision.
    pub new_code: Option<Since>,
    /// With `new_code`: the findings on added or changed lines instead of
    /// the findings the base did not have.
    pub new_lines_only: bool,
    /// Hide the findings recorded in this baseline file.
    pub baseline: Option<PathBuf>,
    /// Record the findings in this baseline file instead of reporting them.
    pub write_baseline: Option<PathBuf>,
    pub fix: FixMode,
    /// Also fixes that may change behaviour.
    pub unsafe_fixes: bool,
    /// The cache directory; `None`: no cache.
    pub cache_dir: Option<PathBuf>,
    /// Note the cache's hits and misses at the end.
    pub cache_stats: bool,
    /// `--helm`, `--kustomize`.
    pub helm: Option<PathBuf>,
    pub kustomize: Option<PathBuf>,
}

/// What a run ended with.
#[derive(Debug)]
pub enum Ran {
    /// The findings to report, gated; `fails` by the run's `fail-on`.
    /// `outcome.io_errors` are the files that could not be read.
    Report { outcome: Outcome, fails: bool },
    /// `--diff`: the diff of the fixes, how many fixes in how many files,
    /// and how many could not be planned (each noted as a warning).
    Diff {
        diff: String,
        fixes: usize,
        files: usize,
        skipped: usize,
    },
    /// `--fix` on standard input: the fixed source (to print), and whether
    /// what remains fails the run.
    FixedStdin { fixed: Vec<u8>, fails: bool },
    /// `--write-baseline`: how many findings were recorded in `file`.
    BaselineWritten { count: usize, file: PathBuf },
}

/// A run with its configuration loaded.
pub struct Session {
    request: Request,
    cwd: PathBuf,
    configs: Arc<Configs>,
    /// The run-wide settings (`fail-on`, the cache key): the configuration
    /// of the first path named.
    config: Arc<Config>,
}

/// The configurations of a run in `cwd`.
fn configs_for(
    source: &ConfigSource,
    overrides: &Overrides,
    cwd: &Path,
) -> Result<Arc<Configs>, String> {
    let configs = match source {
        ConfigSource::Discover => Configs::discover(overrides.clone(), cwd),
        ConfigSource::File(p) => Configs::fixed(config::load(p)?, overrides.clone(), cwd),
        ConfigSource::Defaults => Configs::fixed(Config::default(), overrides.clone(), cwd),
    };
    Ok(Arc::new(configs.with_cli_exclude()?))
}

/// The configurations of a check of the base revision checked out in
/// `tree`: the configuration files the base had. A `--config` inside the
/// repository is read from the base (the defaults if the base lacks it),
/// one outside it is used as given; `--isolated` stays isolated; otherwise
/// each file's nearest `redline.toml` in the base.
fn base_configs(
    source: &ConfigSource,
    overrides: &Overrides,
    tree: &newcode::BaseTree,
    cwd: &Path,
    root: &Path,
) -> Result<Arc<Configs>, String> {
    let source = match source {
        ConfigSource::File(p) => match tree.map(p, cwd, root) {
            Some(mapped) if mapped.is_file() => ConfigSource::File(mapped),
            Some(_) => ConfigSource::Defaults,
            None => ConfigSource::File(p.clone()),
        },
        other => other.clone(),
    };
    configs_for(&source, overrides, &tree.cwd)
}

/// The key of the base revision's findings in the cache: the cache's own
/// key part (this binary, the working tree's configuration) and
/// everything else the base check depends on that the commit does not
/// fix — where in the repository the check runs and on what, the
/// configuration source, the command line's overrides and the rendering
/// tools a check would find.
fn base_key(cache: &cache::Cache, base: &newcode::Base, request: &Request, cwd: &Path) -> u128 {
    let mut h = cache.hasher("base-findings");
    let mut part = |bytes: &[u8]| {
        h.update(bytes);
        h.update(b"\0");
    };
    part(base.commit.as_bytes());
    let rel = |p: &Path| -> String {
        match newcode::repo_relative(p, cwd, &base.root) {
            Some(r) => format!("in:{}", r.display()),
            None => format!("out:{}", p.display()),
        }
    };
    part(rel(Path::new(".")).as_bytes());
    for p in &request.paths {
        part(rel(p).as_bytes());
    }
    if let Some(name) = &request.stdin_filename {
        part(b"stdin");
        part(rel(name).as_bytes());
    }
    match &request.config {
        ConfigSource::Discover => part(b"discover"),
        ConfigSource::Defaults => part(b"defaults"),
        ConfigSource::File(p) => {
            part(rel(p).as_bytes());
            // A file outside the repository is used as given: its text.
            if newcode::repo_relative(p, cwd, &base.root).is_none() {
                part(&std::fs::read(p).unwrap_or_default());
            }
        }
    }
    part(format!("{:?}", request.overrides).as_bytes());
    let tool = |p: Option<&Path>| format!("{:?}", p.map(redline_k8s::render_cache::tool_id));
    part(tool(request.helm.as_deref()).as_bytes());
    part(tool(request.kustomize.as_deref()).as_bytes());
    for found in redline_k8s::settings::tools_on_path() {
        part(tool(found.as_deref()).as_bytes());
    }
    h.digest128()
}

impl Session {
    /// Loads the configuration of a run in `cwd` (a file that does not
    /// load is an error naming its line).
    pub fn open(request: Request, cwd: &Path) -> Result<Session, String> {
        let configs = configs_for(&request.config, &request.overrides, cwd)?;
        let first = match (&request.stdin_filename, request.paths.first()) {
            (Some(name), _) => name.clone(),
            (None, Some(p)) => p.clone(),
            (None, None) => PathBuf::from("."),
        };
        let config = configs.for_path(&first)?;
        Ok(Session {
            request,
            cwd: cwd.to_path_buf(),
            configs,
            config,
        })
    }

    /// The run-wide configuration (the first path's).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Runs the check. `stdin` is read (up to one byte over
    /// `max-file-size`) when the request names a `stdin_filename`.
    pub fn run(self, stdin: Option<&mut dyn Read>, listener: &dyn Listener) -> Result<Ran, String> {
        let Session {
            request,
            cwd,
            configs,
            config,
        } = self;
        let stdin_source = match (&request.stdin_filename, stdin) {
            (Some(name), Some(reader)) => {
                // At most one byte over the limit: `run_stdin` reports the
                // rest as too large without holding it.
                let mut bytes = Vec::new();
                let limit = config.max_file_size.saturating_add(1);
                reader
                    .take(limit)
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("cannot read standard input: {e}"))?;
                Some((name.clone(), bytes))
            }
            (Some(name), None) => Some((name.clone(), Vec::new())),
            (None, _) => None,
        };
        // New-code gating is resolved before the scan: a bad revision is a
        // usage error, whatever the tree contains.
        let base = match &request.new_code {
            Some(Since::Rev(rev)) => Some(newcode::Base::rev(&cwd, rev)?),
            Some(Since::MergeBase(branch)) => Some(newcode::Base::merge_base(&cwd, branch)?),
            None => None,
        };
        let baseline = match &request.baseline {
            Some(file) => Some(baseline::Baseline::load(file, &cwd)?),
            None => None,
        };
        let cache = match &request.cache_dir {
            Some(dir) if stdin_source.is_none() => Some(cache::Cache::open(dir.clone(), &config)),
            _ => None,
        };
        let tools = redline_k8s::settings::ToolFlags {
            helm: request.helm.as_deref(),
            kustomize: request.kustomize.as_deref(),
        };
        let options = RunOptions {
            cache: cache.as_ref(),
            progress: Some(listener),
            tools,
            render_log: None,
        };
        let scan = |configs: &Arc<Configs>| -> Result<Outcome, String> {
            let outcome = match &stdin_source {
                Some((name, bytes)) => check::run_stdin(name, bytes.clone(), configs, &cwd)?,
                None => check::run_with(&request.paths, configs, &cwd, options)?,
            };
            for note in &outcome.notes {
                listener.note(note);
            }
            if let Some(e) = cache.as_ref().and_then(|c| c.take_write_error()) {
                listener.note(&e);
            }
            Ok(outcome)
        };
        let mut outcome = scan(&configs)?;

        // New-code gating: the base's findings (checked in a temporary
        // checkout with the base's configuration), or the changed lines.
        let mut changed = match base {
            None => None,
            Some(base) if request.new_lines_only => {
                Some(newcode::Gate::Lines(newcode::ChangedLines::since(&base)?))
            }
            Some(base) => {
                let root = base.root.clone();
                let base_store = cache.as_ref().map(|c| {
                    let key = base_key(c, &base, &request, &cwd);
                    (c.base_store(), key)
                });
                let store = base_store.as_ref().map(|(s, k)| (s, *k));
                // What the base's renderings depend on: whether its
                // findings may be stored, and the tools they were made by.
                let render_log = Arc::new(redline_k8s::render_cache::RenderLog::default());
                let found = newcode::BaseFindings::compute(base, &cwd, store, |tree| {
                    let base_configs =
                        base_configs(&request.config, &request.overrides, tree, &cwd, &root)
                            .map_err(|e| format!("the base revision's configuration: {e}"))?;
                    let outcome = match &stdin_source {
                        Some((name, _)) => match tree.map(name, &cwd, &root) {
                            Some(path) if path.is_file() => {
                                let bytes = std::fs::read(&path).map_err(|e| {
                                    format!("{}: cannot read the base version: {e}", path.display())
                                })?;
                                // The base's file under the name standard
                                // input stands for, so the paths compare.
                                let abs = tree.cwd.join(name);
                                check::run_stdin(&abs, bytes, &base_configs, &tree.cwd)?
                            }
                            _ => return Ok(newcode::BaseCheck::empty()),
                        },
                        None => {
                            let paths: Vec<PathBuf> = request
                                .paths
                                .iter()
                                .filter_map(|p| tree.map(p, &cwd, &root))
                                .filter(|p| p.exists())
                                .collect();
                            if paths.is_empty() {
                                return Ok(newcode::BaseCheck::empty());
                            }
                            // The cache is keyed by the configuration it
                            // was opened with: the base's own.
                            let base_config = base_configs.for_path(&paths[0])?;
                            let base_cache = cache.as_ref().map(|c| c.reopen(&base_config));
                            let base_options = RunOptions {
                                cache: base_cache.as_ref(),
                                progress: None,
                                tools,
                                render_log: Some(&render_log),
                            };
                            let outcome =
                                check::run_with(&paths, &base_configs, &tree.cwd, base_options)?;
                            if let Some(e) = base_cache.as_ref().and_then(|c| c.take_write_error())
                            {
                                listener.note(&e);
                            }
                            outcome
                        }
                    };
                    Ok(newcode::BaseCheck {
                        storable: outcome.io_errors.is_empty() && !render_log.volatile(),
                        tools: render_log.tools(),
                        diagnostics: outcome.diagnostics,
                        sources: outcome.sources,
                    })
                })?;
                if let Some(e) = cache.as_ref().and_then(|c| c.take_write_error()) {
                    listener.note(&e);
                }
                listener.note(&format!(
                    "redline: compared with {} ({} finding{} there{}): reporting only new findings",
                    &found.commit()[..found.commit().len().min(12)],
                    found.count,
                    plural(found.count, "", "s"),
                    if found.cached { ", from the cache" } else { "" }
                ));
                Some(newcode::Gate::Findings(found))
            }
        };

        // What the user sees: new-code gating, then the baseline. Fixes
        // are planned from the same view, so `--fix` writes only what it
        // reports.
        let gate = |diagnostics: Vec<Diagnostic>,
                    changed: &Option<newcode::Gate>,
                    sources: &Sources|
         -> (Vec<Diagnostic>, usize) {
            let diagnostics = match changed {
                Some(c) => c.retain(diagnostics, sources, &cwd),
                None => diagnostics,
            };
            match &baseline {
                Some(b) => b.filter(diagnostics, sources, &cwd),
                None => (diagnostics, 0),
            }
        };

        // Fixes: --diff shows them; --fix writes them and re-checks until
        // nothing more applies (a fix that overlapped another waits a
        // round).
        if request.fix != FixMode::Report {
            let (visible, _) = gate(outcome.diagnostics.clone(), &changed, &outcome.sources);
            let roots: Vec<PathBuf> = match &stdin_source {
                Some((name, _)) => vec![name.clone()],
                None => request.paths.clone(),
            };
            let planned = fix::plan(
                &visible,
                &outcome.sources,
                &outcome.paths,
                &roots,
                &cwd,
                request.unsafe_fixes,
            );
            let mut skipped: BTreeSet<String> = planned.skipped.into_iter().collect();
            let mut plans = planned.plans;
            listener.scan_finished();
            let read_only = match request.fix {
                FixMode::Diff => {
                    for s in &skipped {
                        listener.note(&format!("redline: warning: {s}"));
                    }
                    return Ok(Ran::Diff {
                        diff: fix::unified_diff(&plans),
                        fixes: plans.iter().map(|p| p.fixes).sum(),
                        files: plans.len(),
                        skipped: skipped.len(),
                    });
                }
                FixMode::Apply { read_only } => read_only,
                FixMode::Report => false,
            };
            if let Some((name, bytes)) = &stdin_source {
                // Standard input: the fixed source goes to standard output.
                let fixed = plans
                    .first()
                    .map(|p| p.fixed.clone())
                    .unwrap_or_else(|| bytes.clone());
                for s in &skipped {
                    listener.note(&format!("redline: warning: {s}"));
                }
                let after = check::run_stdin(name, fixed.clone(), &configs, &cwd)?;
                for note in &after.notes {
                    listener.note(note);
                }
                let fails = after
                    .diagnostics
                    .iter()
                    .any(|d| config.fail_on.fails(d.severity));
                return Ok(Ran::FixedStdin { fixed, fails });
            }
            let mut total = 0;
            let mut problems = Vec::new();
            for _round in 0..10 {
                if plans.is_empty() {
                    break;
                }
                let (applied, mut errs, notes) = fix::apply(&plans, read_only);
                for n in notes {
                    listener.note(&format!("redline: note: {n}"));
                }
                total += applied;
                let stuck = applied == 0;
                problems.append(&mut errs);
                outcome = scan(&configs)?;
                // The fixes moved lines: compare with the base again.
                if let Some(c) = changed.take() {
                    changed = Some(c.refresh()?);
                }
                if stuck {
                    break;
                }
                let (visible, _) = gate(outcome.diagnostics.clone(), &changed, &outcome.sources);
                let planned = fix::plan(
                    &visible,
                    &outcome.sources,
                    &outcome.paths,
                    &roots,
                    &cwd,
                    request.unsafe_fixes,
                );
                skipped.extend(planned.skipped);
                plans = planned.plans;
                // A file that could not be written is not retried.
                plans.retain(|p| {
                    !problems
                        .iter()
                        .any(|m| m.starts_with(&format!("{}:", p.display)))
                });
            }
            for p in problems.iter().chain(&skipped) {
                listener.note(&format!("redline: warning: {p}"));
            }
            let (remaining, _) = gate(outcome.diagnostics.clone(), &changed, &outcome.sources);
            listener.note(&format!(
                "redline: fixed {total} finding{}; {} remain{}",
                plural(total, "", "s"),
                remaining.len(),
                plural(remaining.len(), "s", "")
            ));
        }
        listener.scan_finished();

        if let Some(file) = &request.write_baseline {
            let count = baseline::write(file, &outcome.diagnostics, &outcome.sources, &cwd)?;
            return Ok(Ran::BaselineWritten {
                count,
                file: file.clone(),
            });
        }
        let all = std::mem::take(&mut outcome.diagnostics);
        let (diagnostics, hidden) = gate(all, &changed, &outcome.sources);
        if hidden > 0 {
            listener.note(&format!(
                "redline: {hidden} finding{} hidden by the baseline",
                plural(hidden, "", "s")
            ));
        }
        outcome.diagnostics = diagnostics;
        if let Some(c) = &cache
            && request.cache_stats
        {
            listener.note(&format!(
                "redline: cache {}: {} hits, {} misses",
                c.dir().display(),
                c.hits.load(std::sync::atomic::Ordering::Relaxed),
                c.misses.load(std::sync::atomic::Ordering::Relaxed)
            ));
        }
        let fails = outcome
            .diagnostics
            .iter()
            .any(|d| config.fail_on.fails(d.severity));
        Ok(Ran::Report { outcome, fails })
    }
}

/// `one` when `n` is 1, else `many`.
fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}
