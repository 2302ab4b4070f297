//! `redline.toml`: where the one that applies to a directory is, how a
//! table of it is read into a plain typed struct, and the one error
//! format every reader of it uses: `file:line:col: message`, unknown keys
//! named. Keys are kebab-case everywhere; an old snake_case spelling is
//! accepted where the reader allows it (a serde alias) and reported by
//! [`old_spellings`] as a deprecation warning. Holds no rule logic: each
//! part of redline declares the tables it owns.

use redline_diagnostics::LineIndex;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// The configuration file's name.
pub const FILE_NAME: &str = "redline.toml";

/// What one directory says to the search for the configuration that
/// applies in it (nearest first, up to the repository root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The directory holds `redline.toml`.
    Found(PathBuf),
    /// The directory is a repository root (holds `.git`) without one: the
    /// search ends, the defaults apply.
    RepositoryRoot,
    /// Neither: look in the parent.
    Up,
}

/// The search's step in `dir`: every search for `redline.toml` (the
/// check's per-directory lookup, the other commands' working directory,
/// the language server) goes through here.
pub fn step(dir: &Path) -> Step {
    let candidate = dir.join(FILE_NAME);
    if candidate.is_file() {
        Step::Found(candidate)
    } else if dir.join(".git").exists() {
        Step::RepositoryRoot
    } else {
        Step::Up
    }
}

/// The `redline.toml` that applies in `start`: in it or the nearest
/// ancestor, up to the repository root.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        match step(d) {
            Step::Found(file) => return Some(file),
            Step::RepositoryRoot => return None,
            Step::Up => dir = d.parent(),
        }
    }
    None
}

/// `display:line:col: message`, the position of byte `offset` of `text`.
pub fn error_at(
    display: &str,
    text: &str,
    offset: usize,
    message: impl std::fmt::Display,
) -> String {
    let (line, col) = LineIndex::new(text.as_bytes()).position(offset.min(text.len()));
    format!("{display}:{line}:{col}: {message}")
}

/// A TOML error of `text` (the contents of `display`) in the one format:
/// its position when it has one, its message on one line.
pub fn describe(display: &str, text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => error_at(display, text, span.start, message),
        None => format!("{display}: {message}"),
    }
}

/// Deserializes `text` (the contents of `display`) as `T`. `T` lists the
/// tables its caller owns; unknown keys *inside* them are rejected by `T`
/// itself (`deny_unknown_fields`), and the error names the key, its line
/// and column.
pub fn parse<T: DeserializeOwned>(display: &str, text: &str) -> Result<T, String> {
    toml::from_str::<T>(text).map_err(|e| describe(display, text, &e))
}

/// Reads `path` and deserializes it as `T`; no file gives `T::default()`.
pub fn load<T: DeserializeOwned + Default>(path: Option<&Path>) -> Result<T, String> {
    let Some(path) = path else {
        return Ok(T::default());
    };
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{display}: cannot read the configuration: {e}"))?;
    parse(&display, &text)
}

/// 1-based line of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    LineIndex::new(text.as_bytes())
        .position(offset.min(text.len()))
        .0
}

/// Deprecation warnings for the keys of the table `table` spelt the old
/// way (`fail_below` for `fail-below`), one per key, in the order of the
/// file, each `DISPLAY:LINE:COL: ... is deprecated; write ...`. A text
/// that does not parse has none (its reader reports the error).
pub fn old_spellings(display: &str, text: &str, table: &str) -> Vec<String> {
    let Ok(doc) = toml::de::DeTable::parse(text) else {
        return Vec::new();
    };
    let Some(toml::de::DeValue::Table(t)) = doc.get_ref().get(table).map(|v| v.get_ref()) else {
        return Vec::new();
    };
    let mut keys: Vec<(usize, String)> = t
        .keys()
        .filter(|k| k.get_ref().contains('_'))
        .map(|k| (k.span().start, k.get_ref().to_string()))
        .collect();
    keys.sort();
    keys.into_iter()
        .map(|(at, key)| {
            error_at(
                display,
                text,
                at,
                format!(
                    "`[{table}] {key}` is deprecated; write `{}`",
                    key.replace('_', "-")
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    struct Table {
        fail_below: Option<f64>,
    }

    #[derive(Debug, Default, Deserialize)]
    struct File {
        slo: Option<Table>,
    }

    #[test]
    fn errors_name_file_line_column_and_the_unknown_key() {
        let err = parse::<File>("r.toml", "[slo]\n\nfail-belo = 1\n").unwrap_err();
        assert!(err.starts_with("r.toml:3:1: "), "{err}");
        assert!(
            err.contains("fail-belo") && err.contains("fail-below"),
            "{err}"
        );
        let err = parse::<File>("r.toml", "[slo\n").unwrap_err();
        assert!(err.starts_with("r.toml:1:"), "{err}");
        let ok: File = parse("r.toml", "[slo]\nfail-below = 2.5\n").unwrap();
        assert_eq!(ok.slo.unwrap().fail_below, Some(2.5));
    }

    #[test]
    fn old_spellings_are_named_with_their_position() {
        let text =
            "[env]\nsome_key = 1\n[slo]\nwindow = \"30d\"\n  fail_below = 5\ntimeout_secs = 3\n";
        assert_eq!(
            old_spellings("r.toml", text, "slo"),
            vec![
                "r.toml:5:3: `[slo] fail_below` is deprecated; write `fail-below`".to_string(),
                "r.toml:6:1: `[slo] timeout_secs` is deprecated; write `timeout-secs`".to_string(),
            ]
        );
        assert!(old_spellings("r.toml", "[slo]\nfail-below = 5\n", "slo").is_empty());
        assert!(old_spellings("r.toml", "[slo\n", "slo").is_empty());
        assert!(old_spellings("r.toml", "slo = 1\n", "slo").is_empty());
    }

    #[test]
    fn the_search_stops_at_the_nearest_file_or_the_repository_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("repo/a/b")).unwrap();
        std::fs::create_dir(root.join("repo/.git")).unwrap();
        std::fs::write(root.join(FILE_NAME), "").unwrap();
        // Above the repository root: not found from inside it.
        assert_eq!(discover(&root.join("repo/a/b")), None);
        assert_eq!(step(&root.join("repo")), Step::RepositoryRoot);
        assert_eq!(step(&root.join("repo/a")), Step::Up);
        std::fs::write(root.join("repo/a").join(FILE_NAME), "").unwrap();
        assert_eq!(
            discover(&root.join("repo/a/b")),
            Some(root.join("repo/a").join(FILE_NAME))
        );
        assert_eq!(discover(root), Some(root.join(FILE_NAME)));
    }
}
