//! A budget burn traced to the code that caused it: a git repository built
//! here with three deploys (commits), the second of which writes into
//! `new(map[string]int)` (RL101) and is followed by a fast burn in the
//! metrics of a real Prometheus (Debian's `prometheus` and `promtool`,
//! backfilled). `redline slo report` and `status --format json` name that
//! commit, its range since the previous deploy and the finding; the last
//! deploy is named with "introduced no red-line finding".

mod common;
use common::{redline, write};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// 2026-01-02T00:00:00Z: the first sample.
const P0: i64 = 1_767_312_000;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// The deploys.
const D1: i64 = P0 + 6 * HOUR;
const D2: i64 = P0 + DAY + 12 * HOUR;
const D3: i64 = P0 + DAY + 18 * HOUR;
/// Two days of samples.
const P1: i64 = P0 + 2 * DAY;

/// 8% of requests fail from ten to fifty minutes after the second deploy;
/// 0.02% otherwise.
fn error_ratio(t: i64) -> f64 {
    if (D2 + 600..D2 + 3_000).contains(&t) {
        0.08
    } else {
        0.0002
    }
}

fn openmetrics() -> String {
    let mut s =
        String::from("# HELP http_requests Requests served.\n# TYPE http_requests counter\n");
    let (mut errors, mut total) = (0.0, 0.0);
    let mut t = P0;
    while t <= P1 {
        s.push_str(&format!(
            "http_requests_total{{job=\"checkout\",code=\"200\"}} {:.6} {t}\nhttp_requests_total{{job=\"checkout\",code=\"500\"}} {errors:.6} {t}\n",
            total - errors
        ));
        errors += 1000.0 * error_ratio(t);
        total += 1000.0;
        t += 60;
    }
    s.push_str("# EOF\n");
    s
}

const SPEC: &str = "version: prometheus/v1\nservice: checkout\nslos:\n  - name: availability\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(http_requests_total{job=\"checkout\",code=\"500\"}[{{.window}}]))\n        total_query: sum(rate(http_requests_total{job=\"checkout\"}[{{.window}}]))\n";

fn rfc3339(t: i64) -> String {
    // Whole days and hours of January 2026 are enough here.
    let day = (t - 1_767_225_600) / DAY + 1;
    let rest = (t - 1_767_225_600) % DAY;
    format!(
        "2026-01-{day:02}T{:02}:{:02}:{:02}Z",
        rest / HOUR,
        rest % HOUR / 60,
        rest % 60
    )
}

fn git(dir: &Path, args: &[&str], time: i64) -> String {
    let date = format!("@{time} +0000");
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_COMMITTER_DATE", &date)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git is needed for this test");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

const MAIN_V1: &str =
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"shop\")\n}\n";
const MAIN_V3: &str = "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"shop\")\n\tfmt.Println(\"v3\")\n}\n";
const CACHE: &str = "package main\n\nfunc count(words []string) map[string]int {\n\tp := new(map[string]int)\n\tfor _, w := range words {\n\t\t(*p)[w]++\n\t}\n\treturn *p\n}\n";

/// The three deploys: (full hash) of each commit.
fn repository(repo: &Path) -> [String; 3] {
    std::fs::create_dir_all(repo).unwrap();
    git(repo, &["init", "-q"], D1);
    write(repo, "go.mod", "module example.com/shop\n\ngo 1.22\n");
    write(repo, "main.go", MAIN_V1);
    write(repo, "docs/README.md", "# shop\n");
    git(repo, &["add", "."], D1);
    git(repo, &["commit", "-q", "-m", "first release"], D1);
    let c1 = git(repo, &["rev-parse", "HEAD"], D1);
    write(repo, "cache.go", CACHE);
    git(repo, &["add", "."], D2);
    git(repo, &["commit", "-q", "-m", "count words in a cache"], D2);
    let c2 = git(repo, &["rev-parse", "HEAD"], D2);
    write(repo, "main.go", MAIN_V3);
    git(repo, &["add", "."], D3);
    git(repo, &["commit", "-q", "-m", "print the version"], D3);
    let c3 = git(repo, &["rev-parse", "HEAD"], D3);
    [c1, c2, c3]
}

