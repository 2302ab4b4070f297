//! The `redline` binary: command line, configuration discovery, dispatch
//! to the subcommands, and exit codes (0 clean, 1 findings at the failing
//! level, 2 usage, configuration or I/O error).

// Output goes through `stdio` (a failed write must not panic).
#![deny(clippy::print_stdout, clippy::print_stderr)]

#[macro_use]
mod stdio;

mod attribution;
mod output;
mod progress;
mod server;

// The check engine; imported at the crate root so that modules of the
// binary name them as before (`crate::check`, `crate::config`).
use redline_check::session::{ConfigSource, FixMode, Ran, Request, Session, Since};
use redline_check::{cache, check, config, fix, safe_write};

use clap::{Parser, Subcommand, ValueEnum};
use redline_rules::{ALL_RULES, RuleSelector, find_rule};
use std::io::Write;
use std::path::PathBuf;
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
    let check_config = match (&config_file, cli.isolated || cli.config.is_some()) {
        (_, false) => ConfigSource::Discover,
        (Some(file), true) => ConfigSource::File(file.clone()),
        (None, true) => ConfigSource::Defaults,
    };
    match cli.command {
        Command::Check(args) => run_check(args, check_config),
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
        Command::Slo(args) => Ok(redline_slo::cli::run_traced(
            &args,
            config_file.as_deref(),
            &mut stdio::stdout(),
            &mut stdio::stderr(),
            Some(&attribution::Engine),
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

/// What the check engine says while it runs goes to the terminal: the
/// progress bar and the notes on standard error.
struct Terminal {
    progress: Option<progress::Progress>,
}

impl redline_check::Listener for Terminal {
    fn add_total(&self, n: usize) {
        if let Some(p) = &self.progress {
            p.add_total(n);
        }
    }

    fn add_done(&self, n: usize) {
        if let Some(p) = &self.progress {
            p.add_done(n);
        }
    }

    fn scan_finished(&self) {
        if let Some(p) = &self.progress {
            p.finish();
        }
    }

    fn note(&self, line: &str) {
        errln!("{line}");
    }
}

/// `redline check`: the arguments become a request to the check engine,
/// whose answer is printed here and chooses the exit code.
fn run_check(args: CheckArgs, config: ConfigSource) -> Result<u8, Fatal> {
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
    let request = Request {
        paths: args.paths.clone(),
        stdin_filename: args.stdin_filename.clone(),
        config,
        overrides,
        new_code: match (&args.new_from_rev, &args.new_from_merge_base) {
            (Some(rev), _) => Some(Since::Rev(rev.clone())),
            (None, Some(branch)) => Some(Since::MergeBase(branch.clone())),
            (None, None) => None,
        },
        new_lines_only: args.new_lines_only,
        baseline: args.baseline.clone(),
        write_baseline: args.write_baseline.clone(),
        fix: if args.diff {
            FixMode::Diff
        } else if args.fix {
            FixMode::Apply {
                read_only: args.fix_read_only,
            }
        } else {
            FixMode::Report
        },
        unsafe_fixes: args.unsafe_fixes,
        cache_dir: if args.no_cache {
            None
        } else {
            args.cache_dir.clone().or_else(cache::default_dir)
        },
        cache_stats: std::env::var_os("REDLINE_CACHE_STATS").is_some(),
        helm: args.helm.clone(),
        kustomize: args.kustomize.clone(),
    };
    let session = Session::open(request, &cwd).map_err(Fatal)?;
    let reports = output::plan(&args.format, args.output.as_deref()).map_err(Fatal)?;
    let stdin_mode = args.paths.iter().any(|p| p.as_os_str() == "-");
    match (stdin_mode, &args.stdin_filename) {
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
        (true, Some(_)) if args.paths.len() > 1 => {
            return Err(Fatal(
                "`-` (standard input) cannot be combined with other paths".into(),
            ));
        }
        _ => {}
    }
    if args.new_lines_only && args.new_from_rev.is_none() && args.new_from_merge_base.is_none() {
        return Err(Fatal(
            "--new-lines-only needs --new-from-rev REV or --new-from-merge-base BRANCH".into(),
        ));
    }
    let terminal = Terminal {
        progress: progress::Progress::start(),
    };
    let mut stdin = std::io::stdin().lock();
    let stdin: Option<&mut dyn std::io::Read> = if stdin_mode { Some(&mut stdin) } else { None };
    match session.run(stdin, &terminal).map_err(Fatal)? {
        Ran::Diff {
            diff,
            fixes,
            files,
            skipped,
        } => {
            let _ = stdio::stdout().write_all(diff.as_bytes());
            errln!(
                "redline: {fixes} fix{} in {files} file{} (not applied; use --fix)",
                if fixes == 1 { "" } else { "es" },
                if files == 1 { "" } else { "s" }
            );
            Ok(u8::from(files > 0 || skipped > 0))
        }
        Ran::FixedStdin { fixed, fails } => {
            // Standard input: the fixed source goes to standard output.
            let _ = stdio::stdout().write_all(&fixed);
            Ok(u8::from(fails))
        }
        Ran::BaselineWritten { count, file } => {
            errln!(
                "redline: wrote {count} finding{} to the baseline {}",
                if count == 1 { "" } else { "s" },
                file.display()
            );
            Ok(0)
        }
        Ran::Report { outcome, fails } => {
            output::write_reports(&reports, &outcome, args.color, args.statistics)
                .map_err(Fatal)?;
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
            Ok(u8::from(fails))
        }
    }
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
