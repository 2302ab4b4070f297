//! No panic on any input: every prefix and many byte-mutations of the
//! fixtures go through loading, checking and rule generation.

use redline_slo::{check, prometheus_rules, spec};

#[test]
fn loaders_never_panic_on_truncated_or_mutated_specs() {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut inputs = Vec::new();
    for name in ["sloth.yaml", "openslo.yaml", "broken.yaml"] {
        let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        for (i, _) in text.char_indices() {
            inputs.push(text[..i].to_string());
        }
        // Deterministic mutations: replace one byte with YAML-significant characters.
        let bytes = text.as_bytes();
        for (k, i) in (0..bytes.len()).step_by(7).enumerate() {
            let mut m = bytes.to_vec();
            m[i] = b":-[]{}'\"\n #&*!|>"[k % 16];
            inputs.push(String::from_utf8_lossy(&m).into_owned());
        }
    }
    let mut loaded_any = 0;
    for input in &inputs {
        let loaded = spec::load("fuzz.yaml", input, spec::DEFAULT_WINDOW_SECS);
        let problems = check::check(&loaded.slos, &loaded.names);
        for p in loaded.problems.iter().chain(&problems) {
            assert!(
                p.pos.line >= 1 && p.pos.column >= 1,
                "bad position {p} for input:\n{input}"
            );
        }
        if !loaded.slos.is_empty() {
            loaded_any += 1;
            assert!(prometheus_rules::generate(&loaded.slos).starts_with("# Generated"));
        }
    }
    assert!(
        loaded_any > 10,
        "the mutations should leave some specs valid"
    );
}
