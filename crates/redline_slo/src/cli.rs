//! Command-line entry point for `redline slo`.

use crate::config::{self, SloConfig};
use crate::prom::{Client, ClientOptions};
use crate::spec::{self, Slo, SpecProblem};
use crate::trace::{self, FindingsDiff, Tracer};
use crate::{check, events, report, status};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct SloArgs {
    #[command(subcommand)]
    pub command: SloCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SloCommand {
    /// Check SLO specs (Sloth prometheus/v1, OpenSLO v1) and report every problem.
    Validate(ValidateArgs),
    /// Write Prometheus recording rules and burn-rate alerts for the specs.
    Generate(GenerateArgs),
    /// Error budgets and burn rates from Prometheus; the deploy gate.
    Status(StatusArgs),
    /// A self-contained HTML report with charts and deploy attribution.
    Report(ReportArgs),
}

#[derive(Debug, clap::Args)]
pub struct SpecArgs {
    /// SLO spec files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Window of Sloth specs, which do not state one (default 30d, or
    /// `window` in the `[slo]` table of redline.toml).
    #[arg(long, value_name = "DURATION")]
    pub window: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// `text`: one `path:line:col: error: message` line per problem;
    /// `json`: {"version": 1, "problems": [{"path", "line", "column", "message"}]}.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Write the rules here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub rules_format: crate::operator::RulesFormatArgs,
}

#[derive(Debug, clap::Args)]
pub struct ConnArgs {
    /// Base URL of the Prometheus-compatible API, e.g. http://prometheus:9090.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// Evaluation time: RFC 3339, Unix seconds or `now`.
    #[arg(long, value_name = "TIME", default_value = "now")]
    pub at: String,
    /// Per-request timeout in seconds (default 10).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Retries on connection errors, 429 and 5xx, with exponential backoff (default 3).
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Name of an environment variable holding a bearer token.
    #[arg(long, value_name = "VAR")]
    pub bearer_token_env: Option<String>,
    /// File holding a bearer token.
    #[arg(long, value_name = "FILE")]
    pub bearer_token_file: Option<PathBuf>,
    /// Basic auth user name.
    #[arg(long, value_name = "USER")]
    pub basic_auth_user: Option<String>,
    /// Name of an environment variable holding the basic auth password.
    #[arg(long, value_name = "VAR")]
    pub basic_auth_password_env: Option<String>,
    /// Extra request header, `Name: value` (repeatable), e.g. `X-Scope-OrgID: team-a`.
    #[arg(long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// PEM file of the CA that signed Prometheus's TLS certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Fail the gate when an SLO's remaining budget is at or below this percent (default 0).
    #[arg(long, value_name = "PERCENT", allow_negative_numbers = true)]
    pub fail_below: Option<f64>,
    /// Fail the gate when less of the window has data: a duration (`1h`),
    /// a share of the window (`10%`) or 0 (off). Default: the fast page
    /// alert's long window (1h for 30d), or `min-coverage` in redline.toml.
    #[arg(long, value_name = "DURATION|PERCENT")]
    pub min_coverage: Option<String>,
    /// Let an SLO with no traffic in its window pass (a new service), with
    /// the reason printed; without it, no traffic fails the gate. `=false`
    /// overrides `allow-no-traffic = true` of redline.toml.
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        hide_possible_values = true
    )]
    pub allow_no_traffic: Option<bool>,
    // When the gate fails, the most recent deploy of each failing service
    // is traced to its commits and findings (see --repo).
    #[command(flatten)]
    pub events: EventArgs,
}

#[derive(Debug, clap::Args)]
pub struct EventArgs {
    /// Deploy events, JSON lines {"time", "service", "commit", "description"}.
    #[arg(long, value_name = "FILE", conflicts_with = "events_from_git")]
    pub events: Option<PathBuf>,
    /// Use the commits of this git repository as deploy events.
    #[arg(long, value_name = "REPO")]
    pub events_from_git: Option<PathBuf>,
    /// The services' git repository: a deploy is traced to its commits
    /// since the previous deploy and the red-line findings they introduced
    /// (default: the --events-from-git repository).
    #[arg(long, value_name = "REPO")]
    pub repo: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
    #[command(flatten)]
    pub events: EventArgs,
    /// Where to write the HTML report.
    #[arg(short, long, value_name = "FILE", required = true)]
    pub output: PathBuf,
    /// Write the report for an SLO whose queries return no series (a new
    /// service), saying so, instead of failing. `=false` overrides
    /// `allow-no-traffic = true` of redline.toml.
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        hide_possible_values = true
    )]
    pub allow_no_traffic: Option<bool>,
}

