//! The `redline check` driver: discover → parse (in parallel) → package
//! model → rules → suppressions → sorted diagnostics. Parallelism lives
//! here and nowhere else.

use crate::Listener;
use crate::cache::Cache;
use crate::config::{Config, Configs, absolute};
use crate::fix::ReadPaths;
use crate::suppress;
use rayon::prelude::*;
use redline_diagnostics::{CheckSummary, Diagnostic, LineIndex, render::Sources, sort};
pub use redline_go::is_manifest_path;
use redline_go::{DiscoveryOptions, EntryFilter, GoFile, Package, first_error, is_generated};
use redline_rules::modules::{RequiredModule, check_go_mod};
use redline_rules::{ALL_RULES, Context, GO_RULES, RuleKind, RuleMeta, meta::ParseError};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// What one run found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    pub summary: CheckSummary,
    /// Text of the files that have diagnostics, for code frames.
    pub sources: Sources,
    /// I/O problems (unreadable files): they make the run exit 2.
    pub io_errors: Vec<String>,
    /// Where each displayed file was read: fixes write exactly there.
    pub paths: ReadPaths,
    /// Lines for the user (e.g. that standard input names an excluded
    /// file), in order.
    pub notes: Vec<String>,
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

/// An input as read: its bytes, or what is known of it when it is over
/// `max-file-size` (it is never read whole, so a huge or endless input
/// costs no memory).
pub enum Loaded {
    Source(Vec<u8>),
    TooLarge {
        /// The size on disk, or (a FIFO, a device) the bytes read before
        /// giving up.
        size: u64,
        /// A regular file's size is known; a stream was cut off.
        exact: bool,
        /// Whether its first bytes carry the generated-code marker.
        generated: bool,
    },
}

/// Bytes read from the start of an oversized file to tell whether it is
/// generated (the marker precedes the package clause).
const HEAD_BYTES: u64 = 64 * 1024;

/// Reads `path` up to `limit` bytes: regular files by their size, FIFOs
/// and devices (`/dev/stdin`, `<(…)`) by reading at most `limit + 1` bytes.
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<Loaded> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    if meta.is_file() && meta.len() > limit {
        let mut head = Vec::new();
        file.take(HEAD_BYTES).read_to_end(&mut head)?;
        return Ok(Loaded::TooLarge {
            size: meta.len(),
            exact: true,
            generated: is_generated(&head),
        });
    }
    let mut bytes = Vec::with_capacity(if meta.is_file() {
        meta.len() as usize
    } else {
        0
    });
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        let head = &bytes[..bytes.len().min(HEAD_BYTES as usize)];
        return Ok(Loaded::TooLarge {
            size: bytes.len() as u64,
            exact: false,
            generated: is_generated(head),
        });
    }
    Ok(Loaded::Source(bytes))
}

/// `1.5 MiB`, `512 KiB`, `300 bytes`.
fn human_size(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} bytes")
    }
}

/// RL000 for an input over `max-file-size`: not read, not parsed.
pub fn too_large(display: &str, size: u64, exact: bool, config: &Config) -> Diagnostic {
    let meta: &'static RuleMeta = &ParseError::META;
    let size = if exact {
        human_size(size)
    } else {
        format!("more than {}", human_size(size - 1))
    };
    Diagnostic {
        rule: meta,
        severity: config.severity_of(meta),
        path: display.to_string(),
        span: LineIndex::new(b"").span(0, 0),
        message: format!(
            "this file is {size}, over the size limit of {}; it was not read or checked",
            human_size(config.max_file_size)
        ),
        help: Some(format!(
            "exclude it (`exclude = [\"{display}\"]` in redline.toml, or `--exclude`), or raise the limit (`max-file-size = \"64MiB\"` in redline.toml, or `--max-file-size 64MiB`)"
        )),
        fix: None,
    }
}

