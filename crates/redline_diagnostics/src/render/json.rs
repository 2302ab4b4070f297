//! `--format json`: redline's own document (version 1).

use crate::{CheckSummary, Diagnostic, count_by_rule};
use serde_json::{Value, json};

/// The `--format json` document (version 1). Its shape is a contract.
pub fn json_report(diagnostics: &[Diagnostic], summary: &CheckSummary) -> Value {
    let diags: Vec<Value> = diagnostics.iter().map(json_diagnostic).collect();
    let by_rule: serde_json::Map<String, Value> = count_by_rule(diagnostics)
        .into_iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({
        "version": 1,
        "diagnostics": diags,
        "summary": {
            "files_scanned": summary.files_scanned,
            "diagnostics": diagnostics.len(),
            "by_rule": by_rule,
            "elapsed_ms": summary.elapsed_ms,
        }
    })
}

pub fn json_diagnostic(d: &Diagnostic) -> Value {
    let fix = match &d.fix {
        None => Value::Null,
        Some(fix) => json!({
            "applicability": fix.applicability,
            "edits": fix.edits.iter().map(|e| json!({
                "line": e.span.line,
                "column": e.span.column,
                "end_line": e.span.end_line,
                "end_column": e.span.end_column,
                "content": e.content,
            })).collect::<Vec<_>>(),
        }),
    };
    json!({
        "rule": d.rule.id,
        "name": d.rule.name,
        "severity": d.severity,
        "path": d.path,
        "line": d.span.line,
        "column": d.span.column,
        "end_line": d.span.end_line,
        "end_column": d.span.end_column,
        "message": d.message,
        "help": d.help,
        "fix": fix,
    })
}
