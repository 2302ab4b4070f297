//! Deploy events: JSON lines `{"time", "service", "commit", "description"}`
//! or the commits of a git repository.

use crate::status::parse_time;
use std::path::Path;
use std::process::Command;

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub time: i64,
    /// `None` applies to every service (e.g. commits of a git repository).
    pub service: Option<String>,
    pub commit: String,
    pub description: String,
}

/// Reads a JSON-lines events file. Errors name the file and line.
pub fn from_file(path: &Path) -> Result<Vec<Event>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read events file {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{}:{}", path.display(), i + 1);
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{at}: not a JSON object: {e}"))?;
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let time = match v.get("time") {
            Some(serde_json::Value::Number(n)) => n
                .as_f64()
                .map(|f| f as i64)
                .ok_or_else(|| format!("{at}: bad `time`"))?,
            Some(serde_json::Value::String(s)) => {
                parse_time(s).map_err(|e| format!("{at}: {e}"))?
            }
            _ => return Err(format!("{at}: missing `time` (RFC 3339 or Unix seconds)")),
        };
        out.push(Event {
            time,
            service: field("service"),
            commit: field("commit").unwrap_or_default(),
            description: field("description").unwrap_or_default(),
        });
    }
    out.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.commit.cmp(&b.commit)));
    Ok(out)
}

/// Every commit of `repo` as an event at its committer time.
pub fn from_git(repo: &Path) -> Result<Vec<Event>, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["log", "--format=%H%x1f%ct%x1f%s"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "git log in {} failed: {}",
            repo.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let mut out = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let parts: Vec<&str> = line.splitn(3, '\u{1f}').collect();
        if let [hash, time, subject] = parts[..]
            && let Ok(time) = time.parse()
        {
            out.push(Event {
                time,
                service: None,
                commit: hash.chars().take(12).collect(),
                description: subject.to_string(),
            });
        }
    }
    out.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.commit.cmp(&b.commit)));
    Ok(out)
}