/// Why `source` cannot be Go source, checked in one pass before parsing:
/// a NUL byte, or bytes that are not UTF-8 (Go rejects both anywhere in a
/// file, comments and strings included).
fn not_go_text(source: &[u8]) -> Option<String> {
    if let Some(at) = redline_go::nul_byte(source) {
        return Some(format!("NUL byte at offset {at}"));
    }
    std::str::from_utf8(source)
        .err()
        .map(|e| format!("invalid UTF-8 at offset {}", e.valid_up_to()))
}

/// RL000 for a `.go` file that is binary data, not Go source, so it is
/// not parsed.
fn not_go_source(display: &str, why: String, config: &Config) -> Diagnostic {
    let meta: &'static RuleMeta = &ParseError::META;
    Diagnostic {
        rule: meta,
        severity: config.severity_of(meta),
        path: display.to_string(),
        span: LineIndex::new(b"").span(0, 0),
        message: format!(
            "{why}: this is binary data, not Go source (Go source is UTF-8 text); it was not checked"
        ),
        help: Some(format!(
            "rename the file if it is not Go, or exclude it (`exclude = [\"{display}\"]` in redline.toml, or `--exclude`)"
        )),
        fix: None,
    }
}

/// What a run may use besides the files: the result cache and a
/// listener that counts the files (a progress bar).
#[derive(Default, Clone, Copy)]
pub struct RunOptions<'a> {
    pub cache: Option<&'a Cache>,
    pub progress: Option<&'a dyn Listener>,
    /// `--helm`/`--kustomize` (charts and overlays, see rendered.rs).
    pub tools: redline_k8s::settings::ToolFlags<'a>,
    /// Where the renderings note what they depended on (with `cache`).
    pub render_log: Option<&'a Arc<redline_k8s::render_cache::RenderLog>>,
}

/// Runs the check over `paths`.
#[allow(dead_code)]
pub fn run(paths: &[PathBuf], configs: &Arc<Configs>, cwd: &Path) -> Result<Outcome, String> {
    run_with(paths, configs, cwd, RunOptions::default())
}

/// What discovery leaves out below the checked paths, decided by the
/// configuration of each entry's directory: its `exclude` patterns and its
/// test and tool code (`_test.go`, test directories).
pub fn entry_filter(configs: &Arc<Configs>) -> EntryFilter {
    let configs = configs.clone();
    Arc::new(move |path: &Path, is_dir: bool| {
        let abs = absolute(path, configs.cwd());
        let Some(parent) = abs.parent() else {
            return false;
        };
        // A configuration that does not load is reported after the walk.
        let Ok(config) = configs.for_dir(parent) else {
            return true;
        };
        if config.excludes(&abs) {
            return true;
        }
        let name = abs.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if is_dir {
            config.tests.is_test_dir(name)
        } else {
            config.tests.is_test_file(name)
        }
    })
}

