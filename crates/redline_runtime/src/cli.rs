//! Command-line entry points for `redline env`, `redline exec` and
//! `redline logs`. Each returns the process exit code (`run_exec` only
//! returns when the service could not be started).

use crate::buildinfo;
use crate::cgroup::{self, CpuQuota, Rounding};
use crate::logs::{self, LogSummary, LogsConfig, Preset, RateLimit, StreamError};
use crate::output;
use crate::spec::{EnvProblem, EnvProblemKind, EnvSpec, is_positive_integer};
use redline_config::Document;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

/// Exit code of `redline exec` when the environment or configuration is
/// wrong (sysexits.h `EX_CONFIG`): the service was not started.
pub const EXIT_CONFIG: u8 = 78;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TextOrJson {
    #[default]
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct EnvArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
    /// Read /proc and /sys under this directory (tests).
    #[arg(long, hide = true, env = "REDLINE_CGROUP_ROOT")]
    pub cgroup_root: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// How to round a fractional CPU quota: `down` (go.uber.org/automaxprocs:
    /// at least 1) or `up` (Go 1.25's own rule: at least 2, at most the CPUs
    /// this process may run on).
    #[arg(long, value_enum, default_value_t = Rounding::Down)]
    pub round: Rounding,
    /// Read /proc and /sys under this directory (tests).
    #[arg(long, hide = true, env = "REDLINE_CGROUP_ROOT")]
    pub cgroup_root: Option<PathBuf>,
    /// Stay the service's parent and validate one of its output streams
    /// as `redline logs --tee` does (STREAM: `stdout`, the default, or
    /// `stderr`): lines pass through unchanged, violations are reported on
    /// standard error (rate-limited), signals are forwarded to the service,
    /// and redline exits with the service's exit code. The options of
    /// `redline logs` below apply.
    #[arg(
        long,
        value_enum,
        value_name = "STREAM",
        num_args = 0..=1,
        default_missing_value = "stdout",
        require_equals = true
    )]
    pub logs: Option<crate::spawn::LogStream>,
    #[command(flatten)]
    pub log_schema: LogSchemaArgs,
    /// The service to start, and its arguments.
    #[arg(trailing_var_arg = true, required = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Log files to check; `-` or nothing reads standard input.
    pub files: Vec<String>,
    /// Copy every input line unchanged to standard output and report to
    /// standard error, so redline can sit in a pipe behind a service.
    #[arg(long)]
    pub tee: bool,
    #[command(flatten)]
    pub schema: LogSchemaArgs,
}

/// What `redline logs` checks and how it reports (also `redline exec
/// --logs`).
#[derive(Debug, clap::Args)]
pub struct LogSchemaArgs {
    /// Field names and levels of a logger's defaults.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Fields every line must carry (repeatable; replaces the default
    /// `request_id`, `service_name`).
    #[arg(long = "require", value_name = "FIELD")]
    pub require: Vec<String>,
    /// Timestamp field names, any one of which is enough (repeatable).
    #[arg(long = "timestamp-field", value_name = "FIELD")]
    pub timestamp_fields: Vec<String>,
    /// The level field name.
    #[arg(long, value_name = "FIELD")]
    pub level_field: Option<String>,
    /// Stack-trace field names, any one of which is enough (repeatable).
    #[arg(long = "stack-field", value_name = "FIELD")]
    pub stack_fields: Vec<String>,
    /// Lines longer than this are reported and not parsed.
    #[arg(long, value_name = "BYTES")]
    pub max_line_bytes: Option<usize>,
    /// Print at most this many violations one by one (the summary counts
    /// all of them).
    #[arg(long, default_value_t = DEFAULT_MAX_REPORTS, value_name = "N")]
    pub max_reports: u64,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

const DEFAULT_MAX_REPORTS: u64 = 20;

impl LogSchemaArgs {
    /// Whether any option differs from its default.
    pub fn any_given(&self) -> bool {
        self.preset.is_some()
            || !self.require.is_empty()
            || !self.timestamp_fields.is_empty()
            || self.level_field.is_some()
            || !self.stack_fields.is_empty()
            || self.max_line_bytes.is_some()
            || self.max_reports != DEFAULT_MAX_REPORTS
            || self.format != TextOrJson::Text
    }

