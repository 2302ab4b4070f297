//! What redline never prints: which environment variables hold secrets
//! (docs/rules.md, RL704), which values are secrets whatever their name (a URL
//! with a password, a DSN with `password=`), and the redaction of such
//! values in any text redline shows.
//!
//! This is the one list: RL704 and RL705, `redline env`, `redline exec`,
//! the code frames of every report and `redline slo` all ask here.

use std::borrow::Cow;

/// The last `_`-separated words of a name that make it a secret (RL704).
const SECRET_SUFFIXES: [&[&str]; 10] = [
    &["SECRET"],
    &["PASSWORD"],
    &["PASSWD"],
    &["PASS"],
    &["TOKEN"],
    &["API", "KEY"],
    &["SECRET", "KEY"],
    &["PRIVATE", "KEY"],
    &["ACCESS", "KEY"],
    &["CREDENTIALS"],
];

/// Whether an environment variable of this name holds a secret:
/// `JWT_SECRET`, and names whose last `_`-separated words are `SECRET`,
/// `PASSWORD`, `PASSWD`, `PASS`, `TOKEN`, `API_KEY`, `SECRET_KEY`,
/// `PRIVATE_KEY`, `ACCESS_KEY` or `CREDENTIALS` (any case; the name may be
/// just those words). `DB_PASS` and `AWS_SECRET_ACCESS_KEY` are secret,
/// `PASSWORD_MIN_LENGTH` and `PASSTHROUGH` are not.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split('_').filter(|w| !w.is_empty()).collect();
    upper == "JWT_SECRET" || SECRET_SUFFIXES.iter().any(|suffix| words.ends_with(suffix))
}

/// A Kubernetes `$(VAR)` reference, the whole of `s`.
fn is_reference(s: &str) -> bool {
    s.len() > 3 && s.starts_with("$(") && s.ends_with(')') && !s[2..].contains('(')
}

/// Whether a value is a secret whatever its variable's name: a URL whose
/// userinfo holds a password (`scheme://user:pass@host`), or a DSN with a
/// `password=` parameter. A password that is a `$(VAR)` reference is not
/// a literal secret.
pub fn is_secret_value(value: &str) -> bool {
    !password_ranges(value.as_bytes(), false).is_empty()
}

/// A byte that may stand in the authority of a URL quoted in text.
fn is_userinfo_byte(b: u8) -> bool {
    !matches!(
        b,
        b'/' | b'?' | b'#' | b'@' | b'"' | b'\'' | b'`' | b'<' | b'>' | b'\\'
    ) && !b.is_ascii_whitespace()
        && !b.is_ascii_control()
}

/// Byte ranges of secrets in `text`: the password of every
/// `scheme://user:password@` and the value of every `password=` (any
/// case). With `display`, the whole userinfo of every URL (`user@`
/// included) and `$(VAR)` references too (harmless to mask: this is what
/// is shown); without, only literal passwords (what RL704 reports).
fn password_ranges(text: &[u8], display: bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let keep = |r: &[u8]| !r.is_empty() && (display || !is_reference(&String::from_utf8_lossy(r)));
    // URL userinfo: after each `://`, the authority up to the last `@`
    // before a delimiter.
    let mut i = 0;
    while let Some(at) = find(&text[i..], b"://") {
        let start = i + at + 3;
        let mut end = start;
        while end < text.len() && is_userinfo_byte(text[end]) {
            end += 1;
        }
        // userinfo ends at an `@` (the authority's last one before a
        // delimiter: a password may hold `@` only percent-encoded, but be
        // generous).
        let mut at_pos = None;
        let mut j = end;
        while j < text.len() && text[j] == b'@' {
            at_pos = Some(j);
            j += 1;
            while j < text.len() && is_userinfo_byte(text[j]) {
                j += 1;
            }
        }
        if display && let Some(at_pos) = at_pos {
            out.push((start, at_pos));
        } else if let Some(at_pos) = at_pos
            && let Some(colon) = text[start..at_pos].iter().position(|b| *b == b':')
        {
            let (ps, pe) = (start + colon + 1, at_pos);
            if keep(&text[ps..pe]) {
                out.push((ps, pe));
            }
        }
        i = start;
    }
    // `password=value` (DSN keyword/value pairs, URL query parameters).
    let lower = text.to_ascii_lowercase();
    let mut i = 0;
    while let Some(at) = find(&lower[i..], b"password=") {
        let key = i + at;
        let boundary =
            key == 0 || !(lower[key - 1].is_ascii_alphanumeric() || lower[key - 1] == b'_');
        let mut start = key + b"password=".len();
        i = start;
        if !boundary {
            continue;
        }
        let end = if text.get(start) == Some(&b'\'') {
            // libpq quoting: 'with spaces'
            start += 1;
            let mut e = start;
            while e < text.len() && text[e] != b'\'' && text[e] != b'\n' {
                e += if text[e] == b'\\' { 2 } else { 1 };
            }
            e.min(text.len())
        } else {
            let mut e = start;
            while e < text.len()
                && !text[e].is_ascii_whitespace()
                && !matches!(text[e], b'&' | b';' | b'"' | b'\'' | b'`' | b',' | b'}')
            {
                e += 1;
            }
            e
        };
        if keep(&text[start..end]) {
            out.push((start, end));
        }
    }
    out.sort_unstable();
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Overwrites `ranges` of `bytes` with `*`, one for one, keeping line
/// breaks (so every offset, line and column stays where it was).
pub fn mask_ranges(bytes: &mut [u8], ranges: &[(usize, usize)]) {
    for &(s, e) in ranges {
        let e = e.min(bytes.len());
        for b in bytes.iter_mut().take(e).skip(s) {
            if *b != b'\n' && *b != b'\r' {
                *b = b'*';
            }
        }
    }
}

/// `text` with every URL userinfo and `password=` value masked (same
/// length, so positions stay right). Borrowed when there is nothing to
/// mask.
pub fn redact_bytes(text: &[u8]) -> Cow<'_, [u8]> {
    let ranges = password_ranges(text, true);
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut owned = text.to_vec();
    mask_ranges(&mut owned, &ranges);
    Cow::Owned(owned)
}