/// Runs the check over `paths` with a cache and/or a progress bar.
pub fn run_with(
    paths: &[PathBuf],
    configs: &Arc<Configs>,
    cwd: &Path,
    options: RunOptions<'_>,
) -> Result<Outcome, String> {
    let started = Instant::now();
    let discovered = redline_go::discover(
        paths,
        &DiscoveryOptions {
            exclude: configs.cli_exclude().to_vec(),
            manifests: true,
            filter: Some(entry_filter(configs)),
        },
    )?;
    if let Some(e) = configs.error() {
        return Err(e);
    }
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
    if let Some(p) = options.progress {
        p.add_total(
            discovered.go_files.len()
                + discovered.manifest_files.len()
                + discovered.go_mod_files.len(),
        );
    }
    // Group by directory: a package is the files of one directory sharing
    // a package clause.
    let mut by_dir: BTreeMap<PathBuf, Vec<(PathBuf, bool)>> = BTreeMap::new();
    for f in discovered.go_files {
        let dir = f.path.parent().map(Path::to_path_buf).unwrap_or_default();
        by_dir.entry(dir).or_default().push((f.path, f.explicit));
    }
    let mut dirs: Vec<GoDir> = by_dir
        .into_iter()
        .map(|(dir, files)| Ok((configs.for_dir(&dir)?, files)))
        .collect::<Result<_, String>>()?;
    // Largest packages first, so that no big one starts last and runs
    // alone on one core at the end (longest-processing-time-first).
    dirs.sort_by_key(|(_, files)| std::cmp::Reverse(files.len()));
    // Manifests and go.mod files are checked at the same time as the Go
    // packages: a few multi-megabyte manifests (install.yaml, CRDs) must
    // neither hold up the Go work nor wait for it.
    let manifest_files = discovered.manifest_files;
    let go_mod_files = discovered.go_mod_files;
    // Charts and overlays are configured by the scanned root's
    // configuration.
    let root_config = configs.for_path(&scan_root)?;
    let (other_results, results) = rayon::join(
        || {
            // Charts and overlays are rendered first; the files they own
            // are not also checked raw.
            let (manifest_files, mut rendered) = crate::rendered::render_discovered(
                manifest_files,
                &root_config,
                cwd,
                &scan_root,
                options,
            )?;
            rendered.extend(check_other_files(
                &manifest_files,
                &go_mod_files,
                configs,
                cwd,
                &scan_root,
                options,
            )?);
            Ok::<_, String>(rendered)
        },
        || check_go_dirs(dirs, cwd, options),
    );
    let other_results = other_results?;
    let mut outcome = Outcome {
        diagnostics: Vec::new(),
        summary: CheckSummary::default(),
        sources: Sources::new(),
        io_errors: Vec::new(),
        paths: ReadPaths::default(),
        notes: Vec::new(),
    };
    for r in results.into_iter().chain(other_results) {
        outcome.paths.extend(r.paths);
        outcome.summary.files_scanned += r.files_scanned;
        outcome.diagnostics.extend(r.diagnostics);
        outcome.sources.extend(r.sources);
        outcome.io_errors.extend(r.io_errors);
    }
    sort(&mut outcome.diagnostics);
    outcome.summary.elapsed_ms = started.elapsed().as_millis();
    Ok(outcome)
}

/// The Go files of one directory (path, named explicitly) and the
/// configuration that applies to them.
type GoDir = (Arc<Config>, Vec<(PathBuf, bool)>);

/// Reads and checks the Go packages, one directory per task, in parallel.
/// Only one directory's trees per thread are alive at a time.
fn check_go_dirs(dirs: Vec<GoDir>, cwd: &Path, options: RunOptions<'_>) -> Vec<DirResult> {
    dirs.into_par_iter()
        // One directory per task: rayon would otherwise hand each thread
        // a contiguous half of the list (the large packages to one).
        .with_max_len(1)
        .map(|(config, files)| {
            let count = files.len();
            let mut io_errors = Vec::new();
            let mut oversized = Vec::new();
            let inputs: Vec<Input> = files
                .into_iter()
                .filter_map(
                    |(path, explicit)| match read_limited(&path, config.max_file_size) {
                        Ok(Loaded::Source(bytes)) => Some(Input {
                            display: display_path(&path, cwd),
                            path,
                            source: bytes.into(),
                            explicit,
                        }),
                        Ok(Loaded::TooLarge {
                            size,
                            exact,
                            generated,
                        }) => {
                            if explicit || !generated {
                                oversized.push(too_large(
                                    &display_path(&path, cwd),
                                    size,
                                    exact,
                                    &config,
                                ));
                            }
                            None
                        }
                        Err(e) => {
                            io_errors.push(format!("{}: cannot read: {e}", path.display()));
                            None
                        }
                    },
                )
                .collect();
            let mut paths = ReadPaths::default();
            for i in &inputs {
                paths.insert(&i.display, &i.path);
            }
            let mut r = check_go_dir(inputs, &config, options.cache);
            r.io_errors.extend(io_errors);
            r.paths = paths;
            r.files_scanned += oversized.len();
            r.diagnostics.extend(oversized);
            if let Some(p) = options.progress {
                p.add_done(count);
            }
            r
        })
        .collect()
}

