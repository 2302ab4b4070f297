//! The Prometheus client's failure modes, against loopback servers made in
//! the test: nothing listening, malformed answers, errors, retries, and
//! the auth headers it sends.

mod common;
use common::{fixture, slo};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// Serves each connection with the next canned answer; records requests.
fn serve(answers: Vec<(u16, &'static str)>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (status, body) in answers {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream);
            let mut request = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                request.push_str(&line);
            }
            log.lock().unwrap().push(request);
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.flush();
            let mut rest = Vec::new();
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(50)));
            let _ = stream.read_to_end(&mut rest);
        }
    });
    (url, seen)
}

fn status(url: &str, extra: &[&str]) -> (u8, String, String) {
    let spec = fixture("sloth.yaml");
    let mut args = vec![
        "status",
        spec.as_str(),
        "--prometheus",
        url,
        "--at",
        "2026-02-03T11:00:00Z",
        "--retries",
        "1",
    ];
    args.extend_from_slice(extra);
    slo(&args)
}

#[test]
fn prometheus_down_is_a_clear_error() {
    let port = common::free_port();
    let (code, out, err) = status(&format!("http://127.0.0.1:{port}"), &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&format!(
            "cannot reach Prometheus at http://127.0.0.1:{port}"
        )),
        "{err}"
    );
    assert!(err.contains("after 2 attempts"), "{err}");
    assert!(out.is_empty(), "nothing may be printed on stdout: {out}");
}

#[test]
fn malformed_answers_are_errors_not_numbers() {
    for (body, expected) in [
        ("<html>hello</html>", "not JSON"),
        (r#"{"status":"success"}"#, "there is no `data`"),
        (
            r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
            "result type `matrix`",
        ),
        (
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}"#,
            "not a [time, \"value\"] pair",
        ),
        (
            r#"{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]},{"value":[1,"2"]}]}}"#,
            "returned 2 series",
        ),
    ] {
        let (url, _) = serve(vec![(200, body)]);
        let (code, out, err) = status(&url, &[]);
        assert_eq!(code, 2, "{body}: {out}{err}");
        assert!(
            err.contains(expected),
            "{body}: expected `{expected}` in {err}"
        );
        assert!(out.is_empty(), "{out}");
    }
}

#[test]
fn server_errors_are_retried_then_reported() {
    let (url, seen) = serve(vec![(503, "overloaded"), (503, "still overloaded")]);
    let (code, _, err) = status(&url, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("HTTP 503") && err.contains("still overloaded"),
        "{err}"
    );
    assert_eq!(seen.lock().unwrap().len(), 2, "one try and one retry");
    let (url, _) = serve(vec![(
        400,
        r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
    )]);
    let (code, _, err) = status(&url, &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("rejected") && err.contains("bad_data: parse error"),
        "{err}"
    );
}

