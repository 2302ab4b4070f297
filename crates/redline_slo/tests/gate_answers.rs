//! Answers from Prometheus that are not numbers of events: NaN, +Inf,
//! negative counts. They used to pass the gate (shown as "no traffic", or
//! as 5,100 % budget remaining); now they are errors that fail it and name
//! the query. A NaN `--fail-below` no longer turns the gate off.

mod common;
use common::slo;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

const SPEC: &str = "version: prometheus/v1\nservice: api\nslos:\n  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(http_errors_total[{{.window}}]))\n        total_query: sum(rate(http_requests_total[{{.window}}]))\n";

fn decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A Prometheus whose answer to each query is `value(query)`: instant
/// queries get one sample, range queries a series of that value.
fn serve(value: fn(&str) -> &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let target = first.split_whitespace().nth(1).unwrap_or("").to_string();
            let query = target
                .split(['?', '&'])
                .find_map(|p| p.strip_prefix("query="))
                .map(decode)
                .unwrap_or_default();
            let v = value(&query);
            let body = if target.contains("query_range") {
                let start: f64 = target
                    .split(['?', '&'])
                    .find_map(|p| p.strip_prefix("start="))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0.0);
                format!(
                    "{{\"status\":\"success\",\"data\":{{\"resultType\":\"matrix\",\"result\":[{{\"metric\":{{}},\"values\":[[{start},\"{v}\"],[{},\"{v}\"]]}}]}}}}",
                    start + 300.0
                )
            } else {
                format!(
                    "{{\"status\":\"success\",\"data\":{{\"resultType\":\"vector\",\"result\":[{{\"metric\":{{}},\"value\":[1770000000,\"{v}\"]}}]}}}}"
                )
            };
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.flush();
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(20)));
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest);
        }
    });
    url
}

fn spec_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("slo.yaml");
    std::fs::write(&p, SPEC).unwrap();
    let s = p.display().to_string();
    (dir, s)
}

fn status(value: fn(&str) -> &'static str, extra: &[&str]) -> (u8, String, String) {
    let url = serve(value);
    let (_dir, spec) = spec_file();
    let mut args = vec![
        "status",
        spec.as_str(),
        "--prometheus",
        url.as_str(),
        "--at",
        "2026-02-03T11:00:00Z",
        "--retries",
        "0",
    ];
    args.extend_from_slice(extra);
    slo(&args)
}

fn is_errors(q: &str) -> bool {
    q.contains("http_errors_total")
}

#[test]
fn a_healthy_answer_passes() {
    let (code, out, err) = status(|q| if is_errors(q) { "0.1" } else { "1000" }, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("gate: passed"), "{out}");
}

#[test]
fn nan_in_a_burn_window_fails_the_gate_naming_the_query() {
    // The 30d window is fine; the short windows answer NaN. This passed
    // the gate, with the burn rates shown as "no traffic".
    let (code, out, err) = status(
        |q| {
            if !is_errors(q) {
                "1000"
            } else if q.contains("[30d]") {
                "0.1"
            } else {
                "NaN"
            }
        },
        &[],
    );
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("sum(rate(http_errors_total[5m]))") || err.contains("http_errors_total["),
        "{err}"
    );
    assert!(err.contains("answered NaN"), "{err}");
    assert!(err.contains("gate fails"), "{err}");
}

#[test]
fn infinite_and_negative_counts_fail_the_gate() {
    for (what, value) in [
        (
            "+Inf",
            (|q: &str| if is_errors(q) { "+Inf" } else { "1000" }) as fn(&str) -> &'static str,
        ),
        ("-50", |q: &str| if is_errors(q) { "-50" } else { "1000" }),
        (
            "a NaN total",
            |q: &str| if is_errors(q) { "1" } else { "NaN" },
        ),
        (
            "a negative total",
            |q: &str| if is_errors(q) { "1" } else { "-1000" },
        ),
    ] {
        let (code, out, err) = status(value, &[]);
        assert_ne!(code, 0, "{what}: {out}{err}");
        assert!(!out.contains("gate: passed"), "{what}: {out}");
        assert!(err.contains("answered"), "{what}: {err}");
        assert!(!err.contains("5100"), "{what}: {err}");
    }
}

#[test]
fn fail_below_nan_is_refused() {
    let (code, out, err) = status(
        |q| if is_errors(q) { "5" } else { "1000" },
        &["--fail-below", "nan"],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--fail-below"), "{err}");
    // In redline.toml too.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("redline.toml");
    std::fs::write(&cfg, "[slo]\nfail_below = nan\n").unwrap();
    let e = redline_slo::config::load(&cfg).unwrap_err();
    assert!(e.contains("redline.toml:2:"), "{e}");
}

#[test]
fn report_refuses_nan_samples_instead_of_counting_zero_errors() {
    let url = serve(|q| if is_errors(q) { "NaN" } else { "10" });
    let (dir, spec) = spec_file();
    let html = dir.path().join("r.html");
    let html_s = html.display().to_string();
    let (code, out, err) = slo(&[
        "report",
        spec.as_str(),
        "--prometheus",
        url.as_str(),
        "--at",
        "2026-02-03T11:00:00Z",
        "--retries",
        "0",
        "-o",
        html_s.as_str(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("answered NaN"), "{err}");
    assert!(err.contains("http_errors_total[5m]"), "{err}");
    assert!(!html.exists());
}
