//! Burn traced to code: for a deploy, the commits since the previous
//! deploy of the same service and the red-line findings that range
//! introduced.
//!
//! Which findings are new is the check engine's business, which lives in
//! the `redline` binary: it implements [`FindingsDiff`] (the check run on
//! both commits, findings compared by fingerprint) and hands it to
//! [`crate::cli::run_traced`]. Without it (this crate on its own) the
//! commit range is still listed and the findings are said to be unknown.

use crate::events::Event;
use crate::status::rfc3339;
use serde::Serialize;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One red-line finding a commit range introduced.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// `RL101`.
    pub rule: String,
    /// Repository-relative, `/`-separated.
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The findings of commit `to` that commit `from` did not have.
pub trait FindingsDiff {
    /// `repo` is a git repository holding both commits (full hashes);
    /// `from` is `None` for a root commit (every finding of `to` is new).
    fn introduced(&self, repo: &Path, from: Option<&str>, to: &str)
    -> Result<Vec<Finding>, String>;
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Deploy {
    pub time: String,
    /// The commit as the event names it.
    pub commit: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Commit {
    pub commit: String,
    pub subject: String,
}

/// A deploy traced to its commits and findings.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attribution {
    pub service: String,
    pub deploy: Deploy,
    /// The previous deploy of the service, where the range starts; `null`
    /// when there is none (the range is then the deploy's own commit).
    pub previous_deploy: Option<Deploy>,
    /// `FROM..TO` in full hashes (`TO` alone for a root commit); empty when
    /// the commits could not be resolved.
    pub range: String,
    /// The commits of the range, newest first.
    pub commits: Vec<Commit>,
    /// The red-line findings the range introduced.
    pub findings: Vec<Finding>,
    /// One line: "deploy abc1234 introduced 1 red-line finding: ...".
    pub summary: String,
    /// Why the range or its findings are not known, when they are not.
    pub error: Option<String>,
}

fn git(repo: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git ({e}); tracing a deploy to its commits needs git"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string())
    }
}

fn resolve(repo: &Path, rev: &str) -> Option<String> {
    if rev.is_empty() || rev.starts_with('-') {
        return None;
    }
    git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .ok()
    .filter(|h| !h.is_empty())
}

pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(7)]
}

fn deploy(e: &Event) -> Deploy {
    Deploy {
        time: rfc3339(e.time),
        commit: e.commit.clone(),
        description: e.description.clone(),
    }
}

/// Where deploys are traced: the repository (`--repo`, or the
/// `--events-from-git` one) and the engine that compares findings.
#[derive(Clone, Copy)]
pub struct Tracer<'a> {
    pub repo: Option<&'a Path>,
    pub diff: Option<&'a dyn FindingsDiff>,
}