pub fn run(args: &SloArgs, config: Option<&Path>) -> u8 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    run_with(args, config, &mut stdout.lock(), &mut stderr.lock())
}

/// `run_with` without the check engine: deploys are traced to their
/// commits, not to findings.
pub fn run_with(
    args: &SloArgs,
    config: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    run_traced(args, config, out, err, None)
}

/// A usage, config or I/O error: exit code 2 with this one-line reason.
struct Fatal(String);

/// `run` with explicit output streams and the engine that finds the
/// red-line findings a deploy introduced (the `redline` binary's).
pub fn run_traced(
    args: &SloArgs,
    config: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    diff: Option<&dyn FindingsDiff>,
) -> u8 {
    match dispatch(args, config, out, err, diff) {
        Ok(code) => code,
        Err(Fatal(msg)) => {
            let _ = writeln!(err, "redline slo: {msg}");
            2
        }
    }
}

fn dispatch(
    args: &SloArgs,
    config_path: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    diff: Option<&dyn FindingsDiff>,
) -> Result<u8, Fatal> {
    let cfg = match config_path {
        Some(p) => {
            let loaded = config::load_with_warnings(p).map_err(Fatal)?;
            for w in &loaded.warnings {
                let _ = writeln!(err, "redline slo: warning: {w}");
            }
            loaded.config
        }
        None => SloConfig::default(),
    };
    match &args.command {
        SloCommand::Validate(a) => {
            let (slos, problems) = load_specs(&a.spec, &cfg)?;
            if a.format == OutputFormat::Json {
                let list: Vec<serde_json::Value> = problems
                    .iter()
                    .map(|p| {
                        serde_json::json!({"path": p.path, "line": p.pos.line, "column": p.pos.column, "message": p.message})
                    })
                    .collect();
                let doc = serde_json::json!({"version": 1, "slos": slos.len(), "problems": list});
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&doc).unwrap_or_default()
                );
                return Ok(u8::from(!problems.is_empty()));
            }
            for p in &problems {
                let _ = writeln!(out, "{}", problem_line(p));
            }
            if problems.is_empty() {
                let _ = writeln!(
                    out,
                    "{} SLOs in {} files: ok",
                    slos.len(),
                    a.spec.files.len()
                );
                Ok(0)
            } else {
                let n = problems.len();
                let _ = writeln!(out, "{n} problem{}", if n == 1 { "" } else { "s" });
                Ok(1)
            }
        }
        SloCommand::Generate(a) => {
            let slos = valid_specs(&a.spec, &cfg, err)?;
            let text = crate::operator::render(&slos, &a.rules_format).map_err(Fatal)?;
            match &a.output {
                Some(path) => std::fs::write(path, text)
                    .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))?,
                None => {
                    let _ = out.write_all(text.as_bytes());
                }
            }
            Ok(0)
        }
        SloCommand::Status(a) => {
            let slos = valid_specs(&a.spec, &cfg, err)?;
            let client = client(&a.conn, &cfg)?;
            let at = status::parse_time(&a.conn.at).map_err(Fatal)?;
            let fail_below = a.fail_below.or(cfg.fail_below).unwrap_or(0.0);
            if !fail_below.is_finite() {
                return Err(Fatal(format!(
                    "--fail-below {fail_below}: not a percentage; give a number such as 0 or 25"
                )));
            }
            // The flags, else redline.toml (checked when it was read).
            let min_coverage = match a.min_coverage.as_ref().or(cfg.min_coverage.as_ref()) {
                Some(m) => Some(status::MinCoverage::parse(m).map_err(Fatal)?),
                None => None,
            };
            let evs = load_events(&a.events)?;
            let policy = status::Policy {
                fail_below,
                min_coverage,
                allow_no_traffic: a.allow_no_traffic.or(cfg.allow_no_traffic).unwrap_or(false),
            };
            let report = status::status(&client, &slos, at, &policy);
            print_warnings(&client, err);
            let mut report = report.map_err(Fatal)?;
            if !report.gate.passed {
                let repo = trace::repo_of(&a.events.repo, &a.events.events_from_git);
                let tracer = Tracer {
                    repo: repo.as_deref(),
                    diff,
                };
                let mut services: Vec<&str> = Vec::new();
                for s in report.slos.iter().filter(|s| s.gate_failed) {
                    if !services.contains(&s.service.as_str()) {
                        services.push(&s.service);
                    }
                }
                let mut traced = Vec::new();
                for service in services {
                    let latest = evs
                        .iter()
                        .filter(|e| e.time <= at)
                        .filter(|e| e.service.as_deref().is_none_or(|s| s == service))
                        .max_by_key(|e| e.time);
                    if let Some(e) = latest {
                        traced.push(trace::attribute(tracer, &evs, e, service));
                    }
                }
                report.attribution = traced;
            }
            let text = match a.format {
                OutputFormat::Json => status::render_json(&report),
                OutputFormat::Text => status::render_text(&report),
            };
            let _ = out.write_all(text.as_bytes());
            Ok(if report.gate.passed { 0 } else { 1 })
        }
        SloCommand::Report(a) => {
            let slos = valid_specs(&a.spec, &cfg, err)?;
            let client = client(&a.conn, &cfg)?;
            let at = status::parse_time(&a.conn.at).map_err(Fatal)?;
            let evs = load_events(&a.events)?;
            let repo = trace::repo_of(&a.events.repo, &a.events.events_from_git);
            let tracer = Tracer {
                repo: repo.as_deref(),
                diff,
            };
            let mut reports = Vec::new();
            // One trace per deploy and service, however many periods follow it.
            let mut traced: Vec<((i64, String, String), trace::Attribution)> = Vec::new();
            for slo in &slos {
                let allow = a.allow_no_traffic.or(cfg.allow_no_traffic).unwrap_or(false);
                let built = report::build_with(&client, slo, at, &evs, allow);
                print_warnings(&client, err);
                let mut built = built.map_err(Fatal)?;
                for p in &mut built.periods {
                    let Some(e) = p.suspects.first() else {
                        continue;
                    };
                    let key = (e.time, e.commit.clone(), slo.service.clone());
                    let found = traced
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map(|(_, a)| a.clone());
                    let a = match found {
                        Some(a) => a,
                        None => {
                            let a = trace::attribute(tracer, &evs, e, &slo.service);
                            traced.push((key, a.clone()));
                            a
                        }
                    };
                    p.trace = Some(a);
                }
                reports.push(built);
            }
            let html = report::render_html(&reports, at);
            std::fs::write(&a.output, html)
                .map_err(|e| Fatal(format!("cannot write {}: {e}", a.output.display())))?;
            let periods: usize = reports.iter().map(|r| r.periods.len()).sum();
            let _ = writeln!(
                out,
                "wrote {} ({} SLOs, {periods} fast-burn periods)",
                a.output.display(),
                reports.len()
            );
            for r in &reports {
                if let Some(note) = &r.note {
                    let _ = writeln!(out, "{}: {note}", r.slo_title);
                }
                for p in &r.periods {
                    if let Some(t) = &p.trace {
                        let _ = writeln!(
                            out,
                            "{}: fast burn from {}: {}",
                            r.slo_title,
                            status::rfc3339(p.start),
                            t.summary
                        );
                    }
                }
            }
            Ok(0)
        }
    }
}