#[test]
fn auth_and_headers_are_sent() {
    let (url, seen) = serve(vec![(200, "not json")]);
    // SAFETY: this test binary's tests only read this variable here.
    unsafe { std::env::set_var("REDLINE_TEST_TOKEN", "s3cret") };
    let (code, _, _) = status(
        &url,
        &[
            "--bearer-token-env",
            "REDLINE_TEST_TOKEN",
            "--header",
            "X-Scope-OrgID: team-a",
        ],
    );
    assert_eq!(code, 2);
    let req = seen.lock().unwrap()[0].to_lowercase();
    assert!(req.contains("authorization: bearer s3cret"), "{req}");
    assert!(req.contains("x-scope-orgid: team-a"), "{req}");
    assert!(req.starts_with("get /api/v1/query?"), "{req}");

    let (url, seen) = serve(vec![(200, "not json")]);
    unsafe { std::env::set_var("REDLINE_TEST_PASSWORD", "pass") };
    let (code, _, _) = status(
        &url,
        &[
            "--basic-auth-user",
            "user",
            "--basic-auth-password-env",
            "REDLINE_TEST_PASSWORD",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        seen.lock().unwrap()[0].contains("Basic dXNlcjpwYXNz"),
        "{:?}",
        seen.lock().unwrap()
    );

    let (code, _, err) = status(
        "http://127.0.0.1:1",
        &["--bearer-token-env", "REDLINE_NO_SUCH_VAR"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("`REDLINE_NO_SUCH_VAR` is not set"), "{err}");
    let (code, _, err) = status("http://127.0.0.1:1", &["--ca-file", "/nonexistent/ca.pem"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read the CA file /nonexistent/ca.pem"),
        "{err}"
    );
}

#[test]
fn config_table_unknown_keys_name_file_and_line() {
    let dir = std::env::temp_dir().join(format!("redline-slo-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("redline.toml");
    std::fs::write(
        &cfg,
        "[logs]\npreset = \"zap\"\n\n[slo]\nwindow = \"28d\"\nwindw = \"7d\"\n",
    )
    .unwrap();
    let err = redline_slo::config::load(&cfg).unwrap_err();
    assert!(err.starts_with(&format!("{}:6:", cfg.display())), "{err}");
    assert!(err.contains("windw"), "{err}");
    std::fs::write(&cfg, "[logs]\npreset = \"zap\"\n[slo]\nwindow = \"28d\"\n").unwrap();
    assert_eq!(
        redline_slo::config::load(&cfg).unwrap().window.as_deref(),
        Some("28d")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for _ in 0..2 {
            if let Ok((s, _)) = listener.accept() {
                held.push(s); // accept, read nothing, answer nothing
            }
        }
        std::thread::sleep(std::time::Duration::from_secs(5));
    });
    let started = std::time::Instant::now();
    let (code, out, err) = status(&url, &["--timeout", "1"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("cannot reach Prometheus") && err.to_lowercase().contains("timeout"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "timeout not applied"
    );
}

#[test]
fn git_commits_become_events() {
    let dir = std::env::temp_dir().join(format!("redline-slo-git-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(args)
            .env("GIT_COMMITTER_DATE", "2026-02-03T12:00:00Z")
            .env("GIT_AUTHOR_DATE", "2026-02-03T12:00:00Z")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .expect("git is needed for this test");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "switch payment provider",
    ]);
    let events = redline_slo::events::from_git(&dir).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].time, 1_770_120_000);
    assert_eq!(events[0].description, "switch payment provider");
    assert_eq!(events[0].service, None);
    assert_eq!(events[0].commit.len(), 12);
    let err = redline_slo::events::from_git(&dir.join("nope")).unwrap_err();
    assert!(err.contains("git log in"), "{err}");
    let bad = dir.join("events.jsonl");
    std::fs::write(
        &bad,
        "{\"time\": \"2026-02-03T12:00:00Z\"}\n{\"service\": \"x\"}\n",
    )
    .unwrap();
    let err = redline_slo::events::from_file(&bad).unwrap_err();
    assert!(
        err.starts_with(&format!("{}:2: missing `time`", bad.display())),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn old_slo_key_spellings_work_and_warn() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("redline.toml");
    let spec = common::fixture("sloth.yaml");
    std::fs::write(&cfg, "[slo]\nwindow = \"28d\"\nfail_below = 5.0\n").unwrap();
    let (code, _, err) = common::slo_with_config(Some(&cfg), &["validate", &spec]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "redline slo: warning: {}:3:1: `[slo] fail_below` is deprecated; write `fail-below`",
            cfg.display()
        )),
        "{err}"
    );
    // The new spelling: the same run, no warning.
    std::fs::write(&cfg, "[slo]\nwindow = \"28d\"\nfail-below = 5.0\n").unwrap();
    let (code, _, err) = common::slo_with_config(Some(&cfg), &["validate", &spec]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("deprecated"), "{err}");
}