/// Checks manifests (RL70x) and go.mod files (RL601), in parallel.
fn check_other_files(
    manifests: &[redline_go::DiscoveredFile],
    go_mods: &[redline_go::DiscoveredFile],
    configs: &Configs,
    cwd: &Path,
    scan_root: &Path,
    options: RunOptions<'_>,
) -> Result<Vec<DirResult>, String> {
    // One manifest context per configuration file (its env spec and
    // `[manifests]` table), built before the parallel part.
    type Ctx = Option<Arc<(redline_k8s::ManifestContext, String)>>;
    let mut contexts: HashMap<Option<PathBuf>, Ctx> = HashMap::new();
    let mut manifest_jobs = Vec::with_capacity(manifests.len());
    for f in manifests {
        let config = configs.for_file(&f.path)?;
        let ctx = match contexts.get(&config.path) {
            Some(ctx) => ctx.clone(),
            None => {
                let on = ALL_RULES
                    .iter()
                    .any(|r| r.kind == RuleKind::Manifest && config.enabled(r));
                let ctx = if on {
                    let ctx = redline_k8s::ManifestContext::from_config(
                        config.document.as_deref(),
                        config.go_version,
                        scan_root,
                    )?;
                    // Manifest results depend on the context (env spec,
                    // go.mod facts) and the configuration too.
                    let salt = format!("{ctx:?}\0{config:?}");
                    Some(Arc::new((ctx, salt)))
                } else {
                    None
                };
                contexts.insert(config.path.clone(), ctx.clone());
                ctx
            }
        };
        manifest_jobs.push((f, config, ctx));
    }
    let mod_jobs = go_mods
        .iter()
        .map(|f| Ok((f, configs.for_file(&f.path)?)))
        .collect::<Result<Vec<_>, String>>()?;
    // Each manifest deploys the module of the go.mod that governs it (the
    // nearest one in its directory or above), not the first path's: one
    // context per configuration and directory, with its salt for the cache
    // (manifest results depend on the env spec and the go.mod facts too).
    type Keyed = Arc<(redline_k8s::ManifestContext, String)>;
    let dir_contexts: std::sync::Mutex<HashMap<(Option<PathBuf>, PathBuf), Keyed>> =
        std::sync::Mutex::new(HashMap::new());
    let context_for = |config: &Config, base: &Keyed, file: &Path| -> Keyed {
        let dir = match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let key = (config.path.clone(), dir);
        let mut map = dir_contexts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = map.get(&key) {
            return Arc::clone(c);
        }
        let mut ctx = base.0.clone();
        let go_version = ctx.module.go_version;
        ctx.module = redline_k8s::ModuleFacts::discover(&key.1);
        if config.go_version.is_some() {
            // `go-version` in redline.toml overrides every go.mod.
            ctx.module.go_version = go_version;
        }
        let salt = format!("{ctx:?}\0{config:?}");
        let c = Arc::new((ctx, salt));
        map.insert(key, Arc::clone(&c));
        c
    };
    let manifest_results = manifest_jobs.par_iter().filter_map(|(f, config, ctx)| {
        if let Some(p) = options.progress {
            p.add_done(1);
        }
        let ctx = context_for(config, ctx.as_ref()?, &f.path);
        let (ctx, salt) = &*ctx;
        let mut result = check_one(
            f,
            cwd,
            config,
            options.cache.map(|c| (c, salt.as_str())),
            |display, source| redline_rules::manifests::check_manifest(display, source, ctx),
        );
        mask_manifest_sources(&mut result.sources, ctx);
        Some(result)
    });
    let mod_results = mod_jobs.par_iter().filter_map(|(f, config)| {
        if let Some(p) = options.progress {
            p.add_done(1);
        }
        let mod_rule_on =
            config.enabled(&RequiredModule::META) && !config.settings.required_modules.is_empty();
        if !mod_rule_on {
            return None;
        }
        Some(check_one(f, cwd, config, None, |display, source| {
            go_mod_diagnostics(display, source, config)
        }))
    });
    Ok(manifest_results.chain(mod_results).collect())
}

