//! `redline exec --logs`: redline stays the service's parent instead of
//! becoming it, so that one process (a container's only one, in an image
//! without a shell) both runs the service and validates its log stream as
//! `redline logs --tee` does.
//!
//! - The chosen stream (stdout or stderr) is read through a pipe and every
//!   line is written on unchanged to redline's own stream of that name; the
//!   other stream and standard input are the service's own.
//! - Violations go to standard error, rate-limited as `redline logs --tee`
//!   limits them (the first `--max-reports` one by one, then one a
//!   second), with the summary when the stream ends.
//! - SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH sent
//!   to redline are forwarded to the service (redline blocks them and a
//!   thread waits for them with `sigwait`; the service starts with an empty
//!   signal mask).
//! - redline exits with the service's exit code, or 128 + the signal
//!   number when a signal ended it (as a shell reports it).
//! - As a container's PID 1, redline is the parent of every process the
//!   service orphans: a waiter thread reaps them all (`waitpid(-1)`), so no
//!   zombie piles up, and takes the service's own status from them.
//! - When the service has exited but its log stream stays open (a process
//!   it started in the background holds the pipe), redline waits
//!   [`DRAIN_GRACE`] for the rest, then says so and exits with the
//!   service's code instead of running as long as that process does.

use crate::cli::{LogSchemaArgs, Reporter, tee_why};
use crate::logs::{self, LogSchema, LogSummary, StreamError};
use std::io::{self, BufReader, Read, Write};
use std::process::{Command, Stdio};

/// How long the log stream may stay open after the service exited.
pub const DRAIN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Which of the service's streams `--logs` validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogStream {
    Stdout,
    Stderr,
}

const FORWARDED: [libc::c_int; 7] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

fn forwarded_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set before sigaddset reads it;
    // both only write the local value.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in FORWARDED {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Runs the service with `stream` piped through the log validator; returns
/// the exit code redline should exit with. `Err` is a message and the code
/// for a service that could not be started.
pub(crate) fn run_supervised(
    command: &mut Command,
    stream: LogStream,
    schema: &LogSchema,
    report_args: &LogSchemaArgs,
) -> Result<u8, (String, u8)> {
    let set = forwarded_set();
    // Block the forwarded signals in this (the only) thread before any
    // other thread exists, so that every thread inherits the mask and only
    // the forwarding thread receives them. The child starts with an empty
    // mask (the standard library resets it between fork and exec).
    // SAFETY: `set` is an initialised signal set; no old mask is asked for.
    let blocked = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if blocked != 0 {
        return Err((
            format!(
                "cannot block signals to forward them: {}",
                io::Error::from_raw_os_error(blocked)
            ),
            126,
        ));
    }
    match stream {
        LogStream::Stdout => command.stdout(Stdio::piped()),
        LogStream::Stderr => command.stderr(Stdio::piped()),
    };
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.kind() == io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return Err((e.to_string(), code));
        }
    };
    let pid = child.id() as libc::pid_t;
    // Standard output/error are taken before the child handle is left
    // alone: the waiter below reaps the service (and, as PID 1, every
    // orphan), so `Child::wait` is never called.
    let pipe: Box<dyn Read + Send> = match stream {
        LogStream::Stdout => match child.stdout.take() {
            Some(p) => Box::new(p),
            None => Box::new(io::empty()),
        },
        LogStream::Stderr => match child.stderr.take() {
            Some(p) => Box::new(p),
            None => Box::new(io::empty()),
        },
    };
    drop(child);
    std::thread::spawn(move || {
        loop {
            let mut sig: libc::c_int = 0;
            // SAFETY: `set` is initialised and `sig` a valid out-pointer.
            if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
                continue;
            }
            // SAFETY: kill has no memory effects; a service that has
            // already exited (and not been reaped) ignores the signal.
            unsafe { libc::kill(pid, sig) };
        }
    });
    let (exited_tx, exited) = std::sync::mpsc::channel::<libc::c_int>();
    std::thread::spawn(move || reap(pid, exited_tx));
    let name = match stream {
        LogStream::Stdout => "<service stdout>",
        LogStream::Stderr => "<service stderr>",
    };
    let mut report = Reporter::new(Box::new(io::stderr()), report_args);
    let schema = schema.clone();
    let (drained_tx, drained) = std::sync::mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        let summary = validate(pipe, name, &schema, stream, &mut report);
        let _ = drained_tx.send(());
        (report, summary)
    });
    let status = match exited.recv() {
        Ok(status) => status,
        Err(_) => return Err(("waiting for the service: the waiter stopped".into(), 126)),
    };
    let code = exit_code(status);
    match drained.recv_timeout(DRAIN_GRACE) {
        Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            if let Ok((mut report, summary)) = reader.join() {
                report.finish(&summary);
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            let mut err = io::stderr();
            let _ = writeln!(
                err,
                "redline exec --logs: the service exited with {code}, but its {} is still open (a process it started holds it); not validating the rest",
                match stream {
                    LogStream::Stdout => "standard output",
                    LogStream::Stderr => "standard error",
                }
            );
        }
    }
    Ok(code)
}

