//! A small client for the Prometheus HTTP API (`/api/v1/query` and
//! `/api/v1/query_range`), spoken by Prometheus, Thanos, Mimir and
//! VictoriaMetrics. Timeouts, retries with exponential backoff on
//! connection errors and 5xx/429 answers, bearer/basic auth, extra headers
//! and a custom CA. Every unexpected answer is an error: it never returns
//! a number it did not read.
//!
//! Credentials stay with the server they are meant for: userinfo in
//! `--prometheus` (`http://user:pass@host`) becomes basic auth and is never
//! printed, and redirects are followed by hand so that the `Authorization`
//! header and the `--header` values are sent only to the origin (scheme,
//! host, port) of `--prometheus`; a redirect to another origin is followed
//! without them, with a warning on stderr.

use redline_diagnostics::secrets::{redact, redact_url_userinfo};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    pub url: String,
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
    pub bearer_token: Option<String>,
    pub basic_auth: Option<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PromError {
    /// Could not connect or timed out, after the retries.
    Unreachable {
        url: String,
        detail: String,
    },
    /// Prometheus answered with an error (bad query, auth...).
    Rejected {
        query: String,
        status: u16,
        detail: String,
    },
    /// The answer is not what the API documents.
    Malformed {
        query: String,
        detail: String,
    },
    /// The query returned no series.
    NoData {
        query: String,
    },
    /// The query returned several series where one was expected.
    TooManySeries {
        query: String,
        count: usize,
    },
    Config(String),
}

impl fmt::Display for PromError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromError::Unreachable { url, detail } => write!(
                f,
                "cannot reach Prometheus at {url}: {detail} (is it running, and is --prometheus right?)"
            ),
            PromError::Rejected {
                query,
                status,
                detail,
            } => {
                write!(f, "Prometheus rejected `{query}` (HTTP {status}): {detail}")
            }
            PromError::Malformed { query, detail } => write!(
                f,
                "unexpected answer from Prometheus for `{query}`: {detail}; is --prometheus the API root of a Prometheus-compatible server?"
            ),
            PromError::NoData { query } => write!(
                f,
                "no data for `{query}`: check the metric names and labels, and that Prometheus has samples for the window (if the service truly had no errors, append `or vector(0)` to the error query)"
            ),
            PromError::TooManySeries { query, count } => write!(
                f,
                "`{query}` returned {count} series; an SLI query must return one series: aggregate it, e.g. `sum(...)`"
            ),
            PromError::Config(m) => f.write_str(m),
        }
    }
}