/// RL601 on one go.mod, or RL000 when it does not parse.
fn go_mod_diagnostics(display: &str, source: &[u8], config: &Config) -> Vec<Diagnostic> {
    match redline_go::parse_go_mod(&String::from_utf8_lossy(source)) {
        Ok(m) => check_go_mod(display, source, &m, &config.settings),
        Err(e) => {
            let meta = &ParseError::META;
            vec![Diagnostic {
                rule: meta,
                severity: meta.severity,
                path: display.to_string(),
                span: LineIndex::new(source).span(e.start_byte, e.end_byte),
                message: format!("go.mod: {}; this file was not checked", e.message),
                help: Some("fix the directive (`go mod edit -fmt` shows Go's own error)".into()),
                fix: None,
            }]
        }
    }
}

/// Checks source read from standard input as if it were the file `path`
/// (`--stdin-filename`): Go by the `.go` extension (with the other Go files
/// of its directory on disk, if any, as the rest of its package), a
/// manifest by `.yaml`, `.yml` or `.json`, or a `go.mod`.
/// Parsed Go files kept between checks (the language server's warm
/// package model): a file whose path, displayed name and content did not
/// change since it was last parsed is not parsed again. At most
/// [`ParseCache::MAX_FILES`] files are kept; past that it starts over.
#[derive(Default)]
pub struct ParseCache {
    files: std::sync::Mutex<HashMap<PathBuf, (u128, GoFile)>>,
    hits: std::sync::atomic::AtomicUsize,
}

impl ParseCache {
    pub const MAX_FILES: usize = 8192;

    fn parse(&self, input: &Input) -> Option<GoFile> {
        let hash = xxhash_rust::xxh3::xxh3_128(&input.source);
        {
            let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((h, file)) = files.get(&input.path)
                && *h == hash
                && file.display == input.display
            {
                self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Some(file.clone());
            }
        }
        let file = GoFile::parse(
            input.path.clone(),
            input.display.clone(),
            input.source.clone(),
        )?;
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if files.len() >= Self::MAX_FILES {
            files.clear();
        }
        files.insert(input.path.clone(), (hash, file.clone()));
        Some(file)
    }

    /// How many parses were served from the cache so far.
    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::Relaxed)
    }
}

pub fn run_stdin(
    path: &Path,
    source: Vec<u8>,
    configs: &Configs,
    cwd: &Path,
) -> Result<Outcome, String> {
    run_stdin_with(path, source, configs, cwd, None)
}

