//! The result cache of `redline check`.
//!
//! A package's findings depend on all of its files, so the unit is one
//! directory of Go files (and one manifest file): its key hashes every
//! file's displayed path and content together with the configuration and
//! the redline binary itself (version and executable bytes, so a rebuilt
//! redline never trusts results of an older build). An entry is the
//! serialized findings behind a magic number and an XXH3-128 checksum of the
//! payload; an entry that is truncated, corrupt or of another format is
//! ignored and rebuilt, never trusted. The payload also carries the entry's
//! own key and layout version, checked on every read: an entry found under
//! another key (a file copied or renamed in the cache directory) is a miss,
//! so it can never make a dirty package look clean. Entries are written to a temporary
//! file and renamed into place, so concurrent runs never read half an entry.
//!
//! The cache lives outside the scanned tree: `--cache-dir`,
//! `REDLINE_CACHE_DIR`, `$XDG_CACHE_HOME/redline` or `~/.cache/redline`.

use crate::config::Config;
use redline_diagnostics::{Applicability, Diagnostic, Edit, Fix, Severity, Span};
use redline_rules::find_rule;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use xxhash_rust::xxh3::{Xxh3, xxh3_128};

const MAGIC: &[u8; 8] = b"RLCACHE2";
/// Bumped whenever the entry layout changes.
const LAYOUT: &str = "v2";
/// The layout version written inside every entry.
const ENTRY_VERSION: u32 = 2;

/// An open cache directory and the part of every key that does not depend
/// on the files (binary, configuration).
pub struct Cache {
    dir: PathBuf,
    base: u128,
    pub hits: AtomicUsize,
    pub misses: AtomicUsize,
    write_failed: AtomicBool,
    /// The warning [`Cache::put`] left for the caller to show.
    write_error: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

/// What is stored for one directory or file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Entry {
    /// The entry layout this binary writes (`ENTRY_VERSION`).
    pub version: u32,
    /// The key the entry was stored under, as 32 hex digits.
    pub key: String,
    pub files_scanned: usize,
    pub diagnostics: Vec<StoredDiagnostic>,
}

/// A fix: applicability and edits (span, replacement).
type StoredFix = (String, Vec<([usize; 6], String)>);

#[derive(Debug, Serialize, Deserialize)]
pub struct StoredDiagnostic {
    rule: String,
    severity: String,
    path: String,
    span: [usize; 6],
    message: String,
    help: Option<String>,
    fix: Option<StoredFix>,
}

fn span_array(s: &Span) -> [usize; 6] {
    [
        s.line,
        s.column,
        s.end_line,
        s.end_column,
        s.start_byte,
        s.end_byte,
    ]
}

fn span_from(a: [usize; 6]) -> Span {
    Span {
        line: a[0],
        column: a[1],
        end_line: a[2],
        end_column: a[3],
        start_byte: a[4],
        end_byte: a[5],
    }
}

fn applicability_name(a: Applicability) -> &'static str {
    match a {
        Applicability::Safe => "safe",
        Applicability::Unsafe => "unsafe",
        Applicability::DisplayOnly => "display-only",
    }
}

impl StoredDiagnostic {
    pub fn from_diagnostic(d: &Diagnostic) -> StoredDiagnostic {
        StoredDiagnostic {
            rule: d.rule.to_string(),
            severity: d.severity.as_str().to_string(),
            path: d.path.clone(),
            span: span_array(&d.span),
            message: d.message.clone(),
            help: d.help.clone(),
            fix: d.fix.as_ref().map(|f| {
                (
                    applicability_name(f.applicability).to_string(),
                    f.edits
                        .iter()
                        .map(|e| (span_array(&e.span), e.content.clone()))
                        .collect(),
                )
            }),
        }
    }

    /// `None` when the entry names a rule or level this binary does not
    /// know: the entry is then not trusted.
    fn into_diagnostic(self) -> Option<Diagnostic> {
        let meta = find_rule(&self.rule)?;
        let severity: Severity = self.severity.parse().ok()?;
        let fix = match self.fix {
            None => None,
            Some((a, edits)) => Some(Fix {
                applicability: match a.as_str() {
                    "safe" => Applicability::Safe,
                    "unsafe" => Applicability::Unsafe,
                    "display-only" => Applicability::DisplayOnly,
                    _ => return None,
                },
                edits: edits
                    .into_iter()
                    .map(|(span, content)| Edit {
                        span: span_from(span),
                        content,
                    })
                    .collect(),
            }),
        };
        Some(Diagnostic {
            rule: meta,
            severity,
            path: self.path,
            span: span_from(self.span),
            message: self.message,
            help: self.help,
            fix,
        })
    }
}

/// The default cache directory: `$XDG_CACHE_HOME/redline`, else
/// `~/.cache/redline`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(x);
        if p.is_absolute() {
            return Some(p.join("redline"));
        }
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".cache").join("redline"))
}

