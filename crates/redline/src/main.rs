//! The `redline` binary: command line, configuration discovery, dispatch
//! to the subcommands, and exit codes (0 clean, 1 findings at the failing
//! level, 2 usage, configuration or I/O error).

// Output goes through `stdio` (a failed write must not panic).
#![deny(clippy::print_stdout, clippy::print_stderr)]

#[macro_use]
mod stdio;

mod baseline;
mod cache;
mod check;
mod config;
mod fix;
mod newcode;
mod output;
mod progress;
mod rendered;
mod safe_write;
mod server;
mod suppress;

use clap::{Parser, Subcommand, ValueEnum};
use redline_rules::{ALL_RULES, RuleSelector, find_rule};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "redline",
    version,
    about = "Enforces production red lines for Go services on Kubernetes",
    propagate_version = true
)]
struct Cli {
    /// Configuration file for every checked file (default: for `check`, the
    /// nearest redline.toml of each checked file, up to the repository
    /// root; for the other commands, the working directory's).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore every configuration file; use the built-in defaults.
    #[arg(long, global = true, conflicts_with = "config")]
    isolated: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check Go source and Kubernetes manifests against the red-line catalog.
    Check(CheckArgs),
    /// Print a rule's documentation.
    Explain {
        /// Rule id (RL101) or name (new-map).
        rule: String,
    },
    /// List every rule.
    Rules {
        /// Print the Markdown table used in the README.
        #[arg(long)]
        markdown: bool,
    },
    /// Check the current environment against the environment spec.
    Env(redline_runtime::cli::EnvArgs),
    /// Check the environment, set GOMAXPROCS from the cgroup quota, then exec the service.
    Exec(redline_runtime::cli::ExecArgs),
    /// Validate structured JSON log lines.
    Logs(redline_runtime::cli::LogsArgs),
    /// SLO specs, Prometheus rules, error budgets and the deploy gate.
    Slo(redline_slo::cli::SloArgs),
    /// A Language Server (stdio) for editors: diagnostics as you type,
    /// safe fixes and suppressions as code actions, rule docs on hover.
    Server,
    /// Internal tools (benchmarks).
    #[command(hide = true, subcommand)]
    Debug(DebugCommand),
}

#[derive(Debug, Subcommand)]
enum DebugCommand {
    /// Discover, read and parse every Go file on all cores, and nothing
    /// else: the parse floor of the benchmark.
    Parse {
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Files or directories to check; `-` reads one file from standard
    /// input (with --stdin-filename).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format: text, json, sarif, github, gitlab, checkstyle or
    /// junit. FORMAT:PATH writes that report to a file; repeat the option
    /// (or separate with commas) for several reports in one run.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "text",
        value_name = "FORMAT[:PATH]"
    )]
    format: Vec<String>,
    /// Write the report to FILE; the text report still goes to the terminal.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the number of findings per rule instead of the findings.
    #[arg(long)]
    statistics: bool,
    /// Report only findings that revision REV (git) did not have: REV is
    /// checked out into a temporary directory and checked with its own
    /// configuration; findings are compared by fingerprint.
    #[arg(long, value_name = "REV", conflicts_with = "new_from_merge_base")]
    new_from_rev: Option<String>,
    /// Report only findings that the merge base of BRANCH and HEAD (git)
    /// did not have, e.g. origin/main.
    #[arg(long, value_name = "BRANCH")]
    new_from_merge_base: Option<String>,
    /// With --new-from-rev/--new-from-merge-base: report the findings on
    /// lines added or changed since then instead (no check of the base).
    #[arg(long)]
    new_lines_only: bool,
    /// Hide the findings recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record today's findings in this baseline file (exits 0).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Apply safe fixes, then report what remains.
    #[arg(long)]
    fix: bool,
    /// Print the fixes as a unified diff instead of applying them.
    #[arg(long, conflicts_with = "fix")]
    diff: bool,
    /// Also apply fixes that may change behaviour.
    #[arg(long)]
    unsafe_fixes: bool,
    /// With --fix: also rewrite files that have no write permission
    /// (they are refused otherwise; their mode is kept).
    #[arg(long, requires = "fix")]
    fix_read_only: bool,
    /// Neither read nor write the result cache.
    #[arg(long)]
    no_cache: bool,
    /// Cache directory (default: $XDG_CACHE_HOME/redline or ~/.cache/redline).
    #[arg(long, env = "REDLINE_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// With `-` as the path: the file name the source on standard input
    /// stands for (its extension says Go or manifest; paths in findings).
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,
    /// Only these rules (ids, names or prefixes such as RL1), comma-separated.
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Skip these rules, comma-separated.
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Leave out paths matching these globs.
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// Lowest severity that fails the run: error, warning, info or never.
    #[arg(long)]
    fail_on: Option<String>,
    /// The `helm` binary that renders Helm charts (default: `[helm] binary`
    /// of redline.toml, else `helm` on PATH).
    #[arg(long, value_name = "PATH")]
    helm: Option<PathBuf>,
    /// The `kustomize` (or `kubectl`) binary that builds Kustomize overlays
    /// (default: `[kustomize] binary`, else `kustomize`, else `kubectl`, on PATH).
    #[arg(long, value_name = "PATH")]
    kustomize: Option<PathBuf>,
    /// When to use colours in text output.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Files larger than this are reported (RL000) instead of parsed, e.g.
    /// 64MiB (default 8MiB, or `max-file-size` in redline.toml).
    #[arg(long, value_name = "SIZE")]
    max_file_size: Option<String>,
}