fn load_events(a: &EventArgs) -> Result<Vec<events::Event>, Fatal> {
    match (&a.events, &a.events_from_git) {
        (Some(f), _) => events::from_file(f).map_err(Fatal),
        (None, Some(repo)) => events::from_git(repo).map_err(Fatal),
        (None, None) => Ok(Vec::new()),
    }
}

fn load_specs(a: &SpecArgs, cfg: &SloConfig) -> Result<(Vec<Slo>, Vec<SpecProblem>), Fatal> {
    let window = match a.window.as_deref().or(cfg.window.as_deref()) {
        Some(w) => spec::parse_window(w).map_err(Fatal)?,
        None => spec::DEFAULT_WINDOW_SECS,
    };
    let mut files = Vec::new();
    for f in &a.files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| Fatal(format!("cannot read {}: {e}", f.display())))?;
        files.push((f.display().to_string(), text));
    }
    // Read together: OpenSLO references and AlertWindows cross files.
    let spec::Loaded {
        slos,
        mut problems,
        names,
        ..
    } = spec::load_all(&files, window);
    problems.extend(check::check(&slos, &names));
    problems.sort();
    problems.dedup();
    Ok((slos, problems))
}

fn valid_specs(a: &SpecArgs, cfg: &SloConfig, err: &mut dyn Write) -> Result<Vec<Slo>, Fatal> {
    let (slos, problems) = load_specs(a, cfg)?;
    if problems.is_empty() {
        return Ok(slos);
    }
    for p in &problems {
        let _ = writeln!(err, "{}", problem_line(p));
    }
    Err(Fatal(format!(
        "{} problem{} in the SLO specs; fix {} first (`redline slo validate` lists {})",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        if problems.len() == 1 { "it" } else { "them" },
        if problems.len() == 1 { "it" } else { "them" },
    )))
}