/// Reaps every child until none is left: the service (its raw wait status
/// goes to `exited`) and, when redline is PID 1, the orphans reparented to
/// it.
fn reap(service: libc::pid_t, exited: std::sync::mpsc::Sender<libc::c_int>) {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(-1, &mut status, 0) };
        if r == service {
            let _ = exited.send(status);
        } else if r < 0 {
            match io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => {}
                // No child now; an orphan may still be reparented later.
                _ => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
    }
}

/// The exit code of a raw wait status: the service's code, or 128 + the
/// signal that ended it.
fn exit_code(status: libc::c_int) -> u8 {
    if libc::WIFEXITED(status) {
        (libc::WEXITSTATUS(status) & 0xff) as u8
    } else if libc::WIFSIGNALED(status) {
        (128 + libc::WTERMSIG(status)).clamp(0, 255) as u8
    } else {
        1
    }
}

/// Validates (and passes on) the service's log stream until it ends.
fn validate(
    pipe: Box<dyn Read + Send>,
    name: &str,
    schema: &LogSchema,
    stream: LogStream,
    report: &mut Reporter,
) -> LogSummary {
    let mut reader = BufReader::with_capacity(1 << 18, pipe);
    let mut summary = LogSummary::default();
    let mut tee: Option<Box<dyn Write>> = Some(match stream {
        LogStream::Stdout => Box::new(io::stdout()),
        LogStream::Stderr => Box::new(io::stderr()),
    });
    loop {
        let target: Option<&mut dyn Write> = match tee.as_mut() {
            Some(t) => Some(t.as_mut()),
            None => None,
        };
        let mut on_finding =
            |input: &str, line: u64, f: &logs::Finding| -> bool { report.finding(input, line, f) };
        // One input: the lines validated so far are the summary's.
        let lines_before = summary.lines;
        match logs::validate_stream(
            &mut reader,
            name,
            lines_before,
            schema,
            target,
            &mut summary,
            &mut on_finding,
        ) {
            Ok(()) => break,
            Err(StreamError::Tee(e)) => {
                // The service must not block on a full pipe: keep reading
                // (and validating) what it writes, without passing it on.
                report.note(&format!(
                    "redline exec --logs: cannot pass the service's log on ({}); still validating it",
                    tee_why(&e)
                ));
                tee = None;
            }
            Err(StreamError::Stopped) | Err(StreamError::Read(_)) => {
                // Reports cannot be written, or the pipe failed: pass the
                // rest on unvalidated until the service closes it.
                let mut sink: Box<dyn Write> = tee.take().unwrap_or_else(|| Box::new(io::sink()));
                let _ = io::copy(&mut reader, &mut sink);
                break;
            }
        }
    }
    if let Some(t) = tee.as_mut() {
        let _ = t.flush();
    }
    summary
}

/// The schema `--logs` validates with; an error names the option.
pub(crate) fn schema_for(
    args: &LogSchemaArgs,
    config: Option<&redline_config::Document>,
) -> Result<LogSchema, String> {
    args.schema(config)
}