/// A usage, configuration or I/O error: one line on stderr, exit 2.
struct Fatal(String);

/// mimalloc for Rust's allocations and for tree-sitter's (parsing is most
/// of a scan, and tree-sitter allocates a node at a time).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (libmimalloc-sys
/// exports no constant for it). The `mimalloc_option_is_purge_delay` test
/// checks it against the option's documented default.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn use_mimalloc_for_tree_sitter() {
    use libmimalloc_sys::{mi_calloc, mi_free, mi_malloc, mi_option_set, mi_realloc};
    // Never hand freed memory back to the OS: a scan frees each package's
    // trees and parses the next one, and with purging on, every package
    // paid again for fresh (zeroed, often huge) pages: 3,030 page faults
    // and 7 % more CPU time on prometheus (one thread), 349 faults without. Peak
    // memory is the same; the process is short-lived.
    // SAFETY: setting an option is allowed at any time.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // SAFETY: one allocator family (mimalloc's, whose alignment is at
    // least malloc's), installed before any tree-sitter object exists,
    // from the main thread before any other thread starts.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: mi_malloc,
            calloc: mi_calloc,
            realloc: mi_realloc,
            free: mi_free,
        }));
    }
}

fn main() -> ExitCode {
    use_mimalloc_for_tree_sitter();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // Help and errors: clap prints them (with colour on a
            // terminal) and reports, rather than panics on, a failed write.
            return match e.print() {
                Err(w) if w.kind() != std::io::ErrorKind::BrokenPipe => ExitCode::from(2),
                _ => ExitCode::from(code),
            };
        }
    };
    let code = match run(cli) {
        Ok(code) => code,
        Err(Fatal(message)) => {
            errln!("redline: error: {message}");
            2
        }
    };
    ExitCode::from(stdio::finish(code))
}

fn config_path(cli_config: &Option<PathBuf>) -> Result<Option<PathBuf>, Fatal> {
    match cli_config {
        Some(p) if !p.is_file() => Err(Fatal(format!(
            "{}: configuration file not found",
            p.display()
        ))),
        Some(p) => Ok(Some(p.clone())),
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| Fatal(format!("cannot read the working directory: {e}")))?;
            Ok(config::discover(&cwd))
        }
    }
}

