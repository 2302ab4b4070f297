//! The `redline check` driver: discover → parse (in parallel) → package
//! model → rules → suppressions → sorted diagnostics. Parallelism lives
//! here and nowhere else.

use crate::config::Config;
use crate::suppress;
use rayon::prelude::*;
use redline_diagnostics::{Diagnostic, LineIndex, Summary, render::Sources, sort};
use redline_go::{DiscoveryOptions, GoFile, Package, first_error, is_generated};
use redline_rules::modules::{RequiredModule, check_go_mod};
use redline_rules::{ALL_RULES, Context, GO_RULES, RuleMeta, Target, find_rule, meta::ParseError};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// What one run found.
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// Text of the files that have diagnostics, for code frames.
    pub sources: Sources,
    /// I/O problems (unreadable files): they make the run exit 2.
    pub io_errors: Vec<String>,
}

/// One input file: where it is, how it is shown, and its bytes.
pub struct Input {
    pub path: PathBuf,
    pub display: String,
    pub source: Arc<[u8]>,
    pub explicit: bool,
}

/// The path shown to users: relative to `cwd` when under it, `/`-separated.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let p = if path.is_absolute() {
        path.strip_prefix(cwd).unwrap_or(path)
    } else {
        path
    };
    let s = p.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s).to_string();
    if s.is_empty() { ".".to_string() } else { s }
}

