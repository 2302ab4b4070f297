//! The `redline` binary: command line, configuration discovery, dispatch
//! to the subcommands, and exit codes (0 clean, 1 findings at the failing
//! level, 2 usage, configuration or I/O error).

mod check;
mod config;
mod suppress;

use clap::{Parser, Subcommand, ValueEnum};
use redline_diagnostics::render::{self, Format, RenderOptions};
use redline_rules::{ALL_RULES, RuleSelector, find_rule};
use std::io::{IsTerminal, Write};
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
    /// Configuration file (default: redline.toml in the working directory or
    /// its nearest ancestor).
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
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Files or directories to check.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format: text or json.
    #[arg(long, default_value = "text")]
    format: String,
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
    /// When to use colours in text output.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
}

/// A usage, configuration or I/O error: one line on stderr, exit 2.
struct Fatal(String);

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(Fatal(message)) => {
            eprintln!("redline: error: {message}");
            ExitCode::from(2)
        }
    }
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
        config_path(&cli.config)?
    };
    match cli.command {
        Command::Check(args) => run_check(args, config_file),
        Command::Explain { rule } => {
            let meta = find_rule(&rule).ok_or_else(|| {
                Fatal(format!(
                    "unknown rule `{rule}` (see `redline rules` for ids and names)"
                ))
            })?;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "# {} `{}` ({})\n", meta.id, meta.name, meta.severity);
            let _ = writeln!(out, "{}.\n", capitalize(meta.summary));
            let _ = write!(out, "{}", meta.documentation());
            Ok(0)
        }
        Command::Rules { markdown } => {
            let mut out = std::io::stdout().lock();
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
                        r.id, r.name, r.severity, fix, r.summary
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
        Command::Slo(args) => Ok(redline_slo::cli::run(&args, config_file.as_deref())),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn run_check(args: CheckArgs, config_file: Option<PathBuf>) -> Result<u8, Fatal> {
    let mut config = match &config_file {
        Some(p) => config::load(p).map_err(Fatal)?,
        None => config::Config::default(),
    };
    let parse_selectors = |list: &[String]| -> Result<Vec<RuleSelector>, Fatal> {
        list.iter()
            .map(|s| RuleSelector::parse(s).map_err(|e| Fatal(format!("--select/--ignore: {e}"))))
            .collect()
    };
    if !args.select.is_empty() {
        config.select = parse_selectors(&args.select)?;
    }
    if !args.ignore.is_empty() {
        config.ignore.extend(parse_selectors(&args.ignore)?);
    }
    config.exclude.extend(args.exclude.iter().cloned());
    if let Some(f) = &args.fail_on {
        config.fail_on = config::FailOn::parse(f).map_err(|e| Fatal(format!("--fail-on: {e}")))?;
    }
    let format: Format = args
        .format
        .parse()
        .map_err(|e: String| Fatal(format!("--format: {e}")))?;
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal(format!("cannot read the working directory: {e}")))?;
    let outcome = check::run(&args.paths, &config, &cwd).map_err(Fatal)?;
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let mut out = std::io::stdout().lock();
    render::render(
        format,
        &outcome.diagnostics,
        &outcome.summary,
        &outcome.sources,
        RenderOptions { color },
        &mut out,
    )
    .or_else(|e| {
        // A closed pipe (`redline check | head`) is the reader's choice.
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Ok(())
        } else {
            Err(Fatal(format!("cannot write the report: {e}")))
        }
    })?;
    drop(out);
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