/// [`run_stdin`], with the package's files parsed through `parsed`.
pub fn run_stdin_with(
    path: &Path,
    source: Vec<u8>,
    configs: &Configs,
    cwd: &Path,
    parsed: Option<&ParseCache>,
) -> Result<Outcome, String> {
    let started = Instant::now();
    let display = display_path(path, cwd);
    // ruff's --force-exclude: an excluded path stays excluded when an
    // editor or hook sends it on standard input.
    if let Some(by) = configs.stdin_excluded(path)? {
        return Ok(Outcome {
            notes: vec![format!(
                "redline: {display} is excluded by {by}; not checked"
            )],
            diagnostics: Vec::new(),
            summary: CheckSummary {
                files_scanned: 0,
                elapsed_ms: started.elapsed().as_millis(),
            },
            sources: Sources::new(),
            io_errors: Vec::new(),
            paths: ReadPaths::default(),
        });
    }
    let config = configs.for_file(path)?;
    let config = &*config;
    if source.len() as u64 > config.max_file_size {
        return Ok(Outcome {
            diagnostics: apply_config(
                vec![too_large(&display, source.len() as u64, false, config)],
                config,
            ),
            summary: CheckSummary {
                files_scanned: 1,
                elapsed_ms: started.elapsed().as_millis(),
            },
            sources: Sources::new(),
            io_errors: Vec::new(),
            paths: ReadPaths::default(),
            notes: Vec::new(),
        });
    }
    let source: Arc<[u8]> = source.into();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let mut result = if ext == "go" {
        let mut inputs = vec![Input {
            path: path.to_path_buf(),
            display: display.clone(),
            source: source.clone(),
            explicit: true,
        }];
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let sibling = entry.path();
                let is_go = sibling.extension().is_some_and(|e| e == "go");
                if !is_go || sibling.file_name() == path.file_name() || !sibling.is_file() {
                    continue;
                }
                let name = sibling.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if config.tests.is_test_file(name) {
                    continue;
                }
                if let Ok(Loaded::Source(bytes)) = read_limited(&sibling, config.max_file_size) {
                    inputs.push(Input {
                        display: display_path(&sibling, cwd),
                        path: sibling,
                        source: bytes.into(),
                        explicit: false,
                    });
                }
            }
        }
        let mut r = check_go_inputs_with(inputs, config, parsed);
        r.diagnostics.retain(|d| d.path == display);
        r.sources.retain(|k, _| *k == display);
        r.files_scanned = 1;
        r
    } else {
        let mut manifest_ctx = None;
        let diags = if name == "go.mod" {
            go_mod_diagnostics(&display, &source, config)
        } else if redline_go::is_manifest_path(path) {
            let scan_root = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() && d.is_dir() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let ctx = redline_k8s::ManifestContext::from_config(
                config.document.as_deref(),
                config.go_version,
                &scan_root,
            )?;
            let diags = redline_rules::manifests::check_manifest(&display, &source, &ctx);
            manifest_ctx = Some(ctx);
            diags
        } else {
            return Err(format!(
                "--stdin-filename {}: cannot tell what to check; name a Go file (.go), a manifest (.yaml, .yml, .json) or a go.mod",
                path.display()
            ));
        };
        let diags = finish_file(&display, &source, &LineIndex::new(&source), diags, config);
        let mut r = DirResult {
            files_scanned: 1,
            ..DirResult::default()
        };
        if !diags.is_empty() {
            r.sources.insert(display.clone(), source.clone());
        }
        if let Some(ctx) = &manifest_ctx {
            mask_manifest_sources(&mut r.sources, ctx);
        }
        r.diagnostics = diags;
        r
    };
    sort(&mut result.diagnostics);
    Ok(Outcome {
        diagnostics: result.diagnostics,
        summary: CheckSummary {
            files_scanned: result.files_scanned,
            elapsed_ms: started.elapsed().as_millis(),
        },
        sources: result.sources,
        io_errors: result.io_errors,
        paths: {
            let mut paths = ReadPaths::default();
            paths.insert(&display, path);
            paths
        },
        notes: Vec::new(),
    })
}

/// What reports quote of a manifest is its text with every secret value
/// masked (RL704, docs/rules.md: no code frame, snippet or fingerprint of any
/// format shows a secret). Manifests get no fixes, so nothing writes these
/// copies back.
fn mask_manifest_sources(sources: &mut Sources, ctx: &redline_k8s::ManifestContext) {
    for source in sources.values_mut() {
        if let Some(masked) = redline_k8s::secrets::mask_secrets(source, &ctx.env_spec) {
            *source = masked.into();
        }
    }
}

/// What `redline debug parse` measured.
pub struct ParseStats {
    pub files: usize,
    pub bytes: usize,
    pub trees_with_errors: usize,
    pub io_errors: usize,
}