fn require(bin: &str) -> String {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(bin);
        if p.is_file() {
            return p.display().to_string();
        }
    }
    panic!(
        "`{bin}` is not installed: this test needs Debian's Prometheus (`apt-get install -y prometheus`)"
    );
}

struct Prometheus {
    child: Child,
    port: u16,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_prometheus(dir: &Path) -> Prometheus {
    let prometheus = require("prometheus");
    let promtool = require("promtool");
    let om = dir.join("requests.om");
    std::fs::write(&om, openmetrics()).unwrap();
    let tsdb = dir.join("tsdb");
    let out = Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics", "-q"])
        .arg(&om)
        .arg(&tsdb)
        .output()
        .expect("cannot run promtool");
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1m\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port");
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let mut p = Prometheus {
        child: Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=3650d")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("cannot start prometheus"),
        port,
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let ready = std::net::TcpStream::connect(("127.0.0.1", port))
            .and_then(|mut s| {
                s.set_read_timeout(Some(Duration::from_secs(2)))?;
                s.write_all(b"GET /-/ready HTTP/1.0\r\n\r\n")?;
                let mut buf = String::new();
                std::io::Read::read_to_string(&mut s, &mut buf)?;
                Ok(buf.contains(" 200 "))
            })
            .unwrap_or(false);
        if ready {
            return p;
        }
        if let Ok(Some(status)) = p.child.try_wait() {
            let log = std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default();
            panic!("prometheus exited with {status}:\n{log}");
        }
        assert!(Instant::now() < deadline, "prometheus not ready in 90s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn text(o: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_fast_burn_is_traced_to_the_commit_and_the_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().to_path_buf();
    let prom = start_prometheus(&dir);
    let url = format!("http://127.0.0.1:{}", prom.port);
    let repo = dir.join("shop");
    let [c1, c2, c3] = repository(&repo);
    let head_before = git(&repo, &["status", "--porcelain"], D3);
    write(&dir, "slo.yaml", SPEC);
    let repo_s = repo.display().to_string();

    // The report: the burn after the second deploy, its range since the
    // first, and the RL101 finding it introduced.
    let at = P1.to_string();
    let o = redline(
        &dir,
        &[
            "slo",
            "report",
            "slo.yaml",
            "--prometheus",
            &url,
            "--at",
            &at,
            "--events-from-git",
            &repo_s,
            "-o",
            "report.html",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("1 fast-burn periods"), "{out}");
    let summary = format!("deploy {} introduced ", &c2[..7]);
    assert!(
        out.contains(&summary) && out.contains("cache.go:4 RL101"),
        "{out}"
    );
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let table = &page[page.find("class=\"attribution\"").expect("no table")..];
    let row = &table[..table.find("</table>").unwrap()];
    assert!(
        row.contains(&format!("most likely: {}", rfc3339(D2))),
        "{row}"
    );
    assert!(
        row.contains(&format!("since the previous deploy {}", &c1[..7])),
        "{row}"
    );
    assert!(
        row.contains(&format!("<code>{}</code> count words in a cache", &c2[..7])),
        "{row}"
    );
    assert!(
        !row.contains(&c3[..7]),
        "the later deploy is not a suspect: {row}"
    );
    // The finding links to its row in the findings table.
    let link = row
        .split("<a href=\"#")
        .nth(1)
        .and_then(|s| s.split_once("\">"))
        .expect("no link to a finding");
    assert!(link.1.starts_with("cache.go:4 RL101</a>"), "{row}");
    let target = format!("<tr id=\"{}\"><td>cache.go:4:", link.0);
    let findings = &page[page.find("class=\"findings\"").expect("no findings table")..];
    assert!(findings.contains(&target), "{findings}");
    assert!(findings.contains("redline explain RL101"), "{findings}");
    // Every link stays inside the report.
    assert!(
        page.split("href=\"").skip(1).all(|s| s.starts_with('#')),
        "a link leaves the report"
    );

    // `status` during the burn: the gate fails and the JSON names the
    // most recent deploy, its range and the finding.
    let during = (D2 + 2_400).to_string();
    let o = redline(
        &dir,
        &[
            "slo",
            "status",
            "slo.yaml",
            "--prometheus",
            &url,
            "--at",
            &during,
            "--format",
            "json",
            "--events-from-git",
            &repo_s,
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let a = &v["attribution"][0];
    assert_eq!(a["service"], "checkout", "{v}");
    assert!(
        a["deploy"]["commit"]
            .as_str()
            .is_some_and(|c| c2.starts_with(c)),
        "{a}"
    );
    assert_eq!(a["range"], format!("{c1}..{c2}"), "{a}");
    assert_eq!(a["commits"][0]["commit"], c2.as_str(), "{a}");
    let rl101: Vec<&serde_json::Value> = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "RL101")
        .collect();
    assert_eq!(rl101.len(), 1, "{a}");
    assert_eq!(
        (rl101[0]["path"].as_str(), rl101[0]["line"].as_u64()),
        (Some("cache.go"), Some(4)),
        "{a}"
    );
    assert!(a["error"].is_null(), "{a}");

    // Later the budget is spent (the gate fails) and the most recent
    // deploy, the third, introduced nothing.
    let later = (D3 + HOUR).to_string();
    let o = redline(
        &dir,
        &[
            "slo",
            "status",
            "slo.yaml",
            "--prometheus",
            &url,
            "--at",
            &later,
            "--format",
            "json",
            "--repo",
            &repo_s,
            "--events-from-git",
            &repo_s,
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let a = &v["attribution"][0];
    assert_eq!(a["range"], format!("{c2}..{c3}"), "{a}");
    assert_eq!(a["findings"].as_array().map(Vec::len), Some(0), "{a}");
    assert_eq!(
        a["summary"],
        format!("deploy {} introduced no red-line finding", &c3[..7]),
        "{a}"
    );
    // In text too.
    let o = redline(
        &dir,
        &[
            "slo",
            "status",
            "slo.yaml",
            "--prometheus",
            &url,
            "--at",
            &later,
            "--repo",
            &repo_s,
            "--events-from-git",
            &repo_s,
        ],
    );
    let (out, _) = text(&o);
    assert!(
        out.contains(&format!(
            "deploy {} introduced no red-line finding",
            &c3[..7]
        )),
        "{out}"
    );

    // Events of several services: the range starts at the previous deploy
    // of the same service, not at another service's. `--repo` may name a
    // directory inside the repository.
    let docs = repo.join("docs").display().to_string();
    write(
        &dir,
        "events.jsonl",
        &format!(
            "{{\"time\": {D1}, \"service\": \"checkout\", \"commit\": \"{}\"}}\n{{\"time\": {}, \"service\": \"search\", \"commit\": \"{}\"}}\n{{\"time\": {D2}, \"service\": \"checkout\", \"commit\": \"{}\", \"description\": \"words\"}}\n",
            &c1[..10],
            D2 - 600,
            &c2[..10],
            &c2[..10]
        ),
    );
    let o = redline(
        &dir,
        &[
            "slo",
            "status",
            "slo.yaml",
            "--prometheus",
            &url,
            "--at",
            &during,
            "--format",
            "json",
            "--events",
            "events.jsonl",
            "--repo",
            &docs,
        ],
    );
    let (out, err) = text(&o);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let a = &v["attribution"][0];
    assert_eq!(a["range"], format!("{c1}..{c2}"), "{a}");
    assert!(
        a["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "RL101"),
        "{a}"
    );
    // Tracing left the repository as it was.
    assert_eq!(git(&repo, &["status", "--porcelain"], D3), head_before);
    assert_eq!(git(&repo, &["rev-parse", "HEAD"], D3), c3);
    drop(prom);
}
