//! End-to-end tests of `redline env`, `redline exec` and `redline logs`
//! through the real binary: real child processes, a fake cgroup tree,
//! this machine's real cgroup, pipes and signals.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GOOD_JWT: &str = "Abcdefghijklmnopqrstuvwxyz0123456789";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-rt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `redline` with a clean environment (PATH only), run in `cwd` so no
/// redline.toml of the repository is discovered.
fn redline(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redline"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(cwd);
    c
}

fn good_env(c: &mut Command) -> &mut Command {
    c.env("DATABASE_URL", "postgres://orders@db:5432/orders")
        .env("JWT_SECRET", GOOD_JWT)
        .env("SERVICE_NAME", "orders")
}

/// A cgroup v2 tree allowing `quota`/100000 CPUs.
fn fake_v2(dir: &Path, quota: &str) -> PathBuf {
    let root = dir.join("cgroup-root");
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("proc/self/cgroup", "0::/kubepods.slice/pod-1/ctr\n");
    write(
        "proc/self/mountinfo",
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
    );
    write(
        "sys/fs/cgroup/kubepods.slice/pod-1/ctr/cpu.max",
        &format!("{quota} 100000\n"),
    );
    root
}

fn json_lines(stderr: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn exec_child_sees_gomaxprocs_from_a_fake_cgroup() {
    let dir = scratch("fake");
    let root = fake_v2(&dir, "150000");
    for (round, want) in [("down", "1"), ("up", "2")] {
        let out = good_env(&mut redline(&dir))
            .env("REDLINE_CGROUP_ROOT", &root)
            .args([
                "exec",
                "--round",
                round,
                "--",
                "sh",
                "-c",
                "echo $GOMAXPROCS",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{want}\n"));
        let lines = json_lines(&out.stderr);
        assert_eq!(lines.len(), 1, "one structured line: {lines:?}");
        assert_eq!(lines[0]["GOMAXPROCS"], want.parse::<u64>().unwrap());
        assert_eq!(lines[0]["rounding"], round);
        assert_eq!(lines[0]["cpu_quota"], 1.5);
        assert_eq!(lines[0]["level"], "info");
        assert_eq!(lines[0]["service_name"], "orders");
    }
    // Half a CPU: automaxprocs says 1, Go 1.25's rule at least 2.
    let half = fake_v2(&scratch("fake-half"), "50000");
    for (round, want) in [("down", "1\n"), ("up", "2\n")] {
        let out = good_env(&mut redline(&dir))
            .env("REDLINE_CGROUP_ROOT", &half)
            .args([
                "exec",
                "--round",
                round,
                "--",
                "sh",
                "-c",
                "echo $GOMAXPROCS",
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{round}");
    }
    // The hidden flag works like the variable.
    let out = good_env(&mut redline(&dir))
        .args(["exec", "--cgroup-root"])
        .arg(&root)
        .args(["--", "sh", "-c", "echo $GOMAXPROCS"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");
}

#[test]
fn exec_with_a_bad_environment_never_starts_the_service() {
    let dir = scratch("badenv");
    let marker = dir.join("started");
    let out = redline(&dir)
        .env("JWT_SECRET", "hunter2")
        .env("SERVICE_NAME", "My_Service")
        .args(["exec", "--", "sh", "-c"])
        .arg(format!("touch {}", marker.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    assert!(!marker.exists(), "the service was started");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for var in ["DATABASE_URL", "JWT_SECRET", "SERVICE_NAME"] {
        assert!(stderr.contains(var), "{var} not named: {stderr}");
    }
    assert!(!stderr.contains("hunter2"), "secret printed: {stderr}");
    let lines = json_lines(&out.stderr);
    assert_eq!(lines[0]["level"], "error");
    assert!(lines[0]["problems"].as_array().unwrap().len() >= 3);
}

#[test]
fn exec_rejects_gomaxprocs_above_the_quota() {
    let dir = scratch("over");
    let root = fake_v2(&dir, "200000");
    let run = |value: &str| {
        good_env(&mut redline(&dir))
            .env("REDLINE_CGROUP_ROOT", &root)
            .env("GOMAXPROCS", value)
            .args(["exec", "--", "sh", "-c", "echo started $GOMAXPROCS"])
            .output()
            .unwrap()
    };
    let out = run("8");
    assert_eq!(out.status.code(), Some(78));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("GOMAXPROCS=8 is larger"));
    let out = run("2");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "started 2\n");
    let out = run("zero");
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a positive integer"));
}

#[test]
fn exec_passes_the_exit_code_through() {
    let dir = scratch("exit");
    let root = fake_v2(&dir, "max");
    let out = good_env(&mut redline(&dir))
        .env("REDLINE_CGROUP_ROOT", &root)
        .args(["exec", "--", "sh", "-c", "exit 42"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(42));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no CPU quota"));
    let out = good_env(&mut redline(&dir))
        .args(["exec", "--", "no-such-service-redline"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
}

#[test]
fn exec_replaces_itself_so_sigterm_reaches_the_service() {
    let dir = scratch("signal");
    let root = fake_v2(&dir, "100000");
    let mut child = good_env(&mut redline(&dir))
        .env("REDLINE_CGROUP_ROOT", &root)
        .args([
            "exec",
            "--",
            "sh",
            "-c",
            "trap 'echo got TERM; exit 143' TERM; echo $$; while :; do sleep 0.05; done",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    // exec, not fork: the service has redline's pid.
    assert_eq!(line.trim(), child.id().to_string());
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "service did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got TERM\n");
    assert_eq!(status.code(), Some(143));
}

#[test]
fn exec_on_this_machines_real_cgroup() {
    let dir = scratch("real");
    let out = good_env(&mut redline(&dir))
        .args(["exec", "--", "sh", "-c", "echo \"[$GOMAXPROCS]\""])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out.stderr);
    assert_eq!(lines.len(), 1);
    let msg = lines[0]["msg"].as_str().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    eprintln!("real cgroup: {msg} -> child saw {stdout}");
    match lines[0]["GOMAXPROCS"].as_u64() {
        Some(n) => assert_eq!(stdout, format!("[{n}]\n")),
        None => {
            assert_eq!(stdout, "[]\n");
            assert!(msg.contains("left unset"), "{msg}");
        }
    }
}

/// Builds a tiny Go program that prints its GOMAXPROCS variable.
fn build_go_program(dir: &Path) -> Option<PathBuf> {
    build_go_program_for(dir, "1.18")
}

/// The machine's Go toolchain version, `(1, 26)` for go1.26.8.
fn toolchain_version() -> Option<(u32, u32)> {
    let out = Command::new("go")
        .args(["env", "GOVERSION"])
        .output()
        .ok()?;
    let v = String::from_utf8_lossy(&out.stdout);
    let mut parts = v.trim().strip_prefix("go")?.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// A program printing its GOMAXPROCS, from a module whose `go` line says
/// `go_directive` (a module below 1.25 compiles `containermaxprocs=0` into
/// its DefaultGODEBUG with any toolchain).
fn build_go_program_for(dir: &Path, go_directive: &str) -> Option<PathBuf> {
    let go = Command::new("go").arg("version").output().ok()?;
    if !go.status.success() {
        return None;
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("go.mod"),
        format!("module example.com/printer\n\ngo {go_directive}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() { fmt.Printf(\"[%s]\\n\", os.Getenv(\"GOMAXPROCS\")) }\n",
    )
    .unwrap();
    let status = Command::new("go")
        .args(["build", "-o", "printer", "."])
        .current_dir(dir)
        .env("GOCACHE", dir.join("gocache"))
        .env("GOPATH", dir.join("gopath"))
        .env("GOFLAGS", "-mod=mod")
        .status()
        .ok()?;
    status.success().then(|| dir.join("printer"))
}

/// Rewrites the Go version in the build information blob to a go1.25
/// string of the same length (the runtime never reads it).
fn claim_go_1_25(binary: &Path, out: &Path) {
    let mut bytes = std::fs::read(binary).unwrap();
    let magic = b"\xff Go buildinf:";
    let at = bytes
        .windows(magic.len())
        .position(|w| w == magic)
        .expect("build info");
    let len = bytes[at + 32] as usize;
    let version = &mut bytes[at + 33..at + 33 + len];
    let fake = if len >= 8 {
        format!("go1.25.{}", "0".repeat(len - 7))
    } else {
        "go1.25".to_string()
    };
    assert_eq!(fake.len(), len);
    version.copy_from_slice(fake.as_bytes());
    std::fs::write(out, bytes).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn exec_leaves_gomaxprocs_unset_for_go_1_25_binaries() {
    let dir = scratch("go125");
    let Some(program) = build_go_program(&dir) else {
        eprintln!("go is not installed: build-info decisions covered by unit tests only");
        return;
    };
    let root = fake_v2(&dir, "250000");
    let run = |program: &Path, godebug: Option<&str>| {
        let mut c = redline(&dir);
        good_env(&mut c).env("REDLINE_CGROUP_ROOT", &root);
        if let Some(g) = godebug {
            c.env("GODEBUG", g);
        }
        c.arg("exec").arg("--").arg(program).output().unwrap()
    };
    // A module below go 1.25 (whatever the toolchain: an old toolchain, or
    // containermaxprocs=0 in a new one's DefaultGODEBUG): redline sets
    // GOMAXPROCS.
    let out = run(&program, None);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[2]\n");

    // A binary whose runtime reads the cgroup limit itself: a module at
    // go 1.25 built by a 1.25+ toolchain, or, with an older toolchain, the
    // old binary with its build info claiming go1.25.
    let patched = match toolchain_version() {
        Some(v) if v >= (1, 25) => {
            build_go_program_for(&dir.join("go125"), "1.25").expect("go builds")
        }
        _ => {
            let patched = dir.join("printer-1.25");
            claim_go_1_25(&program, &patched);
            patched
        }
    };
    let out = run(&patched, None);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[]\n");
    let lines = json_lines(&out.stderr);
    assert!(
        lines[0]["msg"].as_str().unwrap().contains("left unset"),
        "{lines:?}"
    );
    let version = lines[0]["go_version"].as_str().unwrap();
    assert!(
        version.starts_with("go1.2") && version >= "go1.25",
        "{version}"
    );

    // GODEBUG=containermaxprocs=0 switches the runtime's own reading off.
    let out = run(&patched, Some("containermaxprocs=0"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[2]\n");
}

#[test]
fn env_reports_every_problem_without_secrets() {
    let dir = scratch("env");
    let out = redline(&dir)
        .env("JWT_SECRET", "hunter2")
        .env("LOG_LEVEL", "loud")
        .args(["env", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("hunter2"));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["ok"], false);
    let vars: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["var"].as_str().unwrap())
        .collect();
    for var in ["DATABASE_URL", "JWT_SECRET", "LOG_LEVEL", "SERVICE_NAME"] {
        assert!(vars.contains(&var), "{var}: {vars:?}");
    }
    let out = good_env(&mut redline(&dir)).arg("env").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
}

#[test]
fn env_compares_gomaxprocs_with_the_cgroup_quota() {
    let dir = scratch("envquota");
    let root = fake_v2(&dir, "150000");
    let run = |value: &str| {
        good_env(&mut redline(&dir))
            .env("REDLINE_CGROUP_ROOT", &root)
            .env("GOMAXPROCS", value)
            .arg("env")
            .output()
            .unwrap()
    };
    let out = run("3");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("GOMAXPROCS=3 is larger than the cgroup CPU quota allows"),
        "{stdout}"
    );
    assert!(stdout.contains("exceeds-cpu-limit"), "{stdout}");
    // 1.5 CPUs rounded up allow 2.
    assert_eq!(run("2").status.code(), Some(0));
}

#[test]
fn env_reads_the_env_tables_of_redline_toml() {
    let dir = scratch("envcfg");
    std::fs::write(
        dir.join("redline.toml"),
        "[env]\nreplace-default = true\n\n[env.REGION]\nrequired = true\none-of = [\"eu-west-1\"]\n",
    )
    .unwrap();
    let out = redline(&dir).arg("env").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("REGION is required"), "{stdout}");
    assert!(!stdout.contains("DATABASE_URL"), "{stdout}");
    let out = redline(&dir)
        .env("REGION", "eu-west-1")
        .arg("env")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    std::fs::write(dir.join("redline.toml"), "[env.REGION]\nrequird = true\n").unwrap();
    let out = redline(&dir).arg("env").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("redline.toml:2"), "{stderr}");
}

#[test]
fn logs_through_a_pipe_with_tee() {
    let dir = scratch("logs");
    let input = concat!(
        "{\"level\":\"info\",\"ts\":1.5,\"request_id\":\"r1\",\"service_name\":\"orders\",\"msg\":\"ok\"}\n",
        "starting server on :8080\n",
        "{\"level\":\"error\",\"ts\":2,\"request_id\":\"r2\",\"service_name\":\"orders\",\"msg\":\"db down\"}\n",
        "{\"level\":\"info\",\"ts\":3,\"service_name\":\"orders\"}\n",
    );
    let mut child = redline(&dir)
        .args(["logs", "--tee", "--preset", "zap", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        for line in input.split_inclusive('\n') {
            stdin.write_all(line.as_bytes()).unwrap();
            stdin.flush().unwrap();
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        input,
        "tee changed the log"
    );
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(report.contains("<stdin>:2: invalid-json"), "{report}");
    assert!(
        report.contains("<stdin>:3: error-without-stack"),
        "{report}"
    );
    assert!(report.contains("<stdin>:4: missing-request_id"), "{report}");
    assert!(
        report.contains("4 lines (0 blank), 3 with violations"),
        "{report}"
    );

    // Clean input: exit 0, and without --tee the report goes to stdout.
    let clean = dir.join("clean.log");
    std::fs::write(
        &clean,
        "{\"level\":\"debug\",\"time\":\"t\",\"request_id\":\"r\",\"service_name\":\"s\"}\n",
    )
    .unwrap();
    let out = redline(&dir).arg("logs").arg(&clean).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 lines (0 blank), 0 with violations"));
    let out = redline(&dir)
        .args(["logs", "missing.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn logs_tee_passes_lines_on_while_the_service_runs() {
    let dir = scratch("live");
    let mut child = redline(&dir)
        .args(["logs", "--tee"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // stdin stays open: the line and its report must arrive anyway.
    stdin.write_all(b"service started\n").unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "service started\n");
    let mut report = String::new();
    stderr.read_line(&mut report).unwrap();
    assert!(report.starts_with("<stdin>:1: invalid-json"), "{report}");
    drop(stdin);
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(
        rest.contains("1 lines (0 blank), 1 with violations"),
        "{rest}"
    );
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

/// Peak memory stays bounded on a large input. Generates ~300 MB; run with
/// `cargo test -p redline --test runtime_cli -- --ignored` (bench/logs/
/// has the same check as a script).
#[test]
#[ignore]
fn logs_on_a_large_file_uses_bounded_memory() {
    let dir = scratch("big");
    let path = dir.join("big.log");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut written = 0usize;
        let mut i = 0u64;
        while written < 300 << 20 {
            let line = if i % 1000 == 999 {
                format!(
                    "{{\"level\":\"error\",\"ts\":{i},\"request_id\":\"r{i}\",\"service_name\":\"orders\",\"msg\":\"failed\"}}\n"
                )
            } else {
                format!(
                    "{{\"level\":\"info\",\"ts\":{i}.5,\"request_id\":\"r{i}\",\"service_name\":\"orders\",\"msg\":\"handled request\",\"path\":\"/v1/orders/{i}\",\"status\":200,\"latency_ms\":{}}}\n",
                    i % 97
                )
            };
            f.write_all(line.as_bytes()).unwrap();
            written += line.len();
            i += 1;
        }
        // One 50 MB line without a newline in between.
        f.write_all(&vec![b'x'; 50 << 20]).unwrap();
        f.write_all(b"\n").unwrap();
    }
    let mut child = redline(&dir)
        .arg("logs")
        .arg(&path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak_kb = 0u64;
    let mut out = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        stdout.read_to_string(&mut out).unwrap();
        out
    });
    while !reader.is_finished() {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(hwm) = status.lines().find(|l| l.starts_with("VmHWM:"))
        {
            peak_kb = peak_kb.max(
                hwm.split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = reader.join().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(1));
    eprintln!("peak RSS {peak_kb} kB\n{out}");
    assert!(out.contains("line-too-long"), "{out}");
    assert!(out.contains("error-without-stack"), "{out}");
    assert!(peak_kb > 0, "could not measure");
    assert!(peak_kb < 32 * 1024, "peak RSS {peak_kb} kB is not bounded");
}

#[test]
fn exec_exit_codes_for_a_file_that_cannot_be_run() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("noexec");
    let script = dir.join("service.sh");
    std::fs::write(&script, "#!/bin/sh\necho started\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = |program: &str| {
        good_env(&mut redline(&dir))
            .args(["exec", "--", program])
            .output()
            .unwrap()
    };
    // Exists but not executable: 126, as the README says.
    let out = run(script.to_str().unwrap());
    assert_eq!(out.status.code(), Some(126), "{out:?}");
    let lines = json_lines(&out.stderr);
    assert!(
        lines[0]["msg"].as_str().unwrap().contains("not executable"),
        "{lines:?}"
    );
    // A directory cannot be run either.
    let out = run(dir.to_str().unwrap());
    assert_eq!(out.status.code(), Some(126), "{out:?}");
    // Not there at all: 127.
    let out = run(dir.join("missing").to_str().unwrap());
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    let out = run("redline-no-such-program-anywhere");
    assert_eq!(out.status.code(), Some(127), "{out:?}");
}

#[test]
fn exec_with_a_missing_config_exits_78_with_the_json_line() {
    let dir = scratch("exec-config");
    let out = good_env(&mut redline(&dir))
        .args(["exec", "--config", "nope/redline.toml", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    let lines = json_lines(&out.stderr);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "error");
    let msg = lines[0]["msg"].as_str().unwrap();
    assert!(
        msg.contains("service not started") && msg.contains("nope/redline.toml"),
        "{msg}"
    );
}

#[test]
fn env_to_a_closed_pipe_or_a_full_disk_does_not_panic() {
    let dir = scratch("env-io");
    // A reader that is gone before redline writes.
    let mut child = redline(&dir)
        .arg("env")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "closed pipe: {out:?}"
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = redline(&dir).arg("env").stdout(full).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot write the output"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

fn logs_with(dir: &Path, args: &[&str], input: &str) -> std::process::Output {
    let mut child = redline(dir)
        .arg("logs")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn logs_require_a_field_that_is_also_the_timestamp_or_level() {
    let dir = scratch("logs-require");
    let line = r#"{"level":"error","ts":1,"request_id":"r","service_name":"s","stacktrace":"x"}"#;
    let input = format!("{line}\n{line}\n");
    for field in ["ts", "level", "stacktrace"] {
        let out = logs_with(&dir, &["--preset", "zap", "--require", field], &input);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "--require {field}: {text}");
        assert!(text.contains("0 violations"), "{text}");
    }
    // 70 required fields, all there but the 66th.
    let mut args: Vec<String> = Vec::new();
    let mut line = String::from(r#"{"level":"info","ts":1"#);
    for i in 0..70 {
        args.extend(["--require".to_string(), format!("f{i}")]);
        if i != 65 {
            line.push_str(&format!(r#","f{i}":1"#));
        }
    }
    line.push_str("}\n");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = logs_with(&dir, &args, &line);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("missing-f65") && text.contains("1 violations"),
        "{text}"
    );
}

#[test]
fn logs_max_line_bytes_accepts_the_largest_value() {
    let dir = scratch("logs-max");
    // Longer than one read (256 KiB), so the line is assembled from parts,
    // where the cap plus one overflowed.
    let line = format!(
        r#"{{"level":"info","ts":1,"request_id":"r","service_name":"{}"}}"#,
        "s".repeat(300_000)
    );
    let out = logs_with(
        &dir,
        &["--max-line-bytes", "18446744073709551615"],
        &format!("{line}\n"),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn logs_tee_fails_when_the_next_stage_dies() {
    let dir = scratch("logs-tee-epipe");
    let mut child = redline(&dir)
        .args(["logs", "--tee"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The next stage of the pipe exits at once.
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    let line = r#"{"level":"info","ts":1,"request_id":"r","service_name":"s"}"#;
    for _ in 0..1000 {
        if writeln!(stdin, "{line}").is_err() {
            break;
        }
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--tee") && err.contains("next stage"), "{err}");
}

#[test]
fn logs_tee_keeps_reporting_after_max_reports() {
    let dir = scratch("logs-tee-rate");
    let mut child = redline(&dir)
        .args(["logs", "--tee", "--max-reports", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // A burst of 5 bad lines: 2 shown.
    for _ in 0..5 {
        writeln!(stdin, "not json").unwrap();
    }
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1300));
    // Later, while the input is still open, another one is shown, with the
    // count of those left out.
    writeln!(stdin, "still not json").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(line);
            if seen.iter().any(|l| l.starts_with("<stdin>:6:")) {
                break;
            }
        }
    }
    assert!(
        seen.iter().any(|l| l.starts_with("<stdin>:6:")),
        "line 6 not reported while the stream runs: {seen:?}"
    );
    assert!(
        seen.iter().any(|l| l.contains("3 violations not shown")),
        "{seen:?}"
    );
    assert_eq!(
        seen.iter().filter(|l| l.starts_with("<stdin>:")).count(),
        3,
        "{seen:?}"
    );
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
}