/// The parse floor of the benchmark: discovers the Go files exactly as
/// `check` does (same walk, same generated-file skip), reads and parses
/// every one with tree-sitter on all cores, and does nothing else.
pub fn parse_only(paths: &[PathBuf], configs: &Arc<Configs>) -> Result<ParseStats, String> {
    let discovered = redline_go::discover(
        paths,
        &DiscoveryOptions {
            exclude: configs.cli_exclude().to_vec(),
            manifests: false,
            filter: Some(entry_filter(configs)),
        },
    )?;
    let per_file: Vec<(usize, usize, usize, usize)> = discovered
        .go_files
        .par_iter()
        .map(|f| match std::fs::read(&f.path) {
            Err(_) => (0, 0, 0, 1),
            Ok(bytes) if !f.explicit && is_generated(&bytes) => (0, 0, 0, 0),
            Ok(bytes) => match redline_go::parse_go(&bytes) {
                Some(tree) => (1, bytes.len(), usize::from(tree.root_node().has_error()), 0),
                None => (1, bytes.len(), 1, 0),
            },
        })
        .collect();
    let mut stats = ParseStats {
        files: 0,
        bytes: 0,
        trees_with_errors: 0,
        io_errors: 0,
    };
    for (f, b, e, io) in per_file {
        stats.files += f;
        stats.bytes += b;
        stats.trees_with_errors += e;
        stats.io_errors += io;
    }
    Ok(stats)
}

/// Reads one non-Go file, runs `check` on it, and applies the
/// configuration (select/ignore, severity) and suppressions. With a cache
/// (and the salt of everything else the check depends on), an unchanged
/// file is not checked again.
fn check_one(
    f: &redline_go::DiscoveredFile,
    cwd: &Path,
    config: &Config,
    cache: Option<(&Cache, &str)>,
    check: impl Fn(&str, &[u8]) -> Vec<Diagnostic>,
) -> DirResult {
    let mut result = DirResult::default();
    let source: Arc<[u8]> = match read_limited(&f.path, config.max_file_size) {
        Ok(Loaded::Source(b)) => b.into(),
        Ok(Loaded::TooLarge { size, exact, .. }) => {
            result.files_scanned = 1;
            let d = too_large(&display_path(&f.path, cwd), size, exact, config);
            result.diagnostics = apply_config(vec![d], config);
            return result;
        }
        Err(e) => {
            result
                .io_errors
                .push(format!("{}: cannot read: {e}", f.path.display()));
            return result;
        }
    };
    let display = display_path(&f.path, cwd);
    result.paths.insert(&display, &f.path);
    result.files_scanned = 1;
    let key = cache.map(|(c, salt)| {
        let mut h = c.hasher("manifest");
        h.update(salt.as_bytes());
        h.update(b"\0");
        h.update(display.as_bytes());
        h.update(b"\0");
        h.update(&source);
        (c, h.digest128())
    });
    if let Some((c, k)) = key
        && let Some((_, diags)) = c.get_entry(k)
    {
        if !diags.is_empty() {
            result.sources.insert(display, source);
        }
        result.diagnostics = diags;
        return result;
    }
    let diags = check(&display, &source);
    let diags = finish_file(&display, &source, &LineIndex::new(&source), diags, config);
    if let Some((c, k)) = key {
        c.put(k, 1, &diags);
    }
    if !diags.is_empty() {
        result.sources.insert(display, source);
    }
    result.diagnostics = diags;
    result
}

