//! No output of redline ever shows a secret (RL704, docs/rules.md): for every
//! `check` format and every command, with secrets in every position (flow
//! and block env entries, a URL password, a DSN `password=`, a file that
//! does not parse, a variable the environment spec constrains, the
//! `--prometheus` URL), the whole output — stdout, stderr and every file
//! written — is searched for each secret value.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Every secret value planted below. Each is distinctive, so a hit is a
/// leak and never a coincidence.
const SECRETS: [&str; 11] = [
    "FlowJwtSecretValue123ABCxyz0000000",
    "BlockPassw0rdValue",
    "UrlPassw0rdValue",
    "FlowRedisPassw0rd",
    "FlowDsnPassw0rd",
    "SpecPasswordValue",
    "SpecApiKeyValue",
    "BrokenFileSecret0",
    "AwsSecretAccessKeyValue",
    "PrivateKeyValue",
    "DbPassValue",
];

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
spec:
  template:
    spec:
      containers:
        - name: orders
          env:
            - {name: JWT_SECRET, value: "FlowJwtSecretValue123ABCxyz0000000"}
            - name: DB_PASSWORD
              value: BlockPassw0rdValue
            - name: DATABASE_URL
              value: postgres://orders:UrlPassw0rdValue@db:5432/orders
            - {name: REDIS_URL, value: "redis://:FlowRedisPassw0rd@cache:6379/0"}
            - {name: ORDERS_DSN, value: "host=db user=orders password=FlowDsnPassw0rd"}
            - {name: PASSWORD, value: SpecPasswordValue}
            - {name: API_KEY, value: SpecApiKeyValue}
            - {name: AWS_SECRET_ACCESS_KEY, value: AwsSecretAccessKeyValue}
            - {name: PRIVATE_KEY, value: PrivateKeyValue}
            - {name: DB_PASS, value: DbPassValue}
            - {name: SERVICE_NAME, value: Bad_Name}
"#;

/// Parsing stops on the secret's line: RL000 quotes it.
const BROKEN: &str = r#"apiVersion: v1
kind: Pod
metadata: {name: broken}
spec:
  containers:
    - name: c
      env:
        - {name: JWT_SECRET, value: BrokenFileSecret0, ]
"#;

/// The environment spec constrains the secret variables, so a check of
/// their values has something to say about them (and must not say it with
/// the value).
const CONFIG: &str = r#"
[manifests]
required-env = ["SERVICE_NAME"]

[env.PASSWORD]
min-length = 40
[env.API_KEY]
pattern = "^sk_"
[env.AWS_SECRET_ACCESS_KEY]
min-length = 64
[env.PRIVATE_KEY]
pattern = "^-----BEGIN"
[env.DB_PASS]
min-length = 40
[env.REDIS_URL]
pattern = "^rediss://"
[env.ORDERS_DSN]
pattern = "^postgres://"
"#;

fn tree(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redline-secrets-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("deploy")).unwrap();
    std::fs::write(dir.join("deploy/orders.yaml"), DEPLOYMENT).unwrap();
    std::fs::write(dir.join("deploy/broken.yaml"), BROKEN).unwrap();
    std::fs::write(dir.join("redline.toml"), CONFIG).unwrap();
    dir
}

/// `redline ARGS` in `dir` (its redline.toml is the configuration), with a
/// clean environment.
fn redline(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redline"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("REDLINE_CACHE_DIR", dir.join(".cache"))
        .current_dir(dir);
    c
}

fn all_output(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what}: `{s}` leaked:\n{text}");
    }
}

const FORMATS: [&str; 7] = [
    "text",
    "json",
    "sarif",
    "github",
    "gitlab",
    "checkstyle",
    "junit",
];

#[test]
fn check_never_shows_a_secret_in_any_format() {
    let dir = tree("check");
    for format in FORMATS {
        let out = redline(&dir)
            .args(["check", "--no-cache", "--format", format, "."])
            .output()
            .unwrap();
        let text = all_output(&out);
        assert_eq!(out.status.code(), Some(1), "{format}: {text}");
        // The findings are there…
        assert!(text.contains("RL704"), "{format}: {text}");
        // … the secrets are not.
        assert_no_secret(format, &text);
        // The same report written to a file.
        let file = dir.join(format!("report.{format}"));
        let spec = format!("{format}:{}", file.display());
        let out = redline(&dir)
            .args(["check", "--no-cache", "--format", &spec, "."])
            .output()
            .unwrap();
        assert_no_secret(format, &all_output(&out));
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(written.contains("RL704"), "{format}: {written}");
        assert_no_secret(&format!("{format} file"), &written);
    }
    // The text report's frames quote the flagged lines, masked.
    let out = redline(&dir)
        .args(["check", "--no-cache", "--color", "always", "."])
        .output()
        .unwrap();
    let text = all_output(&out);
    assert!(text.contains("{name: JWT_SECRET, value: \"***"), "{text}");
    assert!(
        text.contains("RL000"),
        "the broken file is reported: {text}"
    );
    assert_no_secret("text with colour", &text);
}

