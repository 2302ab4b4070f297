//! `--format junit`: JUnit XML. One test suite per file with findings,
//! one failed test case per finding; a clean run is one passing case, so
//! CI systems show the lint as a green test rather than an empty report.

use super::xml_escape;
use crate::{CheckSummary, Diagnostic};
use std::io::{self, Write};

pub(super) fn render(
    diagnostics: &[Diagnostic],
    summary: &CheckSummary,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    let time = summary.elapsed_ms as f64 / 1000.0;
    writeln!(
        out,
        r#"<testsuites name="redline" tests="{}" failures="{}" time="{time:.3}">"#,
        diagnostics.len().max(1),
        diagnostics.len(),
    )?;
    if diagnostics.is_empty() {
        writeln!(
            out,
            r#"  <testsuite name="redline" tests="1" failures="0" errors="0">"#
        )?;
        writeln!(
            out,
            r#"    <testcase name="no red lines crossed" classname="redline"/>"#
        )?;
        writeln!(out, "  </testsuite>")?;
    }
    let mut start = 0;
    while start < diagnostics.len() {
        let path = &diagnostics[start].path;
        let end = start
            + diagnostics[start..]
                .iter()
                .take_while(|d| &d.path == path)
                .count();
        let group = &diagnostics[start..end];
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0">"#,
            xml_escape(path),
            group.len(),
            group.len(),
        )?;
        for d in group {
            let location = format!("{}:{}:{}", d.path, d.span.line, d.span.column);
            writeln!(
                out,
                r#"    <testcase name="{} {}" classname="{}">"#,
                d.rule.id,
                d.rule.name,
                xml_escape(&location),
            )?;
            let mut body = format!(
                "{location}: {} {}[{}] {}",
                d.severity, d.rule.id, d.rule.name, d.message
            );
            if let Some(help) = &d.help {
                body.push_str("\nhelp: ");
                body.push_str(help);
            }
            writeln!(
                out,
                r#"      <failure message="{}" type="{}">{}</failure>"#,
                xml_escape(&d.message),
                d.severity,
                xml_escape(&body),
            )?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
        start = end;
    }
    writeln!(out, "</testsuites>")
}