    /// The schema of redline.toml's `[logs]` with these options applied.
    pub fn schema(&self, config: Option<&Document>) -> Result<logs::LogSchema, String> {
        let c = LogsConfig::from_config(config)?;
        let mut s = c.schema(self.preset)?;
        if !self.require.is_empty() {
            s.required = self.require.clone();
        }
        if !self.timestamp_fields.is_empty() {
            s.timestamp_fields = self.timestamp_fields.clone();
        }
        if let Some(l) = &self.level_field {
            s.level_field = l.clone();
        }
        if !self.stack_fields.is_empty() {
            s.stack_fields = self.stack_fields.clone();
        }
        if let Some(m) = self.max_line_bytes {
            if m == 0 {
                return Err("--max-line-bytes must be positive".to_string());
            }
            s.max_line_bytes = m;
        }
        Ok(s)
    }
}

/// `redline env`: checks this process's environment against the spec.
pub fn run_env(args: &EnvArgs, config: Option<&Path>) -> u8 {
    let spec = match crate::config::load(config).and_then(|doc| EnvSpec::from_config(doc.as_ref()))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("redline env: {e}");
            return 2;
        }
    };
    let mut problems = spec.check_process_env();
    let root = cgroup::root_or_default(args.cgroup_root.as_deref());
    let quota = cgroup::cpu_quota(&root);
    if let Some(p) = gomaxprocs_over_quota(&spec, &quota) {
        problems.push(p);
    }
    let checked: Vec<&str> = spec.vars().map(|v| v.name.as_str()).collect();
    let mut text = String::new();
    match args.format {
        TextOrJson::Json => {
            let out = serde_json::json!({
                "ok": problems.is_empty(),
                "checked": checked,
                "problems": problems.iter().map(problem_json).collect::<Vec<_>>(),
            });
            text = format!("{out}\n");
        }
        TextOrJson::Text => {
            for p in &problems {
                text.push_str(&format!("{}: {}\n", p.kind.as_str(), p.message));
            }
            if problems.is_empty() {
                text.push_str(&format!(
                    "redline env: ok ({} variables checked: {})\n",
                    checked.len(),
                    checked.join(", ")
                ));
            } else {
                text.push_str(&format!(
                    "redline env: {} problem{} in {} variable{}\n",
                    problems.len(),
                    plural(problems.len()),
                    count_vars(&problems),
                    plural(count_vars(&problems))
                ));
            }
        }
    }
    output::exit_code("env", output::print(&text), u8::from(!problems.is_empty()))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn count_vars(problems: &[EnvProblem]) -> usize {
    let names: std::collections::BTreeSet<&str> = problems.iter().map(|p| p.var.as_str()).collect();
    names.len()
}

fn problem_json(p: &EnvProblem) -> serde_json::Value {
    serde_json::json!({"var": p.var, "problem": p.kind.as_str(), "message": p.message})
}

/// An explicit, valid GOMAXPROCS larger than the quota allows (rounded up).
fn gomaxprocs_over_quota(spec: &EnvSpec, quota: &Result<CpuQuota, String>) -> Option<EnvProblem> {
    let value = std::env::var("GOMAXPROCS").ok()?;
    if !is_positive_integer(&value) || spec.get("GOMAXPROCS").is_none() {
        return None;
    }
    let Ok(CpuQuota::Limited(limit)) = quota else {
        return None;
    };
    let n: u64 = value.parse().unwrap_or(u64::MAX);
    let max = limit.max_gomaxprocs();
    (n > max).then(|| EnvProblem {
        var: "GOMAXPROCS".into(),
        kind: EnvProblemKind::ExceedsCpuLimit,
        message: format!(
            "GOMAXPROCS={value} is larger than the cgroup CPU quota allows ({:.2} CPUs, at most \
             {max} threads; {}): lower it or unset it so redline exec sets it",
            limit.cpus,
            limit.source.display()
        ),
    })
}