/// [`redact_bytes`] for a string.
pub fn redact(text: &str) -> Cow<'_, str> {
    match redact_bytes(text.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        // A masked multi-byte character becomes several `*`: still UTF-8.
        Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
    }
}

/// A URL for display: its userinfo (`user:pass@`, `token@`) replaced by
/// `***@`. Anything else is returned as it is.
pub fn redact_url_userinfo(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://") else {
        return Cow::Borrowed(url);
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!("{}://***@{}", &url[..scheme_end], &rest[at + 1..])),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_follow_rl704() {
        for name in [
            "JWT_SECRET",
            "SECRET",
            "PASSWORD",
            "password",
            "DB_PASS",
            "DB_PASSWD",
            "DB_PASSWORD",
            "GITHUB_TOKEN",
            "TOKEN",
            "STRIPE_API_KEY",
            "API_KEY",
            "SECRET_KEY",
            "DJANGO_SECRET_KEY",
            "PRIVATE_KEY",
            "TLS_PRIVATE_KEY",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY",
            "CREDENTIALS",
            "GCP_CREDENTIALS",
            "APP_SECRET",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "PASSWORD_MIN_LENGTH",
            "PASSTHROUGH",
            "BYPASS",
            "TOKEN_TTL",
            "KEY",
            "APIKEY_HEADER",
            "SERVICE_NAME",
            "DATABASE_URL",
            "SECRETS_DIR",
            "",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn secret_values() {
        assert!(is_secret_value("postgres://u:p@db/x"));
        assert!(is_secret_value("mysql://u:p%40ss@db:3306/x"));
        assert!(is_secret_value("redis://:hunter2@cache:6379/0"));
        assert!(is_secret_value("http://proxy-user:pw@proxy:3128"));
        assert!(is_secret_value(
            "postgres://db/x?sslmode=require&password=s3cret"
        ));
        assert!(is_secret_value("host=db user=u password=s3cret dbname=x"));
        assert!(is_secret_value("host=db password='with space'"));
        assert!(!is_secret_value("postgres://u@db/x"));
        assert!(!is_secret_value("postgres://u:@db/x"));
        assert!(!is_secret_value("postgres://u:$(DB_PASSWORD)@db/x"));
        assert!(!is_secret_value("host=db password=$(DB_PASSWORD)"));
        assert!(!is_secret_value("postgres://db/x?user=u"));
        assert!(!is_secret_value("postgres://db/path:with@colon"));
        assert!(!is_secret_value("not a url"));
        assert!(!is_secret_value("/var/run/secrets/creds.json"));
        assert!(!is_secret_value("old_password=1"));
    }

    #[test]
    fn redaction_keeps_positions() {
        let line = "  - {name: DATABASE_URL, value: \"postgres://app:hunter2@db:5432/x\"}";
        let red = redact(line);
        assert_eq!(red.len(), line.len());
        assert!(!red.contains("hunter2"), "{red}");
        assert!(red.contains("postgres://***********@db:5432/x"), "{red}");
        let dsn = "dsn: host=db password=hunter2 user=x";
        assert_eq!(redact(dsn), "dsn: host=db password=******* user=x");
        let flow = "{a: redis://:hunter2@cache}";
        assert_eq!(redact(flow), "{a: redis://********@cache}");
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn url_userinfo_for_display() {
        assert_eq!(
            redact_url_userinfo("http://user:PASS@prom:9090/x"),
            "http://***@prom:9090/x"
        );
        assert_eq!(
            redact_url_userinfo("https://token@prom"),
            "https://***@prom"
        );
        assert_eq!(redact_url_userinfo("http://prom:9090"), "http://prom:9090");
        assert_eq!(redact_url_userinfo("http://prom/a@b"), "http://prom/a@b");
    }
}