pub struct Client {
    agent: ureq::Agent,
    opts: ClientOptions,
    auth: Option<String>,
    /// Warnings for the user (a redirect to another host), each once.
    warnings: std::sync::Mutex<Vec<String>>,
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One point of a range query.
pub type Point = (i64, f64);

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 10;

/// `user:pass@` taken out of a URL: the URL without it, and the decoded
/// user and password.
fn split_userinfo(url: &str) -> (String, Option<(String, String)>) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_string(), None);
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (url.to_string(), None);
    };
    let userinfo = &rest[..at];
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let stripped = format!("{}://{}", &url[..scheme_end], &rest[at + 1..]);
    (stripped, Some((percent_decode(user), percent_decode(pass))))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| hex(*c)),
                b.get(i + 2).and_then(|c| hex(*c)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Scheme, host and port of an absolute http(s) URL (lower-case, default
/// ports filled in).
fn origin(url: &str) -> Option<(String, String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match authority.rfind(':') {
        Some(c) if !authority[c..].contains(']') => {
            (&authority[..c], authority[c + 1..].parse().ok()?)
        }
        _ => (
            authority,
            match scheme.as_str() {
                "https" => 443,
                "http" => 80,
                _ => return None,
            },
        ),
    };
    Some((scheme, host.to_ascii_lowercase(), port))
}

/// The absolute URL a `Location` header names, relative to `base`.
fn resolve_location(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let Some((scheme, rest)) = base.split_once("://") else {
        return location.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let root = format!("{scheme}://{}", &rest[..authority_end]);
    if let Some(net) = location.strip_prefix("//") {
        return format!("{scheme}://{net}");
    }
    if location.starts_with('/') {
        return format!("{root}{location}");
    }
    // A relative path: next to the last segment of the base path.
    let path = &rest[authority_end..];
    let path = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    format!("{root}{dir}{location}")
}

impl Client {
    pub fn new(opts: ClientOptions) -> Result<Client, PromError> {
        let (url, userinfo) = split_userinfo(opts.url.trim_end_matches('/'));
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(PromError::Config(format!(
                "--prometheus `{}` must be an http:// or https:// URL",
                redact_url_userinfo(&opts.url)
            )));
        }
        // Userinfo in the URL is basic auth, unless auth is given otherwise.
        let basic_auth = match (&opts.bearer_token, &opts.basic_auth, userinfo) {
            (None, None, Some(ui)) => Some(ui),
            (_, b, _) => b.clone(),
        };
        // Redirects are followed by hand (see `call`).
        let mut builder = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent("redline-slo");
        if let Some(ca) = &opts.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                PromError::Config(format!("cannot read the CA file {}: {e}", ca.display()))
            })?;
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(&pem) {
                if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
                    certs.push(c.to_owned());
                }
            }
            if certs.is_empty() {
                return Err(PromError::Config(format!(
                    "{} holds no PEM certificate: pass the CA bundle that signed Prometheus's certificate",
                    ca.display()
                )));
            }
            builder = builder.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
                    .build(),
            );
        }
        let auth = match (&opts.bearer_token, &basic_auth) {
            (Some(t), _) => Some(format!("Bearer {}", t.trim())),
            (None, Some((u, p))) => {
                Some(format!("Basic {}", base64(format!("{u}:{p}").as_bytes())))
            }
            _ => None,
        };
        Ok(Client {
            agent: builder.build().into(),
            opts: ClientOptions {
                url,
                basic_auth,
                ..opts
            },
            auth,
            warnings: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// The warnings since the last call, each once.
    pub fn take_warnings(&self) -> Vec<String> {
        let mut w = self.warnings.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<String> = Vec::new();
        for m in w.drain(..) {
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }

    /// One GET, following redirects: the credentials and `--header` values
    /// go only to the origin of `--prometheus`.
    fn call(
        &self,
        url: &str,
        params: &[(&str, String)],
    ) -> Result<ureq::http::Response<ureq::Body>, String> {
        let home = origin(&self.opts.url);
        let mut target = url.to_string();
        let mut trusted = true;
        for hop in 0..=MAX_REDIRECTS {
            let mut req = self.agent.get(&target);
            if hop == 0 {
                for (k, v) in params {
                    req = req.query(*k, v);
                }
            }
            if trusted {
                if let Some(a) = &self.auth {
                    req = req.header("Authorization", a);
                }
                for (k, v) in &self.opts.headers {
                    req = req.header(k.as_str(), v.as_str());
                }
            }
            let resp = req
                .call()
                .map_err(|e| redact(&e.to_string()).into_owned())?;
            let status = resp.status().as_u16();
            let location = resp.headers().get("location").and_then(|v| v.to_str().ok());
            let (true, Some(location)) = (matches!(status, 301 | 302 | 303 | 307 | 308), location)
            else {
                return Ok(resp);
            };
            let next = resolve_location(&target, location);
            if trusted && origin(&next) != home {
                trusted = false;
                let to = origin(&next).map_or_else(
                    || "a URL redline cannot place".to_string(),
                    |(scheme, host, port)| format!("{scheme}://{host}:{port}"),
                );
                self.warnings
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!(
                        "Prometheus at {} redirected to another host ({to}): followed without \
                         the credentials and --header values",
                        self.opts.url
                    ));
            }
            target = next;
        }
        Err(format!("more than {MAX_REDIRECTS} redirects"))
    }

    pub fn url(&self) -> &str {
        &self.opts.url
    }

    fn get(
        &self,
        path: &str,
        params: &[(&str, String)],
        query: &str,
    ) -> Result<serde_json::Value, PromError> {
        let url = format!("{}{path}", self.opts.url);
        let mut attempt = 0;
        loop {
            let retryable: String = match self.call(&url, params) {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.body_mut().read_to_string();
                    match (status, body) {
                        (_, Err(e)) => {
                            if attempt >= self.opts.retries {
                                return Err(PromError::Malformed {
                                    query: query.into(),
                                    detail: format!("cannot read the body: {e}"),
                                });
                            }
                            format!("cannot read the body: {e}")
                        }
                        (200..=299, Ok(body)) => return parse_envelope(&body, query, status),
                        (429 | 500..=599, Ok(body)) if attempt < self.opts.retries => {
                            format!("HTTP {status}: {}", short(&body))
                        }
                        (_, Ok(body)) => {
                            // Prometheus puts its reason in a JSON envelope on 4xx/5xx.
                            return match parse_envelope(&body, query, status) {
                                Err(e @ PromError::Rejected { .. }) => Err(e),
                                _ => Err(PromError::Rejected {
                                    query: query.into(),
                                    status,
                                    detail: short(&body),
                                }),
                            };
                        }
                    }
                }
                Err(detail) => {
                    if attempt >= self.opts.retries {
                        return Err(PromError::Unreachable {
                            url: self.opts.url.clone(),
                            detail: format!(
                                "{detail} (after {} attempt{})",
                                attempt + 1,
                                if attempt == 0 { "" } else { "s" }
                            ),
                        });
                    }
                    detail
                }
            };
            let _ = retryable;
            let wait = self.opts.backoff * 2u32.saturating_pow(attempt);
            std::thread::sleep(wait.min(Duration::from_secs(10)));
            attempt += 1;
        }
    }

    /// Instant query that must return exactly one sample. Returns the
    /// value, which may be NaN (e.g. 0/0 when there was no traffic).
    pub fn query_one(&self, query: &str, at: i64) -> Result<f64, PromError> {
        let data = self.get(
            "/api/v1/query",
            &[("query", query.to_string()), ("time", at.to_string())],
            query,
        )?;
        let mal = |d: &str| PromError::Malformed {
            query: query.into(),
            detail: d.into(),
        };
        let kind = data
            .get("resultType")
            .and_then(|v| v.as_str())
            .ok_or_else(|| mal("no `data.resultType`"))?;
        let result = data.get("result").ok_or_else(|| mal("no `data.result`"))?;
        match kind {
            "scalar" => sample_value(result)
                .ok_or_else(|| mal("the scalar is not a [time, \"value\"] pair")),
            "vector" => {
                let items = result
                    .as_array()
                    .ok_or_else(|| mal("`data.result` is not a list"))?;
                match items.len() {
                    0 => Err(PromError::NoData {
                        query: query.into(),
                    }),
                    1 => items[0]
                        .get("value")
                        .and_then(sample_value)
                        .ok_or_else(|| mal("the sample is not a [time, \"value\"] pair")),
                    n => Err(PromError::TooManySeries {
                        query: query.into(),
                        count: n,
                    }),
                }
            }
            other => Err(mal(&format!(
                "result type `{other}` where a vector was expected"
            ))),
        }
    }

    /// Range query that must return one series (or none: an empty list).
    /// Long ranges are split to stay under the 11,000 points per series
    /// that Prometheus allows.
    pub fn query_range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Point>, PromError> {
        let mut out = Vec::new();
        let chunk = step * 10_000;
        let mut from = start;
        while from <= end {
            let to = (from + chunk - step).min(end);
            let data = self.get(
                "/api/v1/query_range",
                &[
                    ("query", query.to_string()),
                    ("start", from.to_string()),
                    ("end", to.to_string()),
                    ("step", step.to_string()),
                ],
                query,
            )?;
            let mal = |d: &str| PromError::Malformed {
                query: query.into(),
                detail: d.into(),
            };
            if data.get("resultType").and_then(|v| v.as_str()) != Some("matrix") {
                return Err(mal("`data.resultType` is not `matrix`"));
            }
            let items = data
                .get("result")
                .and_then(|r| r.as_array())
                .ok_or_else(|| mal("`data.result` is not a list"))?;
            match items.len() {
                0 => {}
                1 => {
                    let values = items[0]
                        .get("values")
                        .and_then(|v| v.as_array())
                        .ok_or_else(|| mal("no `values` list"))?;
                    for v in values {
                        let t = v
                            .get(0)
                            .and_then(|t| t.as_f64())
                            .ok_or_else(|| mal("a point has no time"))?;
                        let x = sample_value(v)
                            .ok_or_else(|| mal("a point is not a [time, \"value\"] pair"))?;
                        out.push((t.round() as i64, x));
                    }
                }
                n => {
                    return Err(PromError::TooManySeries {
                        query: query.into(),
                        count: n,
                    });
                }
            }
            from = to + step;
        }
        Ok(out)
    }
}