/// Checks the Go files of one directory, through the cache when there is
/// one: the key covers every file of the directory, because a package's
/// findings depend on all of its files.
fn check_go_dir(inputs: Vec<Input>, config: &Config, cache: Option<&Cache>) -> DirResult {
    let Some(cache) = cache else {
        return check_go_inputs(inputs, config);
    };
    let mut h = cache.hasher("go");
    // The directory's own configuration (select, severity, settings).
    h.update(format!("{config:?}").as_bytes());
    if let Some(p) = &config.path
        && let Ok(text) = std::fs::read(p)
    {
        h.update(&text);
    }
    for i in &inputs {
        h.update(i.display.as_bytes());
        h.update(if i.explicit { b"\x01" } else { b"\x00" });
        h.update(&(i.source.len() as u64).to_le_bytes());
        h.update(&i.source);
    }
    let key = h.digest128();
    if let Some((files_scanned, diagnostics)) = cache.get_entry(key) {
        let mut result = DirResult {
            files_scanned,
            ..DirResult::default()
        };
        for d in &diagnostics {
            if !result.sources.contains_key(&d.path)
                && let Some(i) = inputs.iter().find(|i| i.display == d.path)
            {
                result.sources.insert(i.display.clone(), i.source.clone());
            }
        }
        result.diagnostics = diagnostics;
        return result;
    }
    let result = check_go_inputs(inputs, config);
    cache.put(key, result.files_scanned, &result.diagnostics);
    result
}

/// The one last step for the findings of every checked file — a Go file
/// of a package, a manifest, a go.mod, a rendered chart's template, standard
/// input: the configuration's select/ignore and severity overrides, then
/// the file's suppression comments (and RL001 for the ones that are
/// wrong or unused), in report order. (A file that was not checked — too
/// large, binary, a syntax error — has only its RL000.)
pub fn finish_file(
    display: &str,
    source: &[u8],
    lines: &LineIndex,
    diags: Vec<Diagnostic>,
    config: &Config,
) -> Vec<Diagnostic> {
    let diags = apply_config(diags, config);
    let mut diags = suppress::apply(display, source, lines, diags, config);
    sort(&mut diags);
    diags
}

/// Drops diagnostics of disabled rules and applies severity overrides.
fn apply_config(diags: Vec<Diagnostic>, config: &Config) -> Vec<Diagnostic> {
    diags
        .into_iter()
        .filter_map(|mut d| {
            let meta = d.rule;
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
    pub paths: ReadPaths,
}

/// Checks Go files that live in one directory (or were given on stdin).
pub fn check_go_inputs(inputs: Vec<Input>, config: &Config) -> DirResult {
    check_go_inputs_with(inputs, config, None)
}

/// [`check_go_inputs`], parsing through `parsed` when given.
pub fn check_go_inputs_with(
    inputs: Vec<Input>,
    config: &Config,
    parsed: Option<&ParseCache>,
) -> DirResult {
    let mut result = DirResult::default();
    let inputs: Vec<Input> = inputs
        .into_iter()
        .filter(|i| {
            i.explicit || !(is_generated(&i.source) || config.tests.is_test_source(&i.source))
        })
        .collect();
    result.files_scanned = inputs.len();
    // Binary data is refused before parsing: tree-sitter's error recovery
    // on megabytes of NUL bytes costs gigabytes and can abort.
    // So is text that is not UTF-8 (Go rejects it anywhere in a file):
    // 8 MB of random bytes took tree-sitter two minutes.
    let (inputs, binary): (Vec<Input>, Vec<Input>) = inputs
        .into_iter()
        .partition(|i| not_go_text(&i.source).is_none());
    for i in &binary {
        if let Some(why) = not_go_text(&i.source) {
            result
                .diagnostics
                .push(not_go_source(&i.display, why, config));
        }
    }
    let parsed: Vec<(Input, Option<GoFile>)> = inputs
        .into_par_iter()
        .map(|input| {
            let file = match parsed {
                Some(cache) => cache.parse(&input),
                None => GoFile::parse(
                    input.path.clone(),
                    input.display.clone(),
                    input.source.clone(),
                ),
            };
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
                        rule: parse_meta,
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
                    rule: parse_meta,
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
                    rule.run(&cx, &mut diags);
                    let severity = config.severity_of(rule.meta());
                    for d in &mut diags[before..] {
                        d.severity = severity;
                    }
                }
                let diags = finish_file(&file.display, &file.source, &file.lines, diags, config);
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