impl Cache {
    /// Opens (without creating yet) the cache in `dir` for this binary and
    /// configuration.
    pub fn open(dir: PathBuf, config: &Config) -> Cache {
        let mut h = Xxh3::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(b"\0");
        // The executable's bytes: a rebuilt binary (new or changed rules)
        // must not trust entries of the old one.
        match std::env::current_exe().and_then(std::fs::read) {
            Ok(bytes) => h.update(&xxh3_128(&bytes).to_le_bytes()),
            Err(_) => h.update(b"unknown-executable"),
        }
        h.update(format!("{config:?}").as_bytes());
        if let Some(p) = &config.path
            && let Ok(text) = std::fs::read(p)
        {
            // Sections read by other crates (`[env]`, `[manifests]`).
            h.update(&text);
        }
        Cache {
            dir: dir.join(LAYOUT),
            base: h.digest128(),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
            write_failed: AtomicBool::new(false),
            write_error: std::sync::Arc::new(std::sync::Mutex::new(None)),
        }
    }

    /// Starts a key: the base plus a kind (`go`, `manifest`) and any extra
    /// context; callers add the files.
    pub fn hasher(&self, kind: &str) -> Xxh3 {
        let mut h = Xxh3::new();
        h.update(&self.base.to_le_bytes());
        h.update(kind.as_bytes());
        h.update(b"\0");
        h
    }

    fn entry_path(&self, key: u128) -> PathBuf {
        let hex = key_hex(key);
        self.dir.join(&hex[..2]).join(hex)
    }

