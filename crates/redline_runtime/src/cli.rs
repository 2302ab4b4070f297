//! Command-line entry points for `redline env`, `redline exec` and
//! `redline logs`. Each returns the process exit code (`run_exec` only
//! returns when the service could not be started).

use crate::buildinfo;
use crate::cgroup::{self, CpuQuota, Rounding};
use crate::logs::{self, LogsConfig, Preset, Summary};
use crate::spec::{EnvSpec, Problem, ProblemKind, is_positive_integer};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

/// Exit code of `redline exec` when the environment or configuration is
/// wrong (sysexits.h `EX_CONFIG`): the service was not started.
pub const EXIT_CONFIG: u8 = 78;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct EnvArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
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
    /// The service to start, and its arguments.
    #[arg(trailing_var_arg = true, required = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Log files to check; `-` or nothing reads standard input.
    pub files: Vec<String>,
    /// Field names and levels of a logger's defaults.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Copy every input line unchanged to standard output and report to
    /// standard error, so redline can sit in a pipe behind a service.
    #[arg(long)]
    pub tee: bool,
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
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_reports: u64,
    /// Format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `redline env`: checks this process's environment against the spec.
pub fn run_env(args: &EnvArgs, config: Option<&Path>) -> u8 {
    let spec = match EnvSpec::from_config(config) {
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
    match args.format {
        Format::Json => {
            let out = serde_json::json!({
                "ok": problems.is_empty(),
                "checked": checked,
                "problems": problems.iter().map(problem_json).collect::<Vec<_>>(),
            });
            println!("{out}");
        }
        Format::Text => {
            for p in &problems {
                println!("{}: {}", p.kind.as_str(), p.message);
            }
            if problems.is_empty() {
                println!(
                    "redline env: ok ({} variables checked: {})",
                    checked.len(),
                    checked.join(", ")
                );
            } else {
                println!(
                    "redline env: {} problem{} in {} variable{}",
                    problems.len(),
                    plural(problems.len()),
                    count_vars(&problems),
                    plural(count_vars(&problems))
                );
            }
        }
    }
    u8::from(!problems.is_empty())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn count_vars(problems: &[Problem]) -> usize {
    let names: std::collections::BTreeSet<&str> = problems.iter().map(|p| p.var.as_str()).collect();
    names.len()
}

fn problem_json(p: &Problem) -> serde_json::Value {
    serde_json::json!({"var": p.var, "problem": p.kind.as_str(), "message": p.message})
}

/// An explicit, valid GOMAXPROCS larger than the quota allows (rounded up).
fn gomaxprocs_over_quota(spec: &EnvSpec, quota: &Result<CpuQuota, String>) -> Option<Problem> {
    let value = std::env::var("GOMAXPROCS").ok()?;
    if !is_positive_integer(&value) || spec.get("GOMAXPROCS").is_none() {
        return None;
    }
    let Ok(CpuQuota::Limited(limit)) = quota else {
        return None;
    };
    let n: u64 = value.parse().unwrap_or(u64::MAX);
    let max = limit.max_gomaxprocs();
    (n > max).then(|| Problem {
        var: "GOMAXPROCS".into(),
        kind: ProblemKind::ExceedsCpuLimit,
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

/// Finds `program` as execvp would: as given when it has a `/`, else in
/// `$PATH`.
fn resolve_program(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                PathBuf::from(".").join(program)
            } else {
                dir.join(program)
            }
        })
        .find(|p| executable(p))
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

/// `redline exec`: check the environment, settle GOMAXPROCS, then become
/// the service. Returns only when the service was not started.
pub fn run_exec(args: &ExecArgs, config: Option<&Path>) -> u8 {
    let Some(program) = args.command.first() else {
        eprintln!("redline exec: no command given: redline exec [--] CMD [ARGS...]");
        return 2;
    };
    let spec = match EnvSpec::from_config(config) {
        Ok(s) => s,
        Err(e) => {
            log_line(
                "error",
                &format!("configuration error, service not started: {e}"),
                serde_json::json!({}),
            );
            return EXIT_CONFIG;
        }
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
    let Some(resolved) = resolve_program(program) else {
        log_line(
            "error",
            &format!("cannot start `{program}`: not found or not executable (PATH searched)"),
            serde_json::json!({"command": program}),
        );
        return 127;
    };
    let root = cgroup::root_or_default(args.cgroup_root.as_deref());
    let decision = match decide_gomaxprocs(&resolved, args.round, &root) {
        Ok(d) => d,
        Err(e) => {
            log_line(
                "error",
                &format!("environment check failed, service not started: {e}"),
                serde_json::json!({"problems": [{"var": "GOMAXPROCS", "problem": ProblemKind::ExceedsCpuLimit.as_str(), "message": e}]}),
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
    // Only returns on failure.
    let err = command.exec();
    log_line(
        "error",
        &format!("cannot start `{}`: {err}", resolved.display()),
        serde_json::json!({"command": program}),
    );
    126
}

/// `redline logs`: validates JSON-lines logs.
pub fn run_logs(args: &LogsArgs, config: Option<&Path>) -> u8 {
    let schema = match LogsConfig::load(config).and_then(|c| {
        let mut s = c.schema(args.preset)?;
        if !args.require.is_empty() {
            s.required = args.require.clone();
        }
        if !args.timestamp_fields.is_empty() {
            s.timestamp_fields = args.timestamp_fields.clone();
        }
        if let Some(l) = &args.level_field {
            s.level_field = l.clone();
        }
        if !args.stack_fields.is_empty() {
            s.stack_fields = args.stack_fields.clone();
        }
        if let Some(m) = args.max_line_bytes {
            if m == 0 {
                return Err("--max-line-bytes must be positive".to_string());
            }
            s.max_line_bytes = m;
        }
        Ok(s)
    }) {
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
    let mut summary = Summary::default();
    let mut io_error = false;
    let mut shown: u64 = 0;
    // Reports go to stderr with --tee (stdout carries the log), else stdout.
    let mut report: Box<dyn Write> = if args.tee {
        // Unbuffered: a report must show up while the service runs.
        Box::new(io::stderr())
    } else {
        Box::new(io::BufWriter::new(io::stdout()))
    };
    let stdout = io::stdout();
    let mut tee_out = stdout.lock();
    let max_reports = args.max_reports;
    let format = args.format;
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
                    let _ = writeln!(report, "redline logs: {input}: cannot open: {e}");
                    io_error = true;
                    continue;
                }
            }
        };
        let mut on_finding = |input: &str, line: u64, f: &logs::Finding| {
            shown += 1;
            if shown <= max_reports {
                let _ = match format {
                    Format::Text => {
                        writeln!(
                            report,
                            "{input}:{line}: {}: {}",
                            f.violation.label(),
                            f.message
                        )
                    }
                    Format::Json => writeln!(
                        report,
                        "{}",
                        serde_json::json!({"input": input, "line": line, "kind": f.violation.label(), "message": f.message})
                    ),
                };
            }
        };
        let tee: Option<&mut dyn Write> = if args.tee { Some(&mut tee_out) } else { None };
        if let Err(e) =
            logs::validate_stream(reader, name, &schema, tee, &mut summary, &mut on_finding)
        {
            if e.kind() == io::ErrorKind::BrokenPipe {
                // The reader of --tee went away; stop like any pipe filter.
                break;
            }
            let _ = writeln!(report, "redline logs: {name}: read error: {e}");
            io_error = true;
        }
    }
    let not_shown = shown.saturating_sub(max_reports);
    match format {
        Format::Text => {
            if not_shown > 0 {
                let _ = writeln!(
                    report,
                    "… {not_shown} more violations not shown (--max-reports {max_reports})"
                );
            }
            let _ = report.write_all(summary.render().as_bytes());
        }
        Format::Json => {
            let mut json = summary.to_json();
            json["not_shown"] = not_shown.into();
            let _ = writeln!(report, "{json}");
        }
    }
    let _ = report.flush();
    let _ = tee_out.flush();
    if io_error {
        2
    } else {
        u8::from(summary.violations() > 0)
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
        assert!(resolve_program("sh").is_some());
        assert!(resolve_program("/bin/sh").is_some());
        assert!(resolve_program("definitely-not-a-program-redline").is_none());
        assert!(resolve_program("/etc/hostname-not-there").is_none());
    }

    #[test]
    fn float_trim() {
        assert_eq!(trim_float(1.5), "1.5");
        assert_eq!(trim_float(2.0), "2");
        assert_eq!(trim_float(0.25), "0.25");
    }
}