/// One structured log line on stderr (the service's log pipeline reads
/// it like any other line).
fn log_line(level: &str, msg: &str, fields: serde_json::Value) {
    let mut line = String::with_capacity(256);
    let mut field = |key: &str, value: &serde_json::Value| {
        line.push(if line.is_empty() { '{' } else { ',' });
        line.push_str(&serde_json::Value::from(key).to_string());
        line.push(':');
        line.push_str(&value.to_string());
    };
    // Fixed fields first, in the order people read them.
    field("time", &rfc3339_now().into());
    field("level", &level.into());
    field("logger", &"redline".into());
    if let Ok(service) = std::env::var("SERVICE_NAME") {
        field("service_name", &service.into());
    }
    field("msg", &msg.into());
    if let serde_json::Value::Object(extra) = fields {
        for (k, v) in &extra {
            field(k, v);
        }
    }
    line.push_str("}\n");
    let _ = io::stderr().lock().write_all(line.as_bytes());
}

/// UTC now as RFC 3339 with milliseconds.
fn rfc3339_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Where `program` is, found as execvp finds it.
#[derive(Debug, PartialEq, Eq)]
enum Resolved {
    /// An executable file.
    Found(PathBuf),
    /// It exists but cannot be executed (no execute permission, a
    /// directory): exit 126, as a shell does.
    NotExecutable(PathBuf),
    NotFound,
}

/// Finds `program` as execvp would: as given when it has a `/`, else the
/// first executable in `$PATH` (a match that is not executable is
/// remembered, as execvp remembers EACCES).
fn resolve_program(program: &str) -> Resolved {
    use std::os::unix::fs::PermissionsExt;
    let classify = |p: &Path| match std::fs::metadata(p) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Some(true),
        Ok(_) => Some(false),
        Err(_) => None,
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return match classify(&p) {
            Some(true) => Resolved::Found(p),
            Some(false) => Resolved::NotExecutable(p),
            None => Resolved::NotFound,
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let mut denied = None;
    for dir in std::env::split_paths(&path) {
        let p = if dir.as_os_str().is_empty() {
            PathBuf::from(".").join(program)
        } else {
            dir.join(program)
        };
        match classify(&p) {
            Some(true) => return Resolved::Found(p),
            Some(false) if denied.is_none() => denied = Some(p),
            _ => {}
        }
    }
    match denied {
        Some(p) => Resolved::NotExecutable(p),
        None => Resolved::NotFound,
    }
}

/// What `redline exec` decided about GOMAXPROCS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GomaxprocsDecision {
    /// Set it to this value.
    Set(u64),
    /// Leave the environment as it is.
    Leave,
}

/// Decides GOMAXPROCS for `program` and says why as a structured line.
/// `Err` is a message for an explicit GOMAXPROCS above the quota.
fn decide_gomaxprocs(
    program: &Path,
    rounding: Rounding,
    cgroup_root: &Path,
) -> Result<GomaxprocsDecision, String> {
    let quota = cgroup::cpu_quota(cgroup_root);
    if let Ok(explicit) = std::env::var("GOMAXPROCS") {
        if let Ok(CpuQuota::Limited(limit)) = &quota {
            let n: u64 = explicit.parse().unwrap_or(u64::MAX);
            if n > limit.max_gomaxprocs() {
                return Err(format!(
                    "GOMAXPROCS={explicit} is larger than the cgroup CPU quota allows ({:.2} \
                     CPUs, at most {} threads, from {}): lower it, or unset it and let redline \
                     exec set it",
                    limit.cpus,
                    limit.max_gomaxprocs(),
                    limit.source.display()
                ));
            }
        }
        log_line(
            "info",
            "GOMAXPROCS is set explicitly; leaving it as it is",
            serde_json::json!({"GOMAXPROCS": explicit}),
        );
        return Ok(GomaxprocsDecision::Leave);
    }
    match buildinfo::read_go_build_info(program) {
        Ok(Some(info)) => {
            let godebug = std::env::var("GODEBUG").ok();
            let (reads, why) = info.runtime_reads_cgroup(godebug.as_deref());
            if reads {
                log_line(
                    "info",
                    &format!("GOMAXPROCS left unset: the service is {why}"),
                    serde_json::json!({"go_version": info.go_version, "program": program.display().to_string()}),
                );
                return Ok(GomaxprocsDecision::Leave);
            }
        }
        Ok(None) => {}
        Err(e) => log_line(
            "warn",
            &format!("cannot read Go build information: {e}"),
            serde_json::json!({}),
        ),
    }
    match quota {
        Ok(CpuQuota::Limited(limit)) => {
            let n = limit.gomaxprocs(rounding, cgroup::allowed_cpus(cgroup_root));
            log_line(
                "info",
                &format!(
                    "set GOMAXPROCS={n} from the cgroup CPU quota ({} CPUs, rounded {})",
                    trim_float(limit.cpus),
                    match rounding {
                        Rounding::Down => "down, at least 1",
                        Rounding::Up => "up, at least 2, at most the allowed CPUs",
                    }
                ),
                serde_json::json!({
                    "GOMAXPROCS": n,
                    "cpu_quota": limit.cpus,
                    "quota_us": limit.quota_us,
                    "period_us": limit.period_us,
                    "rounding": rounding.as_str(),
                    "cgroup_version": limit.version,
                    "source": limit.source.display().to_string(),
                }),
            );
            Ok(GomaxprocsDecision::Set(n))
        }
        Ok(CpuQuota::Unlimited { source, version }) => {
            log_line(
                "info",
                "GOMAXPROCS left unset: the cgroup sets no CPU quota",
                serde_json::json!({"cgroup_version": version, "source": source.display().to_string()}),
            );
            Ok(GomaxprocsDecision::Leave)
        }
        Err(e) => {
            log_line(
                "warn",
                &format!("GOMAXPROCS left unset: cannot read the cgroup CPU quota: {e}"),
                serde_json::json!({}),
            );
            Ok(GomaxprocsDecision::Leave)
        }
    }
}