/// `path:line:col: error: message` on one line: control characters in the
/// path (a file named with a line break) and line breaks in the message
/// are escaped, so no line of the output is a problem the specs do not
/// have.
fn problem_line(p: &SpecProblem) -> String {
    fn escape(s: &str, keep_backslash: bool) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\\' if !keep_backslash => out.push_str("\\\\"),
                c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
                c => out.push(c),
            }
        }
        out
    }
    format!(
        "{}:{}:{}: error: {}",
        escape(&p.path, false),
        p.pos.line,
        p.pos.column,
        escape(&p.message, true)
    )
}

fn env_var(name: &str, what: &str) -> Result<String, Fatal> {
    std::env::var(name)
        .map_err(|_| Fatal(format!("{what}: environment variable `{name}` is not set")))
}

/// The client's warnings (a redirect to another host), once each.
fn print_warnings(client: &Client, err: &mut dyn Write) {
    for w in client.take_warnings() {
        let _ = writeln!(err, "redline slo: warning: {w}");
    }
}

fn client(c: &ConnArgs, cfg: &SloConfig) -> Result<Client, Fatal> {
    let url = c
        .prometheus
        .clone()
        .or_else(|| cfg.prometheus.clone())
        .ok_or_else(|| {
            Fatal(
                "missing --prometheus URL (or `prometheus` in the [slo] table of redline.toml)"
                    .into(),
            )
        })?;
    let bearer_token = match (&c.bearer_token_env, &c.bearer_token_file) {
        (Some(_), Some(_)) => {
            return Err(Fatal(
                "use either --bearer-token-env or --bearer-token-file, not both".into(),
            ));
        }
        (Some(var), None) => Some(env_var(var, "--bearer-token-env")?),
        (None, Some(f)) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| {
                    Fatal(format!(
                        "cannot read the bearer token file {}: {e}",
                        f.display()
                    ))
                })?
                .trim()
                .to_string(),
        ),
        (None, None) => None,
    };
    let basic_auth = match (&c.basic_auth_user, &c.basic_auth_password_env) {
        (Some(u), Some(var)) => Some((u.clone(), env_var(var, "--basic-auth-password-env")?)),
        (Some(_), None) => {
            return Err(Fatal(
                "--basic-auth-user needs --basic-auth-password-env".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(Fatal(
                "--basic-auth-password-env needs --basic-auth-user".into(),
            ));
        }
        (None, None) => None,
    };
    if bearer_token.is_some() && basic_auth.is_some() {
        return Err(Fatal(
            "use either a bearer token or basic auth, not both".into(),
        ));
    }
    let mut headers = Vec::new();
    for (i, h) in c.headers.iter().enumerate() {
        match h.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() && !k.contains(char::is_whitespace) => {
                headers.push((k.trim().to_string(), v.trim().to_string()))
            }
            _ => {
                // Not echoed: a header often carries a token.
                return Err(Fatal(format!(
                    "--header number {} must look like `Name: value` (a name without spaces, \
                     then `:`)",
                    i + 1
                )));
            }
        }
    }
    Client::new(ClientOptions {
        url,
        timeout: Duration::from_secs(c.timeout.or(cfg.timeout_secs).unwrap_or(10).max(1)),
        retries: c.retries.or(cfg.retries).unwrap_or(3),
        backoff: Duration::from_millis(250),
        bearer_token,
        basic_auth,
        headers,
        ca_file: c.ca_file.clone(),
    })
    .map_err(|e| Fatal(e.to_string()))
}
