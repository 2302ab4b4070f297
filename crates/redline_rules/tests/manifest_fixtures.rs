//! Manifest fixture harness: every file in tests/fixtures/manifests/ is
//! its own expectation.
//!
//! - `# want RL701 RL703:info "message part"` at the end of a line expects
//!   those findings on that line (the rule's default severity unless
//!   given; see `harness/mod.rs`). JSON cannot hold comments: a
//!   `NAME.json.want` file lists `LINE RULE[:severity]` lines.
//! - `# context: go=1.25 automaxprocs required-env=A,B
//!   required-env-containers=api` lines set up the ManifestContext.
//! - A subdirectory of tests/fixtures/ may carry its own `redline.toml`:
//!   its files start from the context that file configures (as
//!   `redline check` builds it), then apply their `# context:` lines.
//!
//! The harness fails on a missing AND on an unexpected finding.

mod harness;

use redline_k8s::ManifestContext;
use redline_rules::manifests::check_manifest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifests")
}

/// The fixtures, at the top level and one directory down.
fn fixture_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            for inner in std::fs::read_dir(&p).unwrap() {
                files.push(inner.unwrap().path());
            }
        } else {
            files.push(p);
        }
    }
    files.retain(|p| redline_k8s::is_manifest_path(p));
    files.sort();
    files
}

/// The fixture's name in messages: its path below tests/fixtures/.
fn fixture_name(path: &Path) -> String {
    path.strip_prefix(fixtures_dir())
        .unwrap_or(path)
        .to_string_lossy()
        .to_string()
}

fn context_for(path: &Path, text: &str) -> ManifestContext {
    harness::manifest_context(path, text)
}

#[test]
fn every_fixture_matches_its_markers() {
    let files = fixture_files();
    assert!(files.len() >= 8, "fixtures missing: {files:?}");
    let mut failures = Vec::new();
    let mut per_rule: BTreeMap<String, usize> = BTreeMap::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let ctx = context_for(path, &text);
        let name = fixture_name(path);
        let diags = check_manifest(&name, text.as_bytes(), &ctx);
        for d in &diags {
            *per_rule.entry(d.rule.id.to_string()).or_insert(0) += 1;
            assert!(d.span.column >= 1 && d.span.line >= 1);
            if d.rule.id != "RL000" {
                // Reported at a `name:` key (or `"name":` in JSON).
                let line = text.lines().nth(d.span.line - 1).unwrap();
                let at = &line[d.span.column - 1..];
                assert!(
                    at.starts_with("name") || at.starts_with("\"name\""),
                    "{name}:{}: {} not at a name key: {line}",
                    d.span.line,
                    d.rule
                );
            }
        }
        failures.extend(harness::compare(
            &harness::markers_of(&fixtures_dir(), path),
            &diags,
        ));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    for rule in [
        "RL000", "RL701", "RL702", "RL703", "RL704", "RL705", "RL801",
    ] {
        assert!(per_rule.contains_key(rule), "no fixture exercises {rule}");
    }
}

/// Counts `# want` markers per rule and negatives (lines marked
/// `# negative RL70x`), so the fixture set keeps ≥ 6 of each.
#[test]
fn fixture_set_has_six_positives_and_negatives_per_rule() {
    let mut pos: BTreeMap<String, usize> = BTreeMap::new();
    let mut neg: BTreeMap<String, usize> = BTreeMap::new();
    for path in fixture_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        for m in harness::markers_of(&fixtures_dir(), &path) {
            *pos.entry(m.rule).or_insert(0) += 1;
        }
        for line in text.lines() {
            if let Some(pos) = line.find("# negative ") {
                for rule in line[pos + "# negative ".len()..].split_whitespace() {
                    *neg.entry(rule.to_string()).or_insert(0) += 1;
                }
            }
        }
    }
    for rule in ["RL701", "RL702", "RL703", "RL704", "RL705"] {
        let p = pos.get(rule).copied().unwrap_or(0);
        let n = neg.get(rule).copied().unwrap_or(0);
        assert!(p >= 6, "{rule}: only {p} positive fixtures");
        assert!(n >= 6, "{rule}: only {n} negative fixtures");
    }
}

/// Secret values in the fixtures never appear in any message or help.
#[test]
fn secrets_never_appear_in_messages() {
    let secrets = [
        "Sup3rSecretJwtValueThatIsLongEnough123",
        "hunter2",
        "sk_live_51Habc",
        "ghp_abcdef123456",
        "s3cr3tP4ss",
        "tooShortS3cret",
    ];
    let mut checked = 0;
    for path in fixture_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let ctx = context_for(&path, &text);
        for d in check_manifest("f.yaml", text.as_bytes(), &ctx) {
            checked += 1;
            for s in secrets {
                assert!(
                    !d.message.contains(s) && !d.help.as_deref().unwrap_or("").contains(s),
                    "{}: {} leaks a secret: {}",
                    path.display(),
                    d.rule,
                    d.message
                );
            }
        }
    }
    assert!(checked > 30, "too few diagnostics checked: {checked}");
    let used = secrets
        .iter()
        .filter(|s| {
            fixture_files()
                .iter()
                .any(|p| std::fs::read_to_string(p).unwrap().contains(*s))
        })
        .count();
    assert_eq!(
        used,
        secrets.len(),
        "every listed secret is in some fixture"
    );
}

/// Arbitrary damage to the fixtures never panics.
#[test]
fn mutated_fixtures_never_panic() {
    let ctx = ManifestContext::default();
    for path in fixture_files() {
        let bytes = std::fs::read(&path).unwrap();
        for step in [1usize, 7, 13] {
            for cut in (0..bytes.len()).step_by(step * 17) {
                let _ = check_manifest("m.yaml", &bytes[..cut], &ctx);
                let mut m = bytes.clone();
                m[cut] = b"{[:- \"'\t\n&*!|>"[cut % 14];
                let _ = check_manifest("m.yaml", &m, &ctx);
            }
        }
    }
}

/// A longer random-mutation run (`cargo test -p redline_rules --release
/// --test manifest_fixtures -- --ignored`): insertions, deletions and byte flips
/// of every fixture; none may panic or hang.
#[test]
#[ignore]
fn fuzz_random_mutations() {
    let ctx = ManifestContext::default();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let tokens: [&[u8]; 12] = [
        b"{", b"}", b"[", b"]", b": ", b"- ", b"\n  ", b"&a ", b"*a", b"<<: ", b"\"", b"\t",
    ];
    let mut runs = 0;
    for path in fixture_files() {
        let base = std::fs::read(&path).unwrap();
        for _ in 0..5_000 {
            let mut m = base.clone();
            for _ in 0..(1 + next() % 4) {
                let at = (next() as usize) % (m.len() + 1);
                match next() % 3 {
                    0 => {
                        let t = tokens[(next() as usize) % tokens.len()];
                        m.splice(at..at, t.iter().copied());
                    }
                    1 => {
                        let end = (at + (next() as usize) % 16).min(m.len());
                        m.drain(at..end);
                    }
                    _ => {
                        if at < m.len() {
                            m[at] = next() as u8;
                        }
                    }
                }
            }
            let _ = check_manifest("fuzz.yaml", &m, &ctx);
            runs += 1;
        }
    }
    assert!(runs >= 40_000, "{runs}");
}