fn trim_float(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `redline exec` when its configuration cannot be found (a missing
/// `--config`), read or used: the JSON line on stderr and exit 78, so the
/// pod's log says why the service did not start.
pub fn exec_config_error(message: &str) -> u8 {
    log_line(
        "error",
        &format!("configuration error, service not started: {message}"),
        serde_json::json!({}),
    );
    EXIT_CONFIG
}

/// `redline exec`: check the environment, settle GOMAXPROCS, then become
/// the service. Returns only when the service was not started.
pub fn run_exec(args: &ExecArgs, config: Option<&Path>) -> u8 {
    let Some(program) = args.command.first() else {
        eprintln!("redline exec: no command given: redline exec [--] CMD [ARGS...]");
        return 2;
    };
    // Read once, for the spec and the log schema.
    let doc = match crate::config::load(config) {
        Ok(doc) => doc,
        Err(e) => return exec_config_error(&e),
    };
    let spec = match EnvSpec::from_config(doc.as_ref()) {
        Ok(s) => s,
        Err(e) => return exec_config_error(&e),
    };
    // With --logs, a schema that does not load is a configuration error
    // like any other: the service is not started.
    let log_schema = match args.logs {
        Some(_) => match crate::spawn::schema_for(&args.log_schema, doc.as_ref()) {
            Ok(s) => Some(s),
            Err(e) => return exec_config_error(&e),
        },
        None if args.log_schema.any_given() => {
            log_line(
                "error",
                "usage error, service not started: the options of `redline logs` (--preset, \
                 --require, --max-reports, …) apply only with --logs: add --logs, or drop them",
                serde_json::json!({}),
            );
            return 2;
        }
        None => None,
    };
    let problems = spec.check_process_env();
    if !problems.is_empty() {
        let sentence: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        log_line(
            "error",
            &format!(
                "environment check failed, service not started: {}",
                sentence.join("; ")
            ),
            serde_json::json!({
                "problems": problems.iter().map(problem_json).collect::<Vec<_>>(),
                "command": program,
            }),
        );
        return EXIT_CONFIG;
    }
    let resolved = match resolve_program(program) {
        Resolved::Found(p) => p,
        Resolved::NotExecutable(p) => {
            log_line(
                "error",
                &format!(
                    "cannot start `{program}`: {} is not executable (a directory, or no execute \
                     permission: `chmod +x` it)",
                    p.display()
                ),
                serde_json::json!({"command": program}),
            );
            return 126;
        }
        Resolved::NotFound => {
            let searched = if program.contains('/') {
                "no such file"
            } else {
                "not found in PATH"
            };
            log_line(
                "error",
                &format!("cannot start `{program}`: {searched}"),
                serde_json::json!({"command": program}),
            );
            return 127;
        }
    };
    let root = cgroup::root_or_default(args.cgroup_root.as_deref());
    let decision = match decide_gomaxprocs(&resolved, args.round, &root) {
        Ok(d) => d,
        Err(e) => {
            log_line(
                "error",
                &format!("environment check failed, service not started: {e}"),
                serde_json::json!({"problems": [{"var": "GOMAXPROCS", "problem": EnvProblemKind::ExceedsCpuLimit.as_str(), "message": e}]}),
            );
            return EXIT_CONFIG;
        }
    };
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new(&resolved);
    command.arg0(program).args(&args.command[1..]);
    if let GomaxprocsDecision::Set(n) = decision {
        command.env("GOMAXPROCS", n.to_string());
    }
    if let (Some(stream), Some(schema)) = (args.logs, &log_schema) {
        return match crate::spawn::run_supervised(&mut command, stream, schema, &args.log_schema) {
            Ok(code) => code,
            Err((e, code)) => {
                log_line(
                    "error",
                    &format!("cannot start `{}`: {e}", resolved.display()),
                    serde_json::json!({"command": program}),
                );
                code
            }
        };
    }
    // Only returns on failure.
    let err = command.exec();
    log_line(
        "error",
        &format!("cannot start `{}`: {err}", resolved.display()),
        serde_json::json!({"command": program}),
    );
    126
}

/// Writes the violations of a log stream as `redline logs` does: the first
/// `--max-reports` one by one, then one a second with the count of those
/// left out (a long-running pod keeps showing its violations without
/// flooding its log), and the summary at the end.
pub(crate) struct Reporter {
    out: Box<dyn Write + Send>,
    limit: RateLimit,
    max_reports: u64,
    format: TextOrJson,
    /// The first failed write; nothing more is written after it.
    pub error: Option<io::Error>,
}

impl Reporter {
    pub(crate) fn new(out: Box<dyn Write + Send>, args: &LogSchemaArgs) -> Reporter {
        Reporter {
            out,
            limit: RateLimit::new(args.max_reports, std::time::Duration::from_secs(1)),
            max_reports: args.max_reports,
            format: args.format,
            error: None,
        }
    }

    fn write(&mut self, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> bool {
        if self.error.is_some() {
            return false;
        }
        match f(&mut self.out) {
            Ok(()) => true,
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }

    /// A line of its own (an input that cannot be read); `false` when the
    /// report cannot be written.
    pub(crate) fn note(&mut self, text: &str) -> bool {
        self.write(|w| writeln!(w, "{text}"))
    }

    /// One violation; `false` when the report cannot be written.
    pub(crate) fn finding(&mut self, input: &str, line: u64, f: &logs::Finding) -> bool {
        if !self.limit.allow(std::time::Instant::now()) {
            return true;
        }
        let left_out = self.limit.take_suppressed();
        let (format, max_reports) = (self.format, self.max_reports);
        self.write(|w| match format {
            TextOrJson::Text => {
                if left_out > 0 {
                    writeln!(
                        w,
                        "… {left_out} violation{} not shown (--max-reports {max_reports}, \
                         then one a second)",
                        if left_out == 1 { "" } else { "s" }
                    )?;
                }
                writeln!(w, "{input}:{line}: {}: {}", f.violation.label(), f.message)
            }
            TextOrJson::Json => {
                if left_out > 0 {
                    writeln!(w, "{}", serde_json::json!({"not_shown": left_out}))?;
                }
                writeln!(
                    w,
                    "{}",
                    serde_json::json!({"input": input, "line": line, "kind": f.violation.label(), "message": f.message})
                )
            }
        })
    }

    /// The summary, then a flush.
    pub(crate) fn finish(&mut self, summary: &LogSummary) {
        let not_shown = self.limit.suppressed_total;
        let (format, max_reports) = (self.format, self.max_reports);
        self.write(|w| {
            match format {
                TextOrJson::Text => {
                    if not_shown > 0 {
                        writeln!(
                            w,
                            "… {not_shown} violations not shown in all (--max-reports {max_reports}, \
                             then one a second)"
                        )?;
                    }
                    w.write_all(summary.render().as_bytes())?;
                }
                TextOrJson::Json => {
                    let mut json = summary.to_json();
                    json["not_shown"] = not_shown.into();
                    writeln!(w, "{json}")?;
                }
            }
            w.flush()
        });
    }
}

/// `redline logs`: validates JSON-lines logs.
pub fn run_logs(args: &LogsArgs, config: Option<&Path>) -> u8 {
    let schema = match crate::config::load(config).and_then(|doc| args.schema.schema(doc.as_ref()))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("redline logs: {e}");
            return 2;
        }
    };
    let inputs: Vec<String> = if args.files.is_empty() {
        vec!["-".into()]
    } else {
        args.files.clone()
    };
    let mut summary = LogSummary::default();
    let mut io_error = false;
    // Reports go to stderr with --tee (stdout carries the log), else stdout.
    let mut report = Reporter::new(
        if args.tee {
            // Unbuffered: a report must show up while the service runs.
            Box::new(io::stderr())
        } else {
            Box::new(io::BufWriter::new(io::stdout()))
        },
        &args.schema,
    );
    // Where writing the tee target (stdout with --tee) failed.
    let mut tee_error: Option<io::Error> = None;
    let stdout = io::stdout();
    let mut tee_out = stdout.lock();
    for input in &inputs {
        let (name, reader): (&str, Box<dyn BufRead>) = if input == "-" {
            (
                "<stdin>",
                Box::new(io::BufReader::with_capacity(1 << 18, io::stdin())),
            )
        } else {
            match std::fs::File::open(input) {
                Ok(f) => (
                    input.as_str(),
                    Box::new(io::BufReader::with_capacity(1 << 18, f)),
                ),
                Err(e) => {
                    if !report.note(&format!("redline logs: {input}: cannot open: {e}")) {
                        break;
                    }
                    io_error = true;
                    continue;
                }
            }
        };
        let tee: Option<&mut dyn Write> = if args.tee { Some(&mut tee_out) } else { None };
        let mut on_finding =
            |input: &str, line: u64, f: &logs::Finding| -> bool { report.finding(input, line, f) };
        match logs::validate_stream(reader, name, 0, &schema, tee, &mut summary, &mut on_finding) {
            Ok(()) => {}
            Err(StreamError::Tee(e)) => {
                tee_error = Some(e);
                break;
            }
            Err(StreamError::Stopped) => break,
            Err(StreamError::Read(e)) => {
                if !report.note(&format!("redline logs: {name}: read error: {e}")) {
                    break;
                }
                io_error = true;
            }
        }
    }
    if let Some(e) = &tee_error {
        // The log no longer reaches the next stage: say so, and fail.
        report.note(&format!(
            "redline logs: --tee: cannot write the log to standard output ({}); stopped",
            tee_why(e)
        ));
    }
    report.finish(&summary);
    let _ = tee_out.flush();
    let code = if io_error || tee_error.is_some() {
        2
    } else {
        u8::from(summary.violations() > 0)
    };
    match report.error {
        Some(e) => output::exit_code("logs", Err(e), code),
        None => code,
    }
}

/// Why writing the log on failed, in words.
pub(crate) fn tee_why(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::BrokenPipe {
        "the next stage of the pipe exited".to_string()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_shape() {
        let t = rfc3339_now();
        assert_eq!(t.len(), "2026-11-27T14:16:24.000Z".len(), "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }

    #[test]
    fn program_resolution() {
        assert!(matches!(resolve_program("sh"), Resolved::Found(_)));
        assert!(matches!(resolve_program("/bin/sh"), Resolved::Found(_)));
        assert_eq!(
            resolve_program("definitely-not-a-program-redline"),
            Resolved::NotFound
        );
        assert_eq!(
            resolve_program("/etc/hostname-not-there"),
            Resolved::NotFound
        );
        assert!(matches!(
            resolve_program("/etc"),
            Resolved::NotExecutable(_)
        ));
    }

    #[test]
    fn float_trim() {
        assert_eq!(trim_float(1.5), "1.5");
        assert_eq!(trim_float(2.0), "2");
        assert_eq!(trim_float(0.25), "0.25");
    }
}
