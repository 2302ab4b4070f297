//! `--format github`: GitHub Actions workflow commands, one per finding,
//! which the runner turns into annotations on the pull request:
//! `::error file=a.go,line=3,col=9,endLine=3,endColumn=28,title=RL101 new-map::message`.

use crate::{Diagnostic, Severity};
use std::io::{self, Write};

/// Escapes a command's message (`%`, CR, LF), as the runner unescapes it.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: the data escapes plus `:` and `,`, which
/// would otherwise end the value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub(super) fn render(diagnostics: &[Diagnostic], out: &mut dyn Write) -> io::Result<()> {
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&d.path),
            d.span.line,
            d.span.column,
            d.span.end_line,
            d.span.end_column,
            escape_property(&format!("{} {}", d.rule.id, d.rule.name)),
            escape_data(&message),
        )?;
    }
    Ok(())
}
