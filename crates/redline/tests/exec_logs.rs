//! `redline exec --logs`: one redline process runs the service and
//! validates its log stream (the container story without a shell pipe).
//! The service is a small sh program: it logs, traps SIGTERM, exits with a
//! code of its own.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-xl-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `redline` with a clean environment, a fake cgroup v2 tree allowing 2.5
/// CPUs, in `dir` (no redline.toml is discovered).
fn redline(dir: &Path) -> Command {
    let root = dir.join("cgroup-root");
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("proc/self/cgroup", "0::/pod/ctr\n");
    write(
        "proc/self/mountinfo",
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
    );
    write("sys/fs/cgroup/pod/ctr/cpu.max", "250000 100000\n");
    let mut c = Command::new(env!("CARGO_BIN_EXE_redline"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("REDLINE_CGROUP_ROOT", &root)
        // The default environment spec's required variables.
        .env("DATABASE_URL", "postgres://orders@db:5432/orders")
        .env("JWT_SECRET", "Abcdefghijklmnopqrstuvwxyz0123456789")
        .env("SERVICE_NAME", "orders")
        .current_dir(dir);
    c
}

/// A service script in `dir`.
fn service(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("service");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

const GOOD: &str =
    r#"{"level":"info","ts":1.5,"request_id":"r1","service_name":"orders","msg":"ok"}"#;

/// `redline exec --logs --preset zap -- svc`, running, both streams piped.
fn spawn_zap(dir: &Path, svc: &Path) -> Child {
    redline(dir)
        .args(["exec", "--logs", "--preset", "zap", "--"])
        .arg(svc)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads the first line of `child`'s stdout and checks it is [`GOOD`]
/// (the service runs); the reader is handed back.
fn first_line_is_good(child: &mut Child) -> BufReader<ChildStdout> {
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), GOOD);
    stdout
}

/// Waits up to `limit` for `child` to exit; `what` says what it failed to
/// do otherwise.
fn exits_within(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// All of `child`'s standard error.
fn stderr_of(child: &mut Child) -> String {
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

#[test]
fn the_log_passes_through_violations_are_reported_and_the_exit_code_is_the_services() {
    let dir = scratch("basic");
    let svc = service(
        &dir,
        &format!(
            "echo '{GOOD}'\necho 'starting server on :8080'\necho \"GOMAXPROCS=$GOMAXPROCS\" >&2\n\
             echo '{{\"level\":\"info\",\"ts\":3,\"service_name\":\"orders\"}}'\nexit 3"
        ),
    );
    let out = redline(&dir)
        .args(["exec", "--logs", "--preset", "zap", "--"])
        .arg(&svc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    // The log on stdout, byte for byte (GOMAXPROCS=2 went to stderr).
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "{GOOD}\nstarting server on :8080\n{{\"level\":\"info\",\"ts\":3,\"service_name\":\"orders\"}}\n"
        )
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("GOMAXPROCS=2\n"),
        "GOMAXPROCS was not set: {err}"
    );
    assert!(err.contains("<service stdout>:2: invalid-json"), "{err}");
    assert!(
        err.contains("<service stdout>:3: missing-request_id"),
        "{err}"
    );
    assert!(
        err.contains("3 lines (0 blank), 2 with violations"),
        "{err}"
    );
}

#[test]
fn stderr_can_be_the_validated_stream_and_stdout_is_left_alone() {
    let dir = scratch("stderr");
    let svc = service(
        &dir,
        &format!("echo 'plain stdout'\necho '{GOOD}' >&2\necho 'not json' >&2"),
    );
    let out = redline(&dir)
        .args([
            "exec",
            "--logs=stderr",
            "--preset",
            "zap",
            "--format",
            "json",
            "--",
        ])
        .arg(&svc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "plain stdout\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{GOOD}\nnot json\n")), "{err}");
    let report = err
        .lines()
        .find(|l| l.contains("\"kind\""))
        .unwrap_or_else(|| panic!("no JSON report: {err}"));
    let v: serde_json::Value = serde_json::from_str(report).unwrap();
    assert_eq!(v["kind"], "invalid-json");
    assert_eq!(v["input"], "<service stderr>");
    assert_eq!(v["line"], 2);
}

#[test]
fn sigterm_is_forwarded_and_the_services_exit_code_comes_back() {
    let dir = scratch("signal");
    let svc = service(
        &dir,
        &format!(
            "trap 'echo got TERM >&2; exit 42' TERM\necho '{GOOD}'\n\
             while :; do sleep 0.05; done"
        ),
    );
    let mut child = spawn_zap(&dir, &svc);
    let _stdout = first_line_is_good(&mut child);
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = exits_within(
        &mut child,
        Duration::from_secs(10),
        "the service stopped on SIGTERM",
    );
    let err = stderr_of(&mut child);
    assert!(err.contains("got TERM"), "{err}");
    assert_eq!(status.code(), Some(42), "{err}");
}

#[test]
fn a_service_killed_by_a_signal_exits_128_plus_the_signal() {
    let dir = scratch("killed");
    let svc = service(&dir, &format!("echo '{GOOD}'\nkill -KILL $$"));
    let out = redline(&dir)
        .args(["exec", "--logs", "--"])
        .arg(&svc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128 + 9), "{out:?}");
}