/// Traces `target` (one of `events`) for `service`: the range from the
/// previous deploy of that service (an event for it or for every service,
/// with a commit, before `target`) to `target`'s commit, and the findings
/// it introduced.
pub fn attribute(tracer: Tracer, events: &[Event], target: &Event, service: &str) -> Attribution {
    let mut a = Attribution {
        service: service.to_string(),
        deploy: deploy(target),
        previous_deploy: None,
        range: String::new(),
        commits: Vec::new(),
        findings: Vec::new(),
        summary: String::new(),
        error: None,
    };
    let name = if target.commit.is_empty() {
        "(no commit)".to_string()
    } else {
        short(&target.commit).to_string()
    };
    let fail = |mut a: Attribution, why: String| {
        a.summary = format!("deploy {name}: the findings it introduced are unknown: {why}");
        a.error = Some(why);
        a
    };
    if target.commit.is_empty() {
        return fail(
            a,
            "the deploy event names no commit (give `commit` in the events file)".into(),
        );
    }
    let Some(repo) = tracer.repo else {
        return fail(
            a,
            "no repository to read the commits from: pass --repo (or --events-from-git)".into(),
        );
    };
    let Some(to) = resolve(repo, &target.commit) else {
        return fail(
            a,
            format!(
                "commit `{}` is not in {} (is --repo the service's repository, with its full history?)",
                target.commit,
                repo.display()
            ),
        );
    };
    let previous = events
        .iter()
        .filter(|e| e.time < target.time || (e.time == target.time && e.commit != target.commit))
        .filter(|e| e.service.as_deref().is_none_or(|s| s == service))
        .filter(|e| !e.commit.is_empty())
        .filter_map(|e| resolve(repo, &e.commit).map(|h| (e, h)))
        .filter(|(_, h)| *h != to)
        .max_by_key(|(e, _)| e.time);
    let from = match previous {
        Some((e, h)) => {
            a.previous_deploy = Some(deploy(e));
            Some(h)
        }
        // No earlier deploy: the range is the deploy's own commit.
        None => resolve(repo, &format!("{to}^")),
    };
    a.range = match &from {
        Some(f) => format!("{f}..{to}"),
        None => to.clone(),
    };
    match git(
        repo,
        &[
            "log",
            "--max-count=200",
            "--format=%H%x1f%s",
            "--end-of-options",
            &a.range,
        ],
    ) {
        Ok(text) => {
            a.commits = text
                .lines()
                .filter_map(|l| l.split_once('\u{1f}'))
                .map(|(h, s)| Commit {
                    commit: h.to_string(),
                    subject: s.to_string(),
                })
                .collect();
        }
        Err(e) => {
            let why = format!("git log {} failed: {e}", a.range);
            return fail(a, why);
        }
    }
    let Some(diff) = tracer.diff else {
        return fail(
            a,
            "this build of redline slo cannot run the check engine (run it as `redline slo`)"
                .into(),
        );
    };
    match diff.introduced(repo, from.as_deref(), &to) {
        Ok(mut findings) => {
            findings.sort_by(|x, y| {
                (&x.path, x.line, x.column, &x.rule).cmp(&(&y.path, y.line, y.column, &y.rule))
            });
            a.summary = match findings.len() {
                0 => format!("deploy {name} introduced no red-line finding"),
                n => format!(
                    "deploy {name} introduced {n} red-line finding{}: {}",
                    if n == 1 { "" } else { "s" },
                    findings
                        .iter()
                        .map(|f| format!("{}:{} {}", f.path, f.line, f.rule))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            a.findings = findings;
            a
        }
        Err(e) => fail(a, e),
    }
}

/// The repository deploys are traced in: `--repo`, else the
/// `--events-from-git` repository.
pub fn repo_of(repo: &Option<PathBuf>, events_from_git: &Option<PathBuf>) -> Option<PathBuf> {
    repo.clone().or_else(|| events_from_git.clone())
}

/// The attribution as text lines, for `status`.
pub fn render_text(a: &Attribution) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: most recent deploy {} at {}: {}",
        a.service,
        if a.deploy.commit.is_empty() {
            "(no commit)"
        } else {
            short(&a.deploy.commit)
        },
        a.deploy.time,
        a.deploy.description
    );
    if !a.range.is_empty() {
        let _ = writeln!(
            out,
            "  commits since {}: {}",
            a.previous_deploy
                .as_ref()
                .map_or("its parent".to_string(), |p| format!(
                    "the previous deploy {}",
                    short(&p.commit)
                )),
            a.commits.len()
        );
        for c in &a.commits {
            let _ = writeln!(out, "    {} {}", short(&c.commit), c.subject);
        }
    }
    let _ = writeln!(out, "  {}", a.summary);
    for f in &a.findings {
        let _ = writeln!(out, "    {}:{}: {} {}", f.path, f.line, f.rule, f.message);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Records what it was asked and answers one finding per call.
    struct Fake(RefCell<Vec<(Option<String>, String)>>);

    impl FindingsDiff for Fake {
        fn introduced(
            &self,
            _repo: &Path,
            from: Option<&str>,
            to: &str,
        ) -> Result<Vec<Finding>, String> {
            self.0
                .borrow_mut()
                .push((from.map(str::to_string), to.to_string()));
            Ok(vec![Finding {
                rule: "RL101".into(),
                path: "a.go".into(),
                line: 3,
                column: 2,
                message: "m".into(),
            }])
        }
    }

    fn commit(repo: &Path, msg: &str) -> String {
        let run = |args: &[&str]| {
            let out = Command::new("git")
                .arg("-C")
                .arg(repo)
                .args(args)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
                .output()
                .expect("git");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        run(&["commit", "-q", "--allow-empty", "-m", msg]);
        run(&["rev-parse", "HEAD"])
    }

    fn event(time: i64, service: Option<&str>, commit: &str) -> Event {
        Event {
            time,
            service: service.map(str::to_string),
            commit: commit.to_string(),
            description: String::new(),
        }
    }

    #[test]
    fn ranges_start_at_the_previous_deploy_of_the_same_service() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        assert!(
            Command::new("git")
                .arg("-C")
                .arg(repo)
                .args(["init", "-q"])
                .status()
                .unwrap()
                .success()
        );
        let c1 = commit(repo, "one");
        let c2 = commit(repo, "two");
        let c3 = commit(repo, "three");
        let events = vec![
            event(100, Some("api"), &c1[..9]),
            event(200, Some("search"), &c2),
            event(300, Some("api"), &c3[..7]),
        ];
        let fake = Fake(RefCell::new(Vec::new()));
        let tracer = Tracer {
            repo: Some(repo),
            diff: Some(&fake),
        };
        let a = attribute(tracer, &events, &events[2], "api");
        assert_eq!(a.range, format!("{c1}..{c3}"));
        assert_eq!(
            a.previous_deploy.as_ref().map(|d| d.time.as_str()),
            Some("1970-01-01T00:01:40Z")
        );
        let subjects: Vec<&str> = a.commits.iter().map(|c| c.subject.as_str()).collect();
        assert_eq!(subjects, ["three", "two"]);
        assert_eq!(
            a.summary,
            format!(
                "deploy {} introduced 1 red-line finding: a.go:3 RL101",
                &c3[..7]
            )
        );
        assert_eq!(fake.0.borrow()[0], (Some(c1.clone()), c3.clone()));
        // The first deploy: its own commit, against its parent; the root
        // commit against nothing.
        let a = attribute(tracer, &events, &events[1], "search");
        assert_eq!(a.range, format!("{c1}..{c2}"));
        assert!(a.previous_deploy.is_none());
        let a = attribute(tracer, &events, &events[0], "api");
        assert_eq!(a.range, c1);
        assert_eq!(fake.0.borrow().last().unwrap().0, None);
        // What cannot be traced says why.
        let none = event(400, None, "");
        let a = attribute(tracer, &events, &none, "api");
        assert!(
            a.error.as_deref().unwrap().contains("names no commit"),
            "{a:?}"
        );
        let missing = event(400, None, "0123456789abcdef");
        let a = attribute(tracer, &events, &missing, "api");
        assert!(a.summary.contains("is not in"), "{a:?}");
        let a = attribute(
            Tracer {
                repo: None,
                diff: Some(&fake),
            },
            &events,
            &events[2],
            "api",
        );
        assert!(a.summary.contains("pass --repo"), "{a:?}");
        let a = attribute(
            Tracer {
                repo: Some(repo),
                diff: None,
            },
            &events,
            &events[2],
            "api",
        );
        assert_eq!(a.commits.len(), 2, "the range is still listed");
        assert!(a.summary.contains("cannot run the check engine"), "{a:?}");
    }
}