/// Runs the check over `paths`.
pub fn run(paths: &[PathBuf], config: &Config, cwd: &Path) -> Result<Outcome, String> {
    let started = Instant::now();
    let discovered = redline_go::discover(
        paths,
        &DiscoveryOptions {
            exclude: config.exclude.clone(),
            manifests: true,
        },
    )?;
    let scan_root = paths
        .first()
        .map(|p| {
            if p.is_dir() {
                p.clone()
            } else {
                p.parent().map(Path::to_path_buf).unwrap_or_default()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."));
    let other_results = check_other_files(
        &discovered.manifest_files,
        &discovered.go_mod_files,
        config,
        cwd,
        &scan_root,
    )?;
    // Group by directory: a package is the files of one directory sharing
    // a package clause. Directories are analysed in parallel, and only one
    // directory's trees per thread are alive at a time.
    let mut by_dir: BTreeMap<PathBuf, Vec<(PathBuf, bool)>> = BTreeMap::new();
    for f in discovered.go_files {
        let dir = f.path.parent().map(Path::to_path_buf).unwrap_or_default();
        by_dir.entry(dir).or_default().push((f.path, f.explicit));
    }
    let dirs: Vec<Vec<(PathBuf, bool)>> = by_dir.into_values().collect();
    let results: Vec<DirResult> = dirs
        .into_par_iter()
        .map(|files| {
            let mut io_errors = Vec::new();
            let inputs: Vec<Input> = files
                .into_iter()
                .filter_map(|(path, explicit)| match std::fs::read(&path) {
                    Ok(bytes) => Some(Input {
                        display: display_path(&path, cwd),
                        path,
                        source: bytes.into(),
                        explicit,
                    }),
                    Err(e) => {
                        io_errors.push(format!("{}: cannot read: {e}", path.display()));
                        None
                    }
                })
                .collect();
            let mut r = check_go_inputs(inputs, config);
            r.io_errors.extend(io_errors);
            r
        })
        .collect();
    let mut outcome = Outcome {
        diagnostics: Vec::new(),
        summary: Summary::default(),
        sources: Sources::new(),
        io_errors: Vec::new(),
    };
    for r in results.into_iter().chain(other_results) {
        outcome.summary.files_scanned += r.files_scanned;
        outcome.diagnostics.extend(r.diagnostics);
        outcome.sources.extend(r.sources);
        outcome.io_errors.extend(r.io_errors);
    }
    sort(&mut outcome.diagnostics);
    outcome.summary.elapsed_ms = started.elapsed().as_millis();
    Ok(outcome)
}

/// Checks manifests (RL70x) and go.mod files (RL601), in parallel.
fn check_other_files(
    manifests: &[redline_go::DiscoveredFile],
    go_mods: &[redline_go::DiscoveredFile],
    config: &Config,
    cwd: &Path,
    scan_root: &Path,
) -> Result<Vec<DirResult>, String> {
    let manifest_rules_on = ALL_RULES
        .iter()
        .any(|r| r.target == Target::Manifest && config.enabled(r));
    let ctx = if manifest_rules_on && !manifests.is_empty() {
        Some(redline_k8s::ManifestContext::from_config(
            config.path.as_deref(),
            config.go_version.as_deref(),
            scan_root,
        )?)
    } else {
        None
    };
    let mod_rule_on =
        config.enabled(&RequiredModule::META) && !config.settings.required_modules.is_empty();
    let manifest_results = manifests.par_iter().filter_map(|f| {
        let ctx = ctx.as_ref()?;
        Some(check_one(f, cwd, config, |display, source| {
            redline_k8s::check_manifest(display, source, ctx)
        }))
    });
    let mod_results = go_mods.par_iter().filter_map(|f| {
        if !mod_rule_on {
            return None;
        }
        Some(check_one(
            f,
            cwd,
            config,
            |display, source| match redline_go::parse_go_mod(&String::from_utf8_lossy(source)) {
                Ok(m) => check_go_mod(display, source, &m, &config.settings),
                Err(e) => {
                    let meta = &ParseError::META;
                    vec![Diagnostic {
                        rule: meta.id,
                        name: meta.name,
                        severity: meta.severity,
                        path: display.to_string(),
                        span: LineIndex::new(source).span(e.start_byte, e.end_byte),
                        message: format!("go.mod: {}; this file was not checked", e.message),
                        help: Some(
                            "fix the directive (`go mod edit -fmt` shows Go's own error)".into(),
                        ),
                        fix: None,
                    }]
                }
            },
        ))
    });
    Ok(manifest_results.chain(mod_results).collect())
}

/// Reads one non-Go file, runs `check` on it, and applies the
/// configuration (select/ignore, severity) and suppressions.
fn check_one(
    f: &redline_go::DiscoveredFile,
    cwd: &Path,
    config: &Config,
    check: impl Fn(&str, &[u8]) -> Vec<Diagnostic>,
) -> DirResult {
    let mut result = DirResult::default();
    let source: Arc<[u8]> = match std::fs::read(&f.path) {
        Ok(b) => b.into(),
        Err(e) => {
            result
                .io_errors
                .push(format!("{}: cannot read: {e}", f.path.display()));
            return result;
        }
    };
    let display = display_path(&f.path, cwd);
    let diags = check(&display, &source);
    result.files_scanned = 1;
    let diags = apply_config(diags, config);
    let lines = LineIndex::new(&source);
    let diags = suppress::apply(&display, &source, &lines, diags, config);
    if !diags.is_empty() {
        result.sources.insert(display, source);
    }
    result.diagnostics = diags;
    result
}

/// Drops diagnostics of disabled rules and applies severity overrides.
fn apply_config(diags: Vec<Diagnostic>, config: &Config) -> Vec<Diagnostic> {
    diags
        .into_iter()
        .filter_map(|mut d| {
            let meta = find_rule(d.rule)?;
            if !config.enabled(meta) {
                return None;
            }
            if let Some(sev) = config.severity.get(meta.id) {
                d.severity = *sev;
            }
            Some(d)
        })
        .collect()
}

/// The result for one group of files.
#[derive(Default)]
pub struct DirResult {
    pub files_scanned: usize,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Sources,
    pub io_errors: Vec<String>,
}

/// Checks Go files that live in one directory (or were given on stdin).
pub fn check_go_inputs(inputs: Vec<Input>, config: &Config) -> DirResult {
    let mut result = DirResult::default();
    let inputs: Vec<Input> = inputs
        .into_iter()
        .filter(|i| i.explicit || !is_generated(&i.source))
        .collect();
    result.files_scanned = inputs.len();
    let parsed: Vec<(Input, Option<GoFile>)> = inputs
        .into_par_iter()
        .map(|input| {
            let file = GoFile::parse(
                input.path.clone(),
                input.display.clone(),
                input.source.clone(),
            );
            (input, file)
        })
        .collect();
    let parse_meta: &'static RuleMeta = &ParseError::META;
    let mut good: Vec<GoFile> = Vec::new();
    for (input, file) in parsed {
        match file {
            Some(file) => match first_error(&file.tree, &file.source) {
                None => good.push(file),
                Some((start, end, what)) => {
                    let span = file.lines.span(start, end);
                    result.diagnostics.push(Diagnostic {
                        rule: parse_meta.id,
                        name: parse_meta.name,
                        severity: config.severity_of(parse_meta),
                        path: file.display.clone(),
                        span,
                        message: format!("syntax error: {what}; this file was not checked"),
                        help: Some(
                            "fix the syntax (`gofmt -e` shows Go's own error), then re-run".into(),
                        ),
                        fix: None,
                    });
                    result
                        .sources
                        .insert(file.display.clone(), file.source.clone());
                }
            },
            None => {
                result.diagnostics.push(Diagnostic {
                    rule: parse_meta.id,
                    name: parse_meta.name,
                    severity: config.severity_of(parse_meta),
                    path: input.display.clone(),
                    span: LineIndex::new(&input.source).span(0, 0),
                    message: "the parser gave up on this file; it was not checked".into(),
                    help: None,
                    fix: None,
                });
            }
        }
    }
    // Packages: same directory and package clause.
    let mut packages: BTreeMap<&str, Vec<&GoFile>> = BTreeMap::new();
    for f in &good {
        packages.entry(f.package_name.as_str()).or_default().push(f);
    }
    let rules: Vec<_> = GO_RULES
        .iter()
        .filter(|r| config.enabled(r.meta()))
        .collect();
    for files in packages.values() {
        let package = Package::build(files);
        let per_file: Vec<(Vec<Diagnostic>, &GoFile)> = files
            .par_iter()
            .map(|file| {
                let index = file.index();
                let cx = Context {
                    file,
                    index: &index,
                    package: &package,
                    settings: &config.settings,
                };
                let mut diags = Vec::new();
                for rule in &rules {
                    let before = diags.len();
                    rule.check(&cx, &mut diags);
                    let severity = config.severity_of(rule.meta());
                    for d in &mut diags[before..] {
                        d.severity = severity;
                    }
                }
                let diags =
                    suppress::apply(&file.display, &file.source, &file.lines, diags, config);
                (diags, *file)
            })
            .collect();
        for (diags, file) in per_file {
            if !diags.is_empty() {
                result
                    .sources
                    .insert(file.display.clone(), file.source.clone());
            }
            result.diagnostics.extend(diags);
        }
    }
    result
}