#[test]
fn reports_are_rate_limited_as_logs_tee_limits_them() {
    let dir = scratch("flood");
    let svc = service(
        &dir,
        "i=0\nwhile [ $i -lt 50 ]; do echo \"bad $i\"; i=$((i+1)); done",
    );
    let out = redline(&dir)
        .args(["exec", "--logs", "--max-reports", "3", "--"])
        .arg(&svc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 50);
    let err = String::from_utf8_lossy(&out.stderr);
    let shown = err.lines().filter(|l| l.contains(": invalid-json")).count();
    assert!(
        (3..10).contains(&shown),
        "{shown} reports shown one by one: {err}"
    );
    assert!(err.contains("violations not shown in all"), "{err}");
    assert!(
        err.contains("50 lines (0 blank), 50 with violations"),
        "{err}"
    );
}

#[test]
fn log_options_without_logs_and_a_bad_schema_do_not_start_the_service() {
    let dir = scratch("usage");
    let marker = dir.join("started");
    let svc = service(&dir, &format!("touch '{}'", marker.display()));
    let out = redline(&dir)
        .args(["exec", "--preset", "zap", "--"])
        .arg(&svc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("only with --logs"));
    let out = redline(&dir)
        .args(["exec", "--logs", "--max-line-bytes", "0", "--"])
        .arg(&svc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-line-bytes"));
    assert!(!marker.exists(), "the service was started");
}

#[test]
fn a_background_process_holding_the_log_open_does_not_keep_redline_running() {
    let dir = scratch("held");
    // The service starts a process that inherits its stdout and outlives
    // it by far, then exits 4.
    let svc = service(
        &dir,
        &format!("echo '{GOOD}'\nsleep 30 2>/dev/null &\necho $! > held.pid\nexit 4"),
    );
    let mut child = spawn_zap(&dir, &svc);
    // Redline itself exits, although the sleep still holds the stdout pipe.
    let status = exits_within(
        &mut child,
        Duration::from_secs(15),
        "redline exited after the service",
    );
    assert_eq!(status.code(), Some(4));
    let err = stderr_of(&mut child);
    assert!(
        err.contains("the service exited with 4, but its standard output is still open"),
        "{err}"
    );
    if let Ok(pid) = std::fs::read_to_string(dir.join("held.pid")) {
        let _ = Command::new("kill").arg(pid.trim()).status();
    }
}

/// `unshare --pid --fork --mount-proc`, when this machine allows it (root,
/// or user namespaces): redline runs as PID 1 of a new PID namespace.
fn as_pid_1(dir: &Path) -> Option<Command> {
    let probe = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("REDLINE_REQUIRE_TOOLS").is_none(),
            "unshare --pid --fork --mount-proc does not work here"
        );
        eprintln!("skipped: unshare --pid --fork --mount-proc does not work here");
        return None;
    }
    let inner = redline(dir);
    let mut c = Command::new("unshare");
    c.args(["--pid", "--fork", "--mount-proc"])
        .arg(inner.get_program())
        .envs(inner.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .current_dir(dir);
    Some(c)
}

#[test]
fn as_pid_1_the_orphans_the_service_leaves_are_reaped() {
    let dir = scratch("pid1");
    // A subshell starts `sleep 0.2` and exits: the sleep is orphaned and
    // reparented to PID 1 (redline). Once it has exited, it is either gone
    // (reaped) or a zombie; the service says which, and exits 0 only when
    // it was reaped.
    let svc = service(
        &dir,
        &format!(
            "echo '{GOOD}'\n( sleep 0.2 & echo $! > orphan.pid )\nsleep 1\n\
             pid=$(cat orphan.pid)\n\
             if [ -e /proc/$pid ]; then state=$(cut -d' ' -f3 /proc/$pid/stat); echo \"orphan $pid state $state\" >&2; exit 9; fi\n\
             echo 'orphan reaped' >&2\nexit 0"
        ),
    );
    let Some(mut c) = as_pid_1(&dir) else {
        return;
    };
    let out = c
        .args(["exec", "--logs", "--preset", "zap", "--"])
        .arg(&svc)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("orphan reaped"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{GOOD}\n"));
}

#[test]
fn after_the_log_reader_goes_away_validation_goes_on_with_the_right_line_numbers() {
    let dir = scratch("reader-gone");
    // Three good lines, then (once the reader of redline's stdout has
    // gone) two that are not JSON: lines 4 and 5.
    let svc = service(
        &dir,
        &format!(
            "echo '{GOOD}'\necho '{GOOD}'\necho '{GOOD}'\n\
             i=0; while [ ! -e gone ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done\n\
             echo 'not json'\necho 'still not json'\nexit 0"
        ),
    );
    let mut child = spawn_zap(&dir, &svc);
    drop(first_line_is_good(&mut child));
    // Only now may the service go on (it waits for this file).
    std::fs::write(dir.join("gone"), "").unwrap();
    let err = stderr_of(&mut child);
    assert_eq!(child.wait().unwrap().code(), Some(0), "{err}");
    assert!(err.contains("cannot pass the service's log on"), "{err}");
    assert!(err.contains("<service stdout>:4: invalid-json"), "{err}");
    assert!(err.contains("<service stdout>:5: invalid-json"), "{err}");
}
