//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning accepts it.
//!
//! Columns are given in Unicode code points (`columnKind`), converted from
//! redline's byte columns with the file's text; fixes are byte-exact
//! (`byteOffset`/`byteLength` regions). Each result carries the stable
//! fingerprint of [`crate::fingerprints`] so that code scanning tracks a
//! finding across commits.

use super::{RenderOptions, Sources, char_column};
use crate::{Applicability, Diagnostic, LineIndex, RuleMeta, Severity, fingerprints};
use serde_json::{Value, json};
use std::collections::HashMap;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://example.invalid/redline";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A relative path as a URI reference (percent-encoded, `/`-separated);
/// an absolute path as a `file://` URI.
fn artifact_location(path: &str) -> Value {
    let mut encoded = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    if path.starts_with('/') {
        json!({ "uri": format!("file://{encoded}") })
    } else {
        json!({ "uri": encoded, "uriBaseId": "%SRCROOT%" })
    }
}

fn rule_descriptor(r: &&RuleMeta) -> Value {
    let fix = match r.fix {
        Some(Applicability::Safe) => "safe",
        Some(Applicability::Unsafe) => "unsafe",
        Some(Applicability::DisplayOnly) => "suggestion",
        None => "none",
    };
    json!({
        "id": r.id,
        "name": r.name,
        "shortDescription": { "text": r.finds },
        "fullDescription": { "text": r.finds },
        "help": { "text": r.documentation(), "markdown": r.documentation() },
        "defaultConfiguration": { "level": level(r.severity) },
        "properties": { "tags": ["redline"], "fix": fix },
    })
}

/// The SARIF log of one run.
pub fn sarif_report(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    options: RenderOptions<'_>,
) -> Value {
    let mut rules: Vec<Value> = options.rules.iter().map(rule_descriptor).collect();
    let mut rule_index: HashMap<&str, usize> = options
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i))
        .collect();
    // A finding of a rule the catalog does not list still needs a descriptor.
    for d in diagnostics {
        if !rule_index.contains_key(d.rule.id) {
            rule_index.insert(d.rule.id, rules.len());
            rules.push(json!({ "id": d.rule.id, "name": d.rule.name }));
        }
    }
    let fps = fingerprints(diagnostics, sources);
    let mut indexes: HashMap<&str, LineIndex> = HashMap::new();
    let results: Vec<Value> = diagnostics
        .iter()
        .zip(fps)
        .map(|(d, fp)| {
            let src = sources.get(&d.path);
            if let Some(s) = src {
                indexes
                    .entry(d.path.as_str())
                    .or_insert_with(|| LineIndex::new(s));
            }
            let source = src.and_then(|s| Some((&s[..], indexes.get(d.path.as_str())?)));
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let mut result = json!({
                "ruleId": d.rule.id,
                "ruleIndex": rule_index[d.rule.id],
                "level": level(d.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact_location(&d.path),
                        "region": {
                            "startLine": d.span.line,
                            "startColumn": char_column(source, d.span.line, d.span.column),
                            "endLine": d.span.end_line,
                            "endColumn": char_column(source, d.span.end_line, d.span.end_column),
                        }
                    }
                }],
                "partialFingerprints": { "redline/v1": fp },
            });
            if let Some(fix) = &d.fix {
                let description = match fix.applicability {
                    Applicability::Safe => "safe fix (redline check --fix)",
                    Applicability::Unsafe => "unsafe fix (redline check --fix --unsafe-fixes)",
                    Applicability::DisplayOnly => "suggested fix",
                };
                result["fixes"] = json!([{
                    "description": { "text": description },
                    "artifactChanges": [{
                        "artifactLocation": artifact_location(&d.path),
                        "replacements": fix.edits.iter().map(|e| json!({
                            "deletedRegion": {
                                "byteOffset": e.span.start_byte,
                                "byteLength": e.span.end_byte - e.span.start_byte,
                            },
                            "insertedContent": { "text": e.content },
                        })).collect::<Vec<_>>(),
                    }],
                }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "redline",
                    "version": options.tool_version,
                    "semanticVersion": options.tool_version,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}