    /// The entry for `key` (files scanned, findings), if present and intact.
    pub fn get_entry(&self, key: u128) -> Option<(usize, Vec<Diagnostic>)> {
        let found = self.read(key);
        match &found {
            Some(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            None => self.misses.fetch_add(1, Ordering::Relaxed),
        };
        found
    }

    fn read(&self, key: u128) -> Option<(usize, Vec<Diagnostic>)> {
        let bytes = std::fs::read(self.entry_path(key)).ok()?;
        let payload = decode(&bytes)?;
        let entry: Entry = serde_json::from_slice(payload).ok()?;
        if entry.version != ENTRY_VERSION || entry.key != key_hex(key) {
            return None;
        }
        let diagnostics = entry
            .diagnostics
            .into_iter()
            .map(StoredDiagnostic::into_diagnostic)
            .collect::<Option<Vec<_>>>()?;
        Some((entry.files_scanned, diagnostics))
    }

    /// Stores an entry. Failures only cost speed: the first one is reported
    /// once on stderr, the run goes on.
    pub fn put(&self, key: u128, files_scanned: usize, diagnostics: &[Diagnostic]) {
        let entry = Entry {
            version: ENTRY_VERSION,
            key: key_hex(key),
            files_scanned,
            diagnostics: diagnostics
                .iter()
                .map(StoredDiagnostic::from_diagnostic)
                .collect(),
        };
        if let Err(e) = self.write(key, &entry)
            && !self.write_failed.swap(true, Ordering::Relaxed)
        {
            let message = format!(
                "redline: warning: cannot write the cache in {}: {e} (use --cache-dir DIR or --no-cache)",
                self.dir.display()
            );
            *self.write_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
        }
    }

    /// The warning about the first entry that could not be written, once.
    pub fn take_write_error(&self) -> Option<String> {
        self.write_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    fn write(&self, key: u128, entry: &Entry) -> std::io::Result<()> {
        let payload = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        let path = self.entry_path(key);
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent)?;
        let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
        tmp.write_all(&encode(&payload))?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The same cache directory for another configuration (the base
    /// revision's, for new-code gating).
    pub fn reopen(&self, config: &Config) -> Cache {
        let root = self.dir.parent().unwrap_or(&self.dir).to_path_buf();
        Cache::open(root, config)
    }
}

/// Byte entries kept beside the findings in the same cache directory, one
/// folder per kind, each entry the payload behind the magic number and
/// checksum, its first 16 bytes the key it was stored under:
///
/// - `rendered/`: rendered charts and overlays
///   (`redline_k8s::render_cache`). Their keys hash the tool and every
///   input file (not redline's binary or configuration: what helm and
///   kustomize write does not depend on them), so the working tree and a
///   checkout of the base revision share entries.
/// - `base/`: the base revision's findings of new-code gating
///   (`newcode::BaseFindings`), keyed by the commit and everything else the
///   base check depended on.
#[derive(Clone)]
pub struct BlobStore {
    dir: PathBuf,
    /// Named in the warning when an entry cannot be written.
    what: &'static str,
    write_failed: std::sync::Arc<AtomicBool>,
    /// The cache's warning slot ([`Cache::take_write_error`]).
    write_error: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Cache {
    fn blob_store(&self, folder: &str, what: &'static str) -> BlobStore {
        BlobStore {
            dir: self.dir.join(folder),
            what,
            write_failed: std::sync::Arc::new(AtomicBool::new(false)),
            write_error: self.write_error.clone(),
        }
    }

    /// The render cache in this cache's directory.
    pub fn rendered_store(&self) -> BlobStore {
        self.blob_store("rendered", "render cache")
    }

    /// The base-revision findings of new-code gating.
    pub fn base_store(&self) -> BlobStore {
        self.blob_store("base", "cache of base-revision findings")
    }
}

impl BlobStore {
    fn path(&self, key: u128) -> PathBuf {
        let hex = key_hex(key);
        self.dir.join(&hex[..2]).join(hex)
    }

    /// The bytes stored under `key`, if an intact entry is there.
    pub fn get(&self, key: u128) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let payload = decode(&bytes)?;
        let (stored_key, value) = payload.split_at_checked(16)?;
        (stored_key == key.to_le_bytes()).then(|| value.to_vec())
    }

    /// Stores `value` under `key` (a temporary file renamed into place).
    /// A failure only costs speed: the first is left as the cache's
    /// warning.
    pub fn put(&self, key: u128, value: &[u8]) {
        let write = || -> std::io::Result<()> {
            let path = self.path(key);
            let parent = path.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(parent)?;
            let mut payload = key.to_le_bytes().to_vec();
            payload.extend_from_slice(value);
            let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
            tmp.write_all(&encode(&payload))?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(e) = write()
            && !self.write_failed.swap(true, Ordering::Relaxed)
        {
            let message = format!(
                "redline: warning: cannot write the {} in {}: {e} (use --cache-dir DIR or --no-cache)",
                self.what,
                self.dir.display()
            );
            let mut slot = self.write_error.lock().unwrap_or_else(|e| e.into_inner());
            slot.get_or_insert(message);
        }
    }
}

impl redline_k8s::render_cache::RenderStore for BlobStore {
    fn get(&self, key: u128) -> Option<Vec<u8>> {
        BlobStore::get(self, key)
    }

    fn put(&self, key: u128, value: &[u8]) {
        BlobStore::put(self, key, value);
    }
}

fn key_hex(key: u128) -> String {
    format!("{key:032x}")
}

fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 24);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&xxh3_128(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The payload of an intact entry; `None` for anything else.
fn decode(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(MAGIC)?;
    if rest.len() < 16 {
        return None;
    }
    let (sum, payload) = rest.split_at(16);
    (xxh3_128(payload).to_le_bytes() == sum).then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_entries_round_trip_and_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path().to_path_buf(), &Config::default());
        let store = cache.rendered_store();
        assert_eq!(store.get(5), None);
        store.put(5, b"kind: Deployment\n");
        assert_eq!(store.get(5).as_deref(), Some(&b"kind: Deployment\n"[..]));
        // Another key's entry copied into place is not trusted.
        std::fs::create_dir_all(store.path(6).parent().expect("dir")).expect("mkdir");
        std::fs::copy(store.path(5), store.path(6)).expect("copy");
        assert_eq!(store.get(6), None);
        // Neither is a corrupt one.
        let mut bytes = std::fs::read(store.path(5)).expect("entry");
        let n = bytes.len();
        bytes[n - 2] ^= 1;
        std::fs::write(store.path(5), &bytes).expect("write");
        assert_eq!(store.get(5), None);
    }

    #[test]
    fn corrupt_entries_are_rejected() {
        let good = encode(b"{\"files_scanned\":1,\"diagnostics\":[]}");
        assert!(decode(&good).is_some());
        let mut flipped = good.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 1;
        assert!(decode(&flipped).is_none());
        assert!(decode(&good[..good.len() - 1]).is_none());
        assert!(decode(b"RLCACHE1short").is_none());
        assert!(decode(b"").is_none());
    }

    #[test]
    fn round_trip_and_corruption_on_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path().to_path_buf(), &Config::default());
        let src = b"package p\nvar m = new(map[string]int)\n";
        let span = redline_diagnostics::LineIndex::new(src).span(18, 37);
        let d = Diagnostic {
            rule: redline_rules::find_rule("RL101").expect("a catalog rule"),
            severity: Severity::Error,
            path: "p.go".into(),
            span,
            message: "m".into(),
            help: Some("h".into()),
            fix: Some(Fix {
                applicability: Applicability::Safe,
                edits: vec![Edit {
                    span,
                    content: "&map[string]int{}".into(),
                }],
            }),
        };
        cache.put(7, 1, std::slice::from_ref(&d));
        assert_eq!(cache.get_entry(7), Some((1, vec![d.clone()])));
        assert!(cache.get_entry(8).is_none());
        // An intact entry under another key is not trusted.
        std::fs::create_dir_all(cache.entry_path(8).parent().expect("dir")).expect("mkdir");
        std::fs::copy(cache.entry_path(7), cache.entry_path(8)).expect("copy");
        assert!(cache.get_entry(8).is_none());
        assert_eq!(cache.get_entry(7), Some((1, vec![d.clone()])));
        // Corrupt the entry: it is ignored, not trusted.
        let path = cache.entry_path(7);
        let mut bytes = std::fs::read(&path).expect("entry");
        let n = bytes.len();
        bytes[n - 3] ^= 0x20;
        std::fs::write(&path, &bytes).expect("write");
        assert!(cache.get_entry(7).is_none());
    }
}
