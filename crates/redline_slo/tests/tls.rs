//! `--ca-file` against a real TLS server (`openssl s_server`, from Debian's
//! `openssl`) whose certificate is signed by a throwaway CA: with the CA the
//! handshake succeeds (and the server's HTML page is reported as a
//! malformed answer); without it the certificate is refused.

mod common;
use common::{fixture, free_port, require, slo};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("cannot run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn custom_ca_is_trusted_and_required() {
    let openssl_bin = require("openssl");
    let dir = std::env::temp_dir().join(format!("redline-slo-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=redline test CA",
    ]);
    openssl(&dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(&dir, &csr);
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ],
    );
    let port = free_port();
    let _server = Kill(
        Command::new(openssl_bin)
            .current_dir(&dir)
            .args([
                "s_server",
                "-quiet",
                "-www",
                "-cert",
                "server.pem",
                "-key",
                "server.key",
            ])
            .arg("-accept")
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start openssl s_server"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "openssl s_server did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = format!("https://127.0.0.1:{port}");
    let spec = fixture("sloth.yaml");
    let ca = dir.join("ca.pem");
    let base = [
        "status",
        spec.as_str(),
        "--prometheus",
        url.as_str(),
        "--at",
        "2026-02-03T11:00:00Z",
        "--retries",
        "0",
    ];

    let mut with_ca = base.to_vec();
    with_ca.extend(["--ca-file", ca.to_str().unwrap()]);
    let (code, out, err) = slo(&with_ca);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("unexpected answer from Prometheus") && err.contains("not JSON"),
        "the TLS handshake should succeed with the CA: {err}"
    );

    let (code, out, err) = slo(&base);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("cannot reach Prometheus"), "{err}");
    assert!(
        err.to_lowercase().contains("certificate") || err.to_lowercase().contains("issuer"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
