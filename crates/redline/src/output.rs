//! Where the reports of `redline check` go: `--format FORMAT[:PATH]`
//! (repeatable), `--output FILE`, and `--statistics`.
//!
//! At most one report goes to standard output. `--output FILE` sends the
//! report to FILE and keeps the text report on the terminal; when every
//! `--format` names a file, the text report goes to the terminal too.

use crate::ColorChoice;
use crate::check::Outcome;
use redline_diagnostics::RuleMeta;
use redline_diagnostics::render::{self, RenderOptions, ReportFormat};
use redline_rules::{ALL_RULES, find_rule};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// One report of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub format: ReportFormat,
    /// `None`: standard output.
    pub path: Option<PathBuf>,
}

/// Turns `--format` values and `--output` into the list of reports.
pub fn plan(formats: &[String], output: Option<&Path>) -> Result<Vec<Report>, String> {
    let mut reports = Vec::new();
    for spec in formats {
        let (name, path) = match spec.split_once(':') {
            Some((n, p)) if !p.is_empty() => (n, Some(PathBuf::from(p))),
            Some((n, _)) => {
                return Err(format!(
                    "--format {spec}: the path after `{n}:` is empty (write `{n}:report-file`)"
                ));
            }
            None => (spec.as_str(), None),
        };
        let format: ReportFormat = name.parse().map_err(|e| format!("--format: {e}"))?;
        reports.push(Report { format, path });
    }
    let on_stdout: Vec<usize> = (0..reports.len())
        .filter(|&i| reports[i].path.is_none())
        .collect();
    if on_stdout.len() > 1 {
        return Err(format!(
            "--format: only one report can go to standard output, not {}; give the others a file (`--format sarif:redline.sarif`)",
            on_stdout
                .iter()
                .map(|&i| reports[i].format.name())
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    if let Some(file) = output {
        match on_stdout.first() {
            Some(&i) => reports[i].path = Some(file.to_path_buf()),
            None => {
                return Err(
                    "--output: every --format already names its file; drop --output or a `:PATH`"
                        .into(),
                );
            }
        }
    }
    if reports.iter().all(|r| r.path.is_some()) {
        reports.push(Report {
            format: ReportFormat::Text,
            path: None,
        });
    }
    Ok(reports)
}

/// The rule catalog as the renderers see it.
pub fn rule_infos() -> Vec<&'static RuleMeta> {
    ALL_RULES.to_vec()
}

/// `--statistics`: findings per rule, most frequent first.
pub fn statistics(outcome: &Outcome, json: bool) -> String {
    let mut counts: Vec<(&'static str, usize, usize)> = Vec::new();
    for d in &outcome.diagnostics {
        let fixable = usize::from(d.fix.is_some());
        match counts.iter_mut().find(|(r, _, _)| *r == d.rule.id) {
            Some(c) => {
                c.1 += 1;
                c.2 += fixable;
            }
            None => counts.push((d.rule.id, 1, fixable)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if json {
        let rows: Vec<serde_json::Value> = counts
            .iter()
            .map(|(rule, n, fixable)| {
                serde_json::json!({
                    "rule": rule,
                    "name": find_rule(rule).map(|m| m.name).unwrap_or(""),
                    "count": n,
                    "fixable": fixable,
                })
            })
            .collect();
        let mut s = serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into());
        s.push('\n');
        return s;
    }
    let mut out = String::new();
    for (rule, n, fixable) in &counts {
        let meta = find_rule(rule);
        let line = format!(
            "{n:>6}  {rule:<6} {:<34} {}",
            meta.map(|m| m.name).unwrap_or(""),
            if *fixable > 0 {
                format!("[{fixable} fixable]")
            } else {
                String::new()
            }
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let total = outcome.diagnostics.len();
    out.push_str(&format!(
        "{total:>6}  finding{} in {} file{} scanned\n",
        if total == 1 { "" } else { "s" },
        outcome.summary.files_scanned,
        if outcome.summary.files_scanned == 1 {
            ""
        } else {
            "s"
        }
    ));
    out
}

/// Renders every report. Files are written whole through
/// [`crate::safe_write`] (a regular file is replaced atomically, a device
/// or FIFO such as `/dev/null` is written into, a symlink is written
/// through); a closed standard output (`| head`) is the reader's choice,
/// not an error.
pub fn write_reports(
    reports: &[Report],
    outcome: &Outcome,
    color: ColorChoice,
    statistics_only: bool,
) -> Result<(), String> {
    let rules = rule_infos();
    for report in reports {
        let on_terminal = report.path.is_none();
        let color = on_terminal
            && match color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
        let mut buf = Vec::new();
        if statistics_only && on_terminal {
            let json = match report.format {
                ReportFormat::Text => false,
                ReportFormat::Json => true,
                other => {
                    return Err(format!(
                        "--statistics prints text or json, not {other}; write the {other} report to a file (`--format {other}:PATH`)"
                    ));
                }
            };
            buf.extend_from_slice(statistics(outcome, json).as_bytes());
        } else {
            render::render(
                report.format,
                &outcome.diagnostics,
                &outcome.summary,
                &outcome.sources,
                RenderOptions {
                    color,
                    rules: &rules,
                    tool_version: env!("CARGO_PKG_VERSION"),
                },
                &mut buf,
            )
            .map_err(|e| format!("cannot render the {} report: {e}", report.format))?;
        }
        match &report.path {
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        format!(
                            "{}: cannot create the report's directory: {e}",
                            dir.display()
                        )
                    })?;
                }
                crate::safe_write::write(path, crate::safe_write::Request::output(&buf)).map_err(
                    |e| {
                        format!(
                            "{}: cannot write the {} report: {e}",
                            path.display(),
                            report.format
                        )
                    },
                )?;
            }
            None => {
                // A closed pipe or a full disk: `stdio::finish` decides
                // the exit code.
                let mut out = crate::stdio::stdout();
                let _ = out.write_all(&buf).and_then(|()| out.flush());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn output_keeps_text_on_the_terminal() {
        let r = plan(&specs(&["sarif"]), Some(Path::new("r.sarif"))).expect("plan");
        assert_eq!(
            r,
            vec![
                Report {
                    format: ReportFormat::Sarif,
                    path: Some("r.sarif".into())
                },
                Report {
                    format: ReportFormat::Text,
                    path: None
                }
            ]
        );
    }

    #[test]
    fn several_reports_one_stdout() {
        let r = plan(&specs(&["github", "sarif:a.sarif", "junit:j.xml"]), None).expect("plan");
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].path, None);
        assert!(plan(&specs(&["github", "json"]), None).is_err());
        assert!(plan(&specs(&["sarif:"]), None).is_err());
        assert!(
            plan(&specs(&["xml"]), None)
                .unwrap_err()
                .contains("unknown format")
        );
    }
}
