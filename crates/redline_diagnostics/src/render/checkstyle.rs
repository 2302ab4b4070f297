//! `--format checkstyle`: Checkstyle XML (version 4.3), grouped by file.

use super::xml_escape;
use crate::Diagnostic;
use std::io::{self, Write};

pub(super) fn render(diagnostics: &[Diagnostic], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<checkstyle version="4.3">"#)?;
    let mut current: Option<&str> = None;
    for d in diagnostics {
        if current != Some(d.path.as_str()) {
            if current.is_some() {
                writeln!(out, "  </file>")?;
            }
            writeln!(out, r#"  <file name="{}">"#, xml_escape(&d.path))?;
            current = Some(&d.path);
        }
        writeln!(
            out,
            r#"    <error line="{}" column="{}" severity="{}" message="{}" source="redline.{}.{}"/>"#,
            d.span.line,
            d.span.column,
            d.severity,
            xml_escape(&d.message),
            d.rule.id,
            d.rule.name,
        )?;
    }
    if current.is_some() {
        writeln!(out, "  </file>")?;
    }
    writeln!(out, "</checkstyle>")
}
