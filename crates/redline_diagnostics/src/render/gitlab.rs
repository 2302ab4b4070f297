//! `--format gitlab`: GitLab Code Quality JSON (a subset of the Code
//! Climate spec). The fingerprint is the stable one of
//! [`crate::fingerprints`], so GitLab's merge-request widget shows a
//! finding as new only when it is.

use super::Sources;
use crate::{Diagnostic, Severity, fingerprints};
use serde_json::{Value, json};

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}

pub(super) fn report(diagnostics: &[Diagnostic], sources: &Sources) -> Value {
    let fps = fingerprints(diagnostics, sources);
    Value::Array(
        diagnostics
            .iter()
            .zip(fps)
            .map(|(d, fp)| {
                json!({
                    "type": "issue",
                    "check_name": d.rule.id,
                    "description": format!("{} [{}] {}", d.rule.id, d.rule.name, d.message),
                    "categories": ["Bug Risk"],
                    "severity": severity(d.severity),
                    "fingerprint": fp,
                    "location": {
                        "path": d.path,
                        "lines": { "begin": d.span.line, "end": d.span.end_line },
                    },
                })
            })
            .collect(),
    )
}
