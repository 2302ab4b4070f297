//! `redline slo report`/`status`: a deploy traced to the red-line findings
//! its commit range introduced. The check engine runs on both commits and
//! the findings are compared by fingerprint (newcode.rs, the same
//! comparison as `check --new-from-rev`), not by changed lines: a finding
//! made by deleting a line elsewhere counts, an old finding on an edited
//! line does not.
//!
//! The repository itself is not touched: `to` is checked out in a clone
//! that shares its objects (`git clone --shared`, in a temporary
//! directory), and `from` is checked out next to it by newcode.rs. Each
//! commit is checked with its own `redline.toml` files.

use redline_check::{check, config, newcode};
use redline_slo::trace::{Finding, FindingsDiff};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// The check engine, for `redline_slo::cli::run_traced`.
pub struct Engine;

fn git(dir: Option<&Path>, args: &[&std::ffi::OsStr]) -> Result<(), String> {
    let mut cmd = Command::new("git");
    if let Some(d) = dir {
        cmd.arg("-C").arg(d);
    }
    let out = cmd
        .args(["-c", "advice.detachedHead=false"])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git ({e}); tracing a deploy needs git on PATH"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "git {} failed: {}",
            args.first()
                .map_or(String::new(), |a| a.to_string_lossy().into_owned()),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
        ))
    }
}

/// Every finding of the tree at `cwd`, with the configuration files the
/// tree has.
fn scan(cwd: &Path) -> Result<check::Outcome, String> {
    let configs =
        config::Configs::discover(config::Overrides::default(), cwd).with_cli_exclude()?;
    check::run_with(
        &[cwd.to_path_buf()],
        &Arc::new(configs),
        cwd,
        check::RunOptions::default(),
    )
}

/// A diagnostic's path relative to the checked-out tree, `/`-separated.
fn tree_path(path: &str, tree: &Path) -> String {
    let p = Path::new(path);
    let rel = p.strip_prefix(tree).unwrap_or(p);
    let rel = rel.strip_prefix(".").unwrap_or(rel);
    rel.to_string_lossy().replace('\\', "/")
}

impl FindingsDiff for Engine {
    fn introduced(
        &self,
        repo: &Path,
        from: Option<&str>,
        to: &str,
    ) -> Result<Vec<Finding>, String> {
        let dir = tempfile::Builder::new()
            .prefix("redline-deploy-")
            .tempdir()
            .map_err(|e| {
                format!("cannot create a temporary directory for the deploy's commit: {e}")
            })?;
        let work = dir.path().join("tree");
        // `--repo` may name a directory inside the repository: clone its
        // top level (findings are relative to it).
        let top = Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(["rev-parse", "--show-toplevel"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            .unwrap_or_else(|| repo.to_path_buf());
        let repo = top.as_path();
        git(
            None,
            &[
                "clone".as_ref(),
                "--quiet".as_ref(),
                "--shared".as_ref(),
                "--no-checkout".as_ref(),
                "--".as_ref(),
                repo.as_os_str(),
                work.as_os_str(),
            ],
        )?;
        git(
            Some(&work),
            &[
                "checkout".as_ref(),
                "--quiet".as_ref(),
                "--detach".as_ref(),
                to.as_ref(),
                "--".as_ref(),
            ],
        )
        .map_err(|e| format!("cannot check out {to}: {e}"))?;
        let work: PathBuf = std::fs::canonicalize(&work).unwrap_or(work);
        let outcome = scan(&work).map_err(|e| format!("checking {to}: {e}"))?;
        let new = match from {
            None => outcome.diagnostics,
            Some(from) => {
                let base = newcode::Base {
                    root: work.clone(),
                    commit: from.to_string(),
                };
                let found = newcode::BaseFindings::compute(base, &work, None, |tree| {
                    let o = scan(&tree.cwd).map_err(|e| format!("checking {from}: {e}"))?;
                    Ok(newcode::BaseCheck {
                        storable: false,
                        tools: Vec::new(),
                        diagnostics: o.diagnostics,
                        sources: o.sources,
                    })
                })?;
                found.retain(outcome.diagnostics, &outcome.sources, &work)
            }
        };
        Ok(new
            .into_iter()
            .map(|d| Finding {
                rule: d.rule.to_string(),
                path: tree_path(&d.path, &work),
                line: d.span.line,
                column: d.span.column,
                message: d.message,
            })
            .collect())
    }
}