fn short(body: &str) -> String {
    let t: String = body.trim().chars().take(200).collect();
    if t.is_empty() { "empty body".into() } else { t }
}

fn sample_value(v: &serde_json::Value) -> Option<f64> {
    let arr = v.as_array()?;
    if arr.len() != 2 || !arr[0].is_number() {
        return None;
    }
    match arr[1].as_str()? {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        s => s.parse::<f64>().ok(),
    }
}

fn parse_envelope(body: &str, query: &str, status: u16) -> Result<serde_json::Value, PromError> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| PromError::Malformed {
        query: query.into(),
        detail: format!("not JSON ({e}): {}", short(body)),
    })?;
    match v.get("status").and_then(|s| s.as_str()) {
        Some("success") => v.get("data").cloned().ok_or_else(|| PromError::Malformed {
            query: query.into(),
            detail: "`status` is success but there is no `data`".into(),
        }),
        Some("error") => Err(PromError::Rejected {
            query: query.into(),
            status,
            detail: format!(
                "{}: {}",
                v.get("errorType")
                    .and_then(|s| s.as_str())
                    .unwrap_or("error"),
                v.get("error")
                    .and_then(|s| s.as_str())
                    .unwrap_or("no reason given")
            ),
        }),
        _ => Err(PromError::Malformed {
            query: query.into(),
            detail: format!("no `status` field: {}", short(body)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_becomes_basic_auth_and_leaves_the_url() {
        let (url, ui) = split_userinfo("http://al%40ice:p%3Ass@prom:9090/x");
        assert_eq!(url, "http://prom:9090/x");
        assert_eq!(ui, Some(("al@ice".into(), "p:ss".into())));
        assert_eq!(split_userinfo("http://prom/a@b").1, None);
        let c = Client::new(ClientOptions {
            url: "http://u:hunter2@127.0.0.1:1/".into(),
            ..ClientOptions::default()
        })
        .unwrap();
        assert_eq!(c.url(), "http://127.0.0.1:1");
        assert_eq!(c.auth.as_deref(), Some("Basic dTpodW50ZXIy"));
        let err = Client::new(ClientOptions {
            url: "ftp://u:hunter2@host".into(),
            ..ClientOptions::default()
        })
        .err()
        .unwrap();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn origins_and_locations() {
        assert_eq!(origin("http://Prom:80/x"), origin("http://prom/y"));
        assert_ne!(origin("http://prom:9090"), origin("http://prom:9091"));
        assert_ne!(origin("http://prom"), origin("https://prom"));
        assert_eq!(
            resolve_location("http://a:1/p/api/v1/query?x=1", "/other"),
            "http://a:1/other"
        );
        assert_eq!(
            resolve_location("http://a:1/p/api/v1/query", "query_range"),
            "http://a:1/p/api/v1/query_range"
        );
        assert_eq!(
            resolve_location("http://a:1/", "http://b:2/z"),
            "http://b:2/z"
        );
        assert_eq!(resolve_location("https://a/", "//b/z"), "https://b/z");
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn values_parse_special_floats() {
        let v: serde_json::Value = serde_json::from_str(r#"[1, "NaN"]"#).unwrap();
        assert!(sample_value(&v).unwrap().is_nan());
        let v: serde_json::Value = serde_json::from_str(r#"[1, 3]"#).unwrap();
        assert_eq!(sample_value(&v), None);
    }
}