fn run(cli: Cli) -> Result<u8, Fatal> {
    let config_file = if cli.isolated {
        None
    } else {
        match config_path(&cli.config) {
            Ok(p) => p,
            // exec reports every configuration error as its JSON line and
            // exit 78 (the pod's log says why the service did not start).
            Err(Fatal(m)) if matches!(cli.command, Command::Exec(_)) => {
                return Ok(redline_runtime::cli::exec_config_error(&m));
            }
            Err(e) => return Err(e),
        }
    };
    // `check` finds the configuration per checked file, unless one is
    // forced (`--config`, or the defaults with `--isolated`).
    let forced = cli.isolated || cli.config.is_some();
    match cli.command {
        Command::Check(args) => run_check(args, config_file.filter(|_| forced), forced),
        Command::Explain { rule } => {
            let meta = find_rule(&rule).ok_or_else(|| {
                Fatal(format!(
                    "unknown rule `{rule}` (see `redline rules` for ids and names)"
                ))
            })?;
            let mut out = stdio::stdout();
            let _ = writeln!(out, "# {} `{}` ({})\n", meta.id, meta.name, meta.severity);
            let _ = writeln!(out, "{}.\n", capitalize(meta.finds));
            let _ = write!(out, "{}", meta.documentation());
            Ok(0)
        }
        Command::Rules { markdown } => {
            let mut out = stdio::stdout();
            if markdown {
                let _ = write!(out, "{}", redline_rules::readme_table());
            } else {
                for r in ALL_RULES {
                    let fix = match r.fix {
                        Some(_) => "fix",
                        None => "",
                    };
                    let _ = writeln!(
                        out,
                        "{:<6} {:<34} {:<8} {:<4} {}",
                        r.id, r.name, r.severity, fix, r.finds
                    );
                }
            }
            Ok(0)
        }
        Command::Env(args) => Ok(redline_runtime::cli::run_env(&args, config_file.as_deref())),
        Command::Exec(args) => Ok(redline_runtime::cli::run_exec(
            &args,
            config_file.as_deref(),
        )),
        Command::Logs(args) => Ok(redline_runtime::cli::run_logs(
            &args,
            config_file.as_deref(),
        )),
        Command::Slo(args) => Ok(redline_slo::cli::run_with(
            &args,
            config_file.as_deref(),
            &mut stdio::stdout(),
            &mut stdio::stderr(),
        )),
        Command::Server => {
            server::run(server::ServerOptions {
                config: cli.config.clone(),
                isolated: cli.isolated,
            })
            .map_err(Fatal)?;
            Ok(0)
        }
        Command::Debug(DebugCommand::Parse { paths }) => {
            let started = std::time::Instant::now();
            let cwd = std::env::current_dir()
                .map_err(|e| Fatal(format!("cannot read the working directory: {e}")))?;
            let configs = std::sync::Arc::new(config::Configs::fixed(
                config::Config::default(),
                config::Overrides::default(),
                &cwd,
            ));
            let stats = check::parse_only(&paths, &configs).map_err(Fatal)?;
            errln!(
                "parsed {} files ({} bytes, {} with syntax errors, {} unreadable) in {} ms",
                stats.files,
                stats.bytes,
                stats.trees_with_errors,
                stats.io_errors,
                started.elapsed().as_millis()
            );
            Ok(0)
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The configurations of a check of the base revision checked out in
/// `tree`: the configuration files the base had. A `--config` inside the
/// repository is read from the base (the defaults if the base lacks it),
/// one outside it is used as given; `--isolated` stays isolated; otherwise
/// each file's nearest `redline.toml` in the base.
fn base_configs(
    config_file: Option<&Path>,
    forced: bool,
    overrides: &config::Overrides,
    tree: &newcode::BaseTree,
    cwd: &Path,
    root: &Path,
) -> Result<std::sync::Arc<config::Configs>, String> {
    let configs = if forced {
        let file = config_file.and_then(|p| match tree.map(p, cwd, root) {
            Some(mapped) => mapped.is_file().then_some(mapped),
            None => Some(p.to_path_buf()),
        });
        let config = match &file {
            Some(p) => config::load(p)?,
            None => config::Config::default(),
        };
        config::Configs::fixed(config, overrides.clone(), &tree.cwd)
    } else {
        config::Configs::discover(overrides.clone(), &tree.cwd)
    };
    Ok(std::sync::Arc::new(configs.with_cli_exclude()?))
}

fn run_check(args: CheckArgs, config_file: Option<PathBuf>, forced: bool) -> Result<u8, Fatal> {
    let parse_selectors = |list: &[String]| -> Result<Vec<RuleSelector>, Fatal> {
        list.iter()
            .map(|s| RuleSelector::parse(s).map_err(|e| Fatal(format!("--select/--ignore: {e}"))))
            .collect()
    };
    let overrides = config::Overrides {
        select: parse_selectors(&args.select)?,
        ignore: parse_selectors(&args.ignore)?,
        fail_on: match &args.fail_on {
            Some(f) => {
                Some(config::FailOn::parse(f).map_err(|e| Fatal(format!("--fail-on: {e}")))?)
            }
            None => None,
        },
        max_file_size: match &args.max_file_size {
            Some(size) => {
                Some(config::parse_size(size).map_err(|e| Fatal(format!("--max-file-size: {e}")))?)
            }
            None => None,
        },
        exclude: args.exclude.clone(),
    };
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal(format!("cannot read the working directory: {e}")))?;
    let configs = if forced {
        let config = match &config_file {
            Some(p) => config::load(p).map_err(Fatal)?,
            None => config::Config::default(),
        };
        config::Configs::fixed(config, overrides.clone(), &cwd)
    } else {
        config::Configs::discover(overrides.clone(), &cwd)
    };
    let configs = std::sync::Arc::new(configs.with_cli_exclude().map_err(Fatal)?);
    // Run-wide settings (fail-on, the cache) come from the configuration
    // of the first path named: the same from wherever the run starts.
    let first = match (&args.stdin_filename, args.paths.first()) {
        (Some(name), _) => name.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => PathBuf::from("."),
    };
    let config = configs.for_path(&first).map_err(Fatal)?;
    let reports = output::plan(&args.format, args.output.as_deref()).map_err(Fatal)?;
    let stdin_mode = args.paths.iter().any(|p| p.as_os_str() == "-");
    let stdin_source = match (stdin_mode, &args.stdin_filename) {
        (false, None) => None,
        (false, Some(_)) => {
            return Err(Fatal(
                "--stdin-filename needs `-` as the path: `redline check --stdin-filename main.go -`"
                    .into(),
            ));
        }
        (true, None) => {
            return Err(Fatal(
                "reading from standard input (`-`) needs --stdin-filename PATH to tell Go from YAML"
                    .into(),
            ));
        }
        (true, Some(name)) => {
            if args.paths.len() > 1 {
                return Err(Fatal(
                    "`-` (standard input) cannot be combined with other paths".into(),
                ));
            }
            // At most one byte over the limit: `run_stdin` reports the
            // rest as too large without holding it.
            let mut bytes = Vec::new();
            let limit = config.max_file_size.saturating_add(1);
            std::io::Read::read_to_end(
                &mut std::io::Read::take(std::io::stdin().lock(), limit),
                &mut bytes,
            )
            .map_err(|e| Fatal(format!("cannot read standard input: {e}")))?;
            Some((name.clone(), bytes))
        }
    };
    // New-code gating is resolved before the scan: a bad revision is a
    // usage error, whatever the tree contains.
    let base = match (&args.new_from_rev, &args.new_from_merge_base) {
        (Some(rev), _) => Some(newcode::Base::rev(&cwd, rev).map_err(Fatal)?),
        (None, Some(branch)) => Some(newcode::Base::merge_base(&cwd, branch).map_err(Fatal)?),
        (None, None) => {
            if args.new_lines_only {
                return Err(Fatal(
                    "--new-lines-only needs --new-from-rev REV or --new-from-merge-base BRANCH"
                        .into(),
                ));
            }
            None
        }
    };
    let baseline = match &args.baseline {
        Some(file) => Some(baseline::Baseline::load(file, &cwd).map_err(Fatal)?),
        None => None,
    };
    let cache = if args.no_cache || stdin_source.is_some() {
        None
    } else {
        args.cache_dir
            .clone()
            .or_else(cache::default_dir)
            .map(|dir| cache::Cache::open(dir, &config))
    };
    let progress = progress::Progress::start();
    let options = check::RunOptions {
        cache: cache.as_ref(),
        progress: progress.as_ref(),
        tools: redline_k8s::settings::ToolFlags {
            helm: args.helm.as_deref(),
            kustomize: args.kustomize.as_deref(),
        },
    };
    let scan = |configs: &std::sync::Arc<config::Configs>| -> Result<check::Outcome, Fatal> {
        match &stdin_source {
            Some((name, bytes)) => {
                check::run_stdin(name, bytes.clone(), configs, &cwd).map_err(Fatal)
            }
            None => check::run_with(&args.paths, configs, &cwd, options).map_err(Fatal),
        }
    };
    let mut outcome = scan(&configs)?;

    // New-code gating: the base's findings (checked in a temporary
    // checkout with the base's configuration), or the changed lines.
    let mut changed = match base {
        None => None,
        Some(base) if args.new_lines_only => Some(newcode::Gate::Lines(
            newcode::ChangedLines::since(&base).map_err(Fatal)?,
        )),
        Some(base) => {
            let root = base.root.clone();
            let found = newcode::BaseFindings::compute(base, &cwd, |tree| {
                let base_configs = base_configs(
                    config_file.as_deref(),
                    forced,
                    &overrides,
                    tree,
                    &cwd,
                    &root,
                )
                .map_err(|e| format!("the base revision's configuration: {e}"))?;
                let outcome = match &stdin_source {
                    Some((name, _)) => match tree.map(name, &cwd, &root) {
                        Some(path) if path.is_file() => {
                            let bytes = std::fs::read(&path).map_err(|e| {
                                format!("{}: cannot read the base version: {e}", path.display())
                            })?;
                            // The base's file under the name standard input
                            // stands for, so the paths compare.
                            let abs = tree.cwd.join(name);
                            check::run_stdin(&abs, bytes, &base_configs, &tree.cwd)?
                        }
                        _ => return Ok((Vec::new(), Default::default())),
                    },
                    None => {
                        let paths: Vec<PathBuf> = args
                            .paths
                            .iter()
                            .filter_map(|p| tree.map(p, &cwd, &root))
                            .filter(|p| p.exists())
                            .collect();
                        if paths.is_empty() {
                            return Ok((Vec::new(), Default::default()));
                        }
                        // The cache is keyed by the configuration it was
                        // opened with: the base's own.
                        let base_config = base_configs.for_path(&paths[0])?;
                        let base_cache = cache.as_ref().map(|c| c.reopen(&base_config));
                        let base_options = check::RunOptions {
                            cache: base_cache.as_ref(),
                            progress: None,
                            tools: options.tools,
                        };
                        check::run_with(&paths, &base_configs, &tree.cwd, base_options)?
                    }
                };
                Ok((outcome.diagnostics, outcome.sources))
            })
            .map_err(Fatal)?;
            errln!(
                "redline: compared with {} ({} finding{} there): reporting only new findings",
                &found.commit()[..found.commit().len().min(12)],
                found.count,
                if found.count == 1 { "" } else { "s" }
            );
            Some(newcode::Gate::Findings(found))
        }
    };

    // What the user sees: new-code gating, then the baseline. Fixes are
    // planned from the same view, so `--fix` writes only what it reports.
    let gate = |diagnostics: Vec<redline_diagnostics::Diagnostic>,
                changed: &Option<newcode::Gate>,
                sources: &redline_diagnostics::render::Sources|
     -> (Vec<redline_diagnostics::Diagnostic>, usize) {
        let diagnostics = match changed {
            Some(c) => c.retain(diagnostics, sources, &cwd),
            None => diagnostics,
        };
        match &baseline {
            Some(b) => b.filter(diagnostics, sources, &cwd),
            None => (diagnostics, 0),
        }
    };

    // Fixes: --diff prints them; --fix writes them and re-checks until
    // nothing more applies (a fix that overlapped another waits a round).
    if args.diff || args.fix {
        let (visible, _) = gate(outcome.diagnostics.clone(), &changed, &outcome.sources);
        let roots: Vec<PathBuf> = match &stdin_source {
            Some((name, _)) => vec![name.clone()],
            None => args.paths.clone(),
        };
        let planned = fix::plan(
            &visible,
            &outcome.sources,
            &outcome.paths,
            &roots,
            &cwd,
            args.unsafe_fixes,
        );
        let mut skipped: std::collections::BTreeSet<String> = planned.skipped.into_iter().collect();
        let plans = planned.plans;
        if let Some(p) = &progress {
            p.finish();
        }
        if args.diff {
            for s in &skipped {
                errln!("redline: warning: {s}");
            }
            let diff = fix::unified_diff(&plans);
            let _ = stdio::stdout().write_all(diff.as_bytes());
            let fixes: usize = plans.iter().map(|p| p.fixes).sum();
            errln!(
                "redline: {fixes} fix{} in {} file{} (not applied; use --fix)",
                if fixes == 1 { "" } else { "es" },
                plans.len(),
                if plans.len() == 1 { "" } else { "s" }
            );
            return Ok(u8::from(!plans.is_empty() || !skipped.is_empty()));
        }
        if let Some((name, bytes)) = &stdin_source {
            // Standard input: the fixed source goes to standard output.
            let fixed = plans
                .first()
                .map(|p| p.fixed.clone())
                .unwrap_or_else(|| bytes.clone());
            for s in &skipped {
                errln!("redline: warning: {s}");
            }
            let _ = stdio::stdout().write_all(&fixed);
            let after = check::run_stdin(name, fixed, &configs, &cwd).map_err(Fatal)?;
            let fails = after
                .diagnostics
                .iter()
                .any(|d| config.fail_on.fails(d.severity));
            return Ok(u8::from(fails));
        }
        let mut plans = plans;
        let mut total = 0;
        let mut problems = Vec::new();
        for _round in 0..10 {
            if plans.is_empty() {
                break;
            }
            let (applied, mut errs, notes) = fix::apply(&plans, args.fix_read_only);
            for n in notes {
                errln!("redline: note: {n}");
            }
            total += applied;
            let stuck = applied == 0;
            problems.append(&mut errs);
            outcome = scan(&configs)?;
            // The fixes moved lines: compare with the base again.
            if let Some(c) = changed.take() {
                changed = Some(c.refresh().map_err(Fatal)?);
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
                args.unsafe_fixes,
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
            errln!("redline: warning: {p}");
        }
        let (remaining, _) = gate(outcome.diagnostics.clone(), &changed, &outcome.sources);
        errln!(
            "redline: fixed {total} finding{}; {} remain{}",
            if total == 1 { "" } else { "s" },
            remaining.len(),
            if remaining.len() == 1 { "s" } else { "" }
        );
    }
    if let Some(p) = &progress {
        p.finish();
    }

    if let Some(file) = &args.write_baseline {
        let n =
            baseline::write(file, &outcome.diagnostics, &outcome.sources, &cwd).map_err(Fatal)?;
        errln!(
            "redline: wrote {n} finding{} to the baseline {}",
            if n == 1 { "" } else { "s" },
            file.display()
        );
        return Ok(0);
    }
    let all = std::mem::take(&mut outcome.diagnostics);
    let (diagnostics, hidden) = gate(all, &changed, &outcome.sources);
    if hidden > 0 {
        errln!(
            "redline: {hidden} finding{} hidden by the baseline",
            if hidden == 1 { "" } else { "s" }
        );
    }
    outcome.diagnostics = diagnostics;
    if let Some(c) = &cache
        && std::env::var_os("REDLINE_CACHE_STATS").is_some()
    {
        errln!(
            "redline: cache {}: {} hits, {} misses",
            c.dir().display(),
            c.hits.load(std::sync::atomic::Ordering::Relaxed),
            c.misses.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
    output::write_reports(&reports, &outcome, args.color, args.statistics).map_err(Fatal)?;
    if let Some(first) = outcome.io_errors.first() {
        return Err(Fatal(if outcome.io_errors.len() == 1 {
            first.clone()
        } else {
            format!(
                "{first} (and {} more I/O errors)",
                outcome.io_errors.len() - 1
            )
        }));
    }
    let fails = outcome
        .diagnostics
        .iter()
        .any(|d| config.fail_on.fails(d.severity));
    Ok(u8::from(fails))
}

#[cfg(test)]
mod main_tests {
    #[test]
    fn mimalloc_option_is_purge_delay() {
        // mimalloc v3's default purge delay is 1000 ms (src/options.c); no
        // other option of the enum defaults to 1000. (The test process
        // has not called `use_mimalloc_for_tree_sitter`.)
        let get = |o| unsafe { libmimalloc_sys::mi_option_get(o) };
        assert_eq!(get(super::MI_OPTION_PURGE_DELAY), 1000);
        for other in (0..super::MI_OPTION_PURGE_DELAY).chain(16..24) {
            assert_ne!(get(other), 1000, "option {other}");
        }
    }
}
