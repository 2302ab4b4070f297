//! Credentials given to `redline slo status/report` never leak: a password
//! in `--prometheus` is never printed, and neither the credentials nor the
//! `--header` values follow a redirect to another host (two loopback
//! servers on two ports stand for the two hosts).

mod common;
use common::{fixture, slo};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

const PASSWORD: &str = "Hunter2UrlPassw0rd";
const TENANT: &str = "tenant-7f3a9c";
const TOKEN: &str = "Tok3nForPrometheus";

/// Serves `n` connections with `answer(request)`; records the requests.
#[allow(clippy::type_complexity)]
fn serve(
    n: usize,
    answer: Arc<dyn Fn(&str) -> String + Send + Sync>,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for _ in 0..n {
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
            let response = answer(&request);
            log.lock().unwrap().push(request);
            let mut stream = reader.into_inner();
            let _ = stream.write_all(response.as_bytes());
            let _ = stream.flush();
            let mut rest = Vec::new();
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(50)));
            let _ = stream.read_to_end(&mut rest);
        }
    });
    (url, seen)
}

fn not_json() -> String {
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\nConnection: close\r\n\r\nnot json"
        .to_string()
}

fn redirect_to(location: String) -> String {
    format!(
        "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
}

/// `redline slo COMMAND spec --prometheus URL …`: exit code and the whole
/// output (stdout, stderr and, for `report`, the written file).
fn run(command: &str, url: &str, extra: &[&str]) -> (u8, String) {
    let spec = fixture("sloth.yaml");
    let out_file = std::env::temp_dir().join(format!(
        "redline-slo-secrets-{}-{command}.html",
        std::process::id()
    ));
    let out_path = out_file.display().to_string();
    let mut args = vec![
        command,
        spec.as_str(),
        "--prometheus",
        url,
        "--at",
        "2026-02-03T11:00:00Z",
        "--retries",
        "1",
    ];
    if command == "report" {
        args.extend(["--output", out_path.as_str()]);
    }
    args.extend_from_slice(extra);
    let (code, out, err) = slo(&args);
    let written = std::fs::read_to_string(&out_file).unwrap_or_default();
    let _ = std::fs::remove_file(&out_file);
    (code, format!("{out}{err}{written}"))
}

#[test]
fn a_password_in_the_prometheus_url_is_never_printed() {
    for command in ["status", "report"] {
        // Nothing listening: the "cannot reach Prometheus" error.
        let port = common::free_port();
        let url = format!("http://reader:{PASSWORD}@127.0.0.1:{port}");
        let (code, all) = run(command, &url, &[]);
        assert_eq!(code, 2, "{all}");
        assert!(all.contains("cannot reach Prometheus"), "{all}");
        assert!(!all.contains(PASSWORD), "{command}: {all}");
        // A server that answers: the password is sent as basic auth, and
        // the error about its answer does not show it either.
        let (url, seen) = serve(4, Arc::new(|_: &str| not_json()));
        let url = url.replace("http://", &format!("http://reader:{PASSWORD}@"));
        let (code, all) = run(command, &url, &[]);
        assert_eq!(code, 2, "{all}");
        assert!(!all.contains(PASSWORD), "{command}: {all}");
        let req = seen.lock().unwrap()[0].to_lowercase();
        assert!(req.contains("authorization: basic "), "{req}");
    }
}

#[test]
fn credentials_and_headers_never_follow_a_redirect_to_another_host() {
    // SAFETY: only this test reads this variable.
    unsafe { std::env::set_var("REDLINE_SECRETS_TEST_TOKEN", TOKEN) };
    for command in ["status", "report"] {
        let (other, other_seen) = serve(4, Arc::new(|_: &str| not_json()));
        let target = other.clone();
        let (home, home_seen) = serve(
            4,
            Arc::new(move |req: &str| {
                let path = req.split_whitespace().nth(1).unwrap_or("/");
                redirect_to(format!("{target}{path}"))
            }),
        );
        let header = format!("X-Scope-OrgID: {TENANT}");
        let (code, all) = run(
            command,
            &home,
            &[
                "--bearer-token-env",
                "REDLINE_SECRETS_TEST_TOKEN",
                "--header",
                &header,
            ],
        );
        assert_eq!(code, 2, "{all}");
        let home_req = home_seen.lock().unwrap()[0].clone();
        assert!(
            home_req.contains(TOKEN) && home_req.contains(TENANT),
            "{home_req}"
        );
        let other_reqs = other_seen.lock().unwrap().clone();
        assert!(
            !other_reqs.is_empty(),
            "the redirect was not followed: {all}"
        );
        for req in &other_reqs {
            assert!(!req.contains(TOKEN), "token forwarded: {req}");
            assert!(!req.contains(TENANT), "header forwarded: {req}");
            assert!(!req.to_lowercase().contains("authorization"), "{req}");
        }
        assert!(
            all.contains("warning") && all.contains("redirected to another host"),
            "{command}: {all}"
        );
        assert!(!all.contains(TOKEN), "{all}");
    }
}

#[test]
fn a_redirect_on_the_same_host_keeps_the_headers() {
    let (home, seen) = serve(
        4,
        Arc::new(|req: &str| {
            if req.starts_with("GET /moved/") {
                not_json()
            } else {
                let path = req.split_whitespace().nth(1).unwrap_or("/");
                redirect_to(format!("/moved{path}"))
            }
        }),
    );
    let header = format!("X-Scope-OrgID: {TENANT}");
    let (code, all) = run("status", &home, &["--header", &header]);
    assert_eq!(code, 2, "{all}");
    let reqs = seen.lock().unwrap().clone();
    assert!(reqs.len() >= 2, "{reqs:?}");
    assert!(reqs[1].starts_with("GET /moved/"), "{reqs:?}");
    assert!(reqs[1].contains(TENANT), "{reqs:?}");
    assert!(!all.contains("redirected to another host"), "{all}");
}

#[test]
fn a_malformed_header_is_not_echoed() {
    let (code, all) = run(
        "status",
        "http://127.0.0.1:1",
        &["--header", &format!("Authorization Bearer {TOKEN}")],
    );
    assert_eq!(code, 2);
    assert!(all.contains("Name: value"), "{all}");
    assert!(!all.contains(TOKEN), "{all}");
}