#[test]
fn check_through_the_cache_stdin_statistics_and_baseline() {
    let dir = tree("check-paths");
    // Twice: the second run answers from the cache.
    for round in 0..2 {
        let out = redline(&dir).args(["check", "."]).output().unwrap();
        assert_no_secret(&format!("cached run {round}"), &all_output(&out));
    }
    let out = redline(&dir)
        .args(["check", "--statistics", "."])
        .output()
        .unwrap();
    assert_no_secret("statistics", &all_output(&out));
    let baseline = dir.join("baseline.json");
    let out = redline(&dir)
        .args(["check", "--write-baseline", baseline.to_str().unwrap(), "."])
        .output()
        .unwrap();
    assert_no_secret("write-baseline", &all_output(&out));
    assert_no_secret(
        "baseline file",
        &std::fs::read_to_string(&baseline).unwrap(),
    );
    for format in FORMATS {
        let mut child = redline(&dir)
            .args([
                "check",
                "--format",
                format,
                "--stdin-filename",
                "deploy/piped.yaml",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(DEPLOYMENT.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = all_output(&out);
        assert!(text.contains("RL704"), "stdin {format}: {text}");
        assert_no_secret(&format!("stdin {format}"), &text);
    }
}

/// The values of the deployment as this process's environment.
fn secret_env(c: &mut Command) -> &mut Command {
    c.env("JWT_SECRET", SECRETS[0])
        .env("DB_PASSWORD", SECRETS[1])
        .env(
            "DATABASE_URL",
            format!("postgres://orders:{}@db/orders", SECRETS[2]),
        )
        .env("REDIS_URL", format!("redis://:{}@cache:6379", SECRETS[3]))
        .env("ORDERS_DSN", format!("host=db password={}", SECRETS[4]))
        .env("PASSWORD", SECRETS[5])
        .env("API_KEY", SECRETS[6])
        .env("AWS_SECRET_ACCESS_KEY", SECRETS[8])
        .env("PRIVATE_KEY", SECRETS[9])
        .env("DB_PASS", SECRETS[10])
        .env("SERVICE_NAME", "Bad_Name")
}

#[test]
fn env_and_exec_never_show_a_secret() {
    let dir = tree("env");
    for format in ["text", "json"] {
        let out = secret_env(&mut redline(&dir))
            .args(["env", "--format", format])
            .output()
            .unwrap();
        let text = all_output(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        // Every constrained secret is reported, by name.
        for name in [
            "PASSWORD",
            "API_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "PRIVATE_KEY",
            "DB_PASS",
            "REDIS_URL",
            "ORDERS_DSN",
        ] {
            assert!(text.contains(name), "{name} not reported: {text}");
        }
        assert_no_secret(&format!("env {format}"), &text);
    }
    let out = secret_env(&mut redline(&dir))
        .args(["exec", "--", "true"])
        .output()
        .unwrap();
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(78), "{text}");
    assert!(text.contains("PASSWORD"), "{text}");
    assert_no_secret("exec", &text);
}

#[test]
fn logs_never_show_a_secret() {
    let dir = tree("logs");
    let input = format!(
        "{{\"level\":\"postgres://u:{}@db\",\"ts\":1,\"request_id\":\"r\",\"service_name\":\"s\"}}\n",
        SECRETS[2]
    );
    for format in ["text", "json"] {
        let mut child = redline(&dir)
            .args(["logs", "--format", format])
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
        let out = child.wait_with_output().unwrap();
        let text = all_output(&out);
        assert!(text.contains("unknown-level"), "{text}");
        assert_no_secret(&format!("logs {format}"), &text);
    }
}

#[test]
fn slo_never_shows_the_prometheus_password() {
    let dir = tree("slo");
    let spec =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../redline_slo/tests/fixtures/sloth.yaml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://reader:{}@127.0.0.1:{port}", SECRETS[2]);
    let html = dir.join("report.html");
    for args in [
        vec!["status"],
        vec!["report", "--output", html.to_str().unwrap()],
    ] {
        let out = redline(&dir)
            .arg("slo")
            .args(&args)
            .args([
                spec.to_str().unwrap(),
                "--prometheus",
                &url,
                "--retries",
                "0",
                "--at",
                "2026-02-03T11:00:00Z",
            ])
            .output()
            .unwrap();
        let text = all_output(&out);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(text.contains("cannot reach Prometheus"), "{text}");
        assert_no_secret(&format!("slo {}", args[0]), &text);
    }
}
