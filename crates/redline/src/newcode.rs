//! New-code gating: `--new-from-rev REV` and `--new-from-merge-base
//! BRANCH` keep only the findings on lines added or changed since then.
//!
//! Uses the `git` command line: `git diff -U0` between the revision and
//! the working tree (so uncommitted edits count as new), plus untracked
//! files, which are new in full. Renames are followed, so a moved file
//! only surfaces the lines that changed in it.

use redline_diagnostics::Diagnostic;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Which lines of which files are new, by path relative to the
/// repository's top level.
#[derive(Debug)]
pub struct ChangedLines {
    root: PathBuf,
    /// The commit the working tree is compared with.
    base: String,
    files: HashMap<String, Changed>,
}

#[derive(Debug)]
enum Changed {
    /// Untracked: every line is new.
    All,
    /// Inclusive 1-based line ranges.
    Lines(Vec<(usize, usize)>),
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, String> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "core.quotePath=false"])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git ({e}); new-code gating needs git on PATH"))
}

fn stderr_line(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

fn toplevel(cwd: &Path, flag: &str) -> Result<PathBuf, String> {
    let out = git(cwd, &["rev-parse", "--show-toplevel"])?;
    if !out.status.success() {
        return Err(format!(
            "{flag}: {} is not inside a git checkout ({}); run redline from the repository, or drop {flag}",
            cwd.display(),
            stderr_line(&out)
        ));
    }
    let root = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(PathBuf::from(root))
}

fn resolve_commit(root: &Path, rev: &str, flag: &str) -> Result<String, String> {
    let spec = format!("{rev}^{{commit}}");
    let out = git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ],
    )?;
    if !out.status.success() {
        return Err(format!(
            "{flag}: `{rev}` is not a commit in {} (check the name with `git log {rev}`; in CI, fetch enough history, e.g. `fetch-depth: 0`)",
            root.display()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl ChangedLines {
    /// Lines changed since `rev`.
    pub fn since_rev(cwd: &Path, rev: &str) -> Result<ChangedLines, String> {
        let flag = "--new-from-rev";
        let root = toplevel(cwd, flag)?;
        let commit = resolve_commit(&root, rev, flag)?;
        ChangedLines::since_commit(root, &commit)
    }

    /// Lines changed since the merge base of `branch` and `HEAD`.
    pub fn since_merge_base(cwd: &Path, branch: &str) -> Result<ChangedLines, String> {
        let flag = "--new-from-merge-base";
        let root = toplevel(cwd, flag)?;
        let commit = resolve_commit(&root, branch, flag)?;
        let out = git(&root, &["merge-base", &commit, "HEAD"])?;
        if !out.status.success() {
            return Err(format!(
                "{flag}: `{branch}` and HEAD have no common ancestor in {} ({})",
                root.display(),
                stderr_line(&out)
            ));
        }
        let base = String::from_utf8_lossy(&out.stdout).trim().to_string();
        ChangedLines::since_commit(root, &base)
    }

    fn since_commit(root: PathBuf, commit: &str) -> Result<ChangedLines, String> {
        let out = git(
            &root,
            &[
                "diff",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                "-U0",
                "-M",
                "--src-prefix=a/",
                "--dst-prefix=b/",
                commit,
                "--",
            ],
        )?;
        if !out.status.success() {
            return Err(format!(
                "git diff {commit} failed in {}: {}",
                root.display(),
                stderr_line(&out)
            ));
        }
        let mut files = parse_diff(&String::from_utf8_lossy(&out.stdout));
        let out = git(&root, &["ls-files", "--others", "--exclude-standard", "-z"])?;
        if out.status.success() {
            for path in out.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
                files.insert(String::from_utf8_lossy(path).into_owned(), Changed::All);
            }
        }
        let root = std::fs::canonicalize(&root).unwrap_or(root);
        Ok(ChangedLines {
            root,
            base: commit.to_string(),
            files,
        })
    }

    /// The same comparison, run again: after `--fix` has written files,
    /// their lines may have moved.
    pub fn refresh(&self) -> Result<ChangedLines, String> {
        ChangedLines::since_commit(self.root.clone(), &self.base)
    }

    /// The repository-relative path of a diagnostic's file.
    fn repo_path(&self, display: &str, cwd: &Path) -> Option<String> {
        let p = Path::new(display);
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        };
        let abs = std::fs::canonicalize(&abs).unwrap_or(abs);
        let rel = abs.strip_prefix(&self.root).ok()?;
        Some(rel.to_string_lossy().replace('\\', "/"))
    }

    /// Whether any line of `d`'s span is new.
    pub fn is_new(&self, d: &Diagnostic, cwd: &Path) -> bool {
        let Some(rel) = self.repo_path(&d.path, cwd) else {
            // Outside the repository: nothing to compare with, so it is new.
            return true;
        };
        match self.files.get(&rel) {
            None => false,
            Some(Changed::All) => true,
            Some(Changed::Lines(ranges)) => ranges
                .iter()
                .any(|&(a, b)| a <= d.span.end_line.max(d.span.line) && d.span.line <= b),
        }
    }

    /// Keeps the diagnostics on new lines.
    pub fn retain(&self, diagnostics: Vec<Diagnostic>, cwd: &Path) -> Vec<Diagnostic> {
        diagnostics
            .into_iter()
            .filter(|d| self.is_new(d, cwd))
            .collect()
    }
}

/// Unquotes a path git printed in C style (`"a\tb.go"`).
fn unquote(s: &str) -> String {
    let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return s.to_string();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'r') => bytes.push(b'\r'),
            Some(d @ b'0'..=b'7') => {
                let mut v = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = chars.peek() {
                        v = v * 8 + u32::from(n - b'0');
                        chars.next();
                    }
                }
                bytes.push(v as u8);
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Added/changed line ranges per new path, from `git diff -U0` output.
fn parse_diff(diff: &str) -> HashMap<String, Changed> {
    let mut files: HashMap<String, Changed> = HashMap::new();
    let mut current: Option<String> = None;
    for line in diff.lines() {
        if let Some(rest) = line.strip_prefix("+++ ") {
            let path = unquote(rest.trim_end());
            current = if path == "/dev/null" {
                None
            } else {
                let p = path.strip_prefix("b/").unwrap_or(&path).to_string();
                files
                    .entry(p.clone())
                    .or_insert_with(|| Changed::Lines(Vec::new()));
                Some(p)
            };
        } else if let Some(rest) = line.strip_prefix("@@ ") {
            let Some(plus) = rest.split_whitespace().find(|w| w.starts_with('+')) else {
                continue;
            };
            let mut parts = plus[1..].splitn(2, ',');
            let start: usize = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            let count: usize = parts.next().and_then(|v| v.parse().ok()).unwrap_or(1);
            if count == 0 {
                continue;
            }
            if let Some(Changed::Lines(ranges)) = current.as_ref().and_then(|p| files.get_mut(p)) {
                ranges.push((start, start + count - 1));
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_become_ranges() {
        let diff = "diff --git a/x.go b/x.go\n--- a/x.go\n+++ b/x.go\n@@ -3,0 +4,2 @@ func f() {\n+a\n+b\n@@ -10 +12 @@\n-c\n+d\n@@ -20,2 +21,0 @@\n-e\n-f\ndiff --git a/gone.go b/gone.go\n--- a/gone.go\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n--- a/\"t\\tb.go\"\n+++ \"b/t\\tb.go\"\n@@ -1 +1 @@\n";
        let files = parse_diff(diff);
        match files.get("x.go") {
            Some(Changed::Lines(r)) => assert_eq!(r, &vec![(4, 5), (12, 12)]),
            other => panic!("unexpected {other:?}"),
        }
        assert!(!files.contains_key("gone.go"));
        assert!(files.contains_key("t\tb.go"));
    }
}
