//! `redline.toml`: where the one that applies to a directory is, the one
//! read and parse of it ([`Document`]) into typed tables for every part of
//! redline ([`Tables`]), and the one error format every reader of it uses:
//! `file:line:col: message`, unknown keys named. Keys are kebab-case
//! everywhere; an old snake_case spelling is accepted where a table allows
//! it (a serde alias) and reported by [`Document::old_spellings`] as a
//! deprecation warning. Holds no rule logic: each part of redline checks
//! the values of the tables it owns.

mod tables;

pub use tables::*;
pub use toml::Spanned;

use redline_diagnostics::LineIndex;
use serde::Deserialize;
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
fn error_at(display: &str, text: &str, offset: usize, message: impl std::fmt::Display) -> String {
    let (line, col) = LineIndex::new(text.as_bytes()).position(offset.min(text.len()));
    format!("{display}:{line}:{col}: {message}")
}

/// A TOML error of `text` (the contents of `display`) in the one format:
/// its position when it has one, its message on one line.
fn describe(display: &str, text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => error_at(display, text, span.start, message),
        None => format!("{display}: {message}"),
    }
}

/// One `redline.toml`, read and parsed once into its [`Tables`]: every
/// part of redline takes its table from here (or the whole document, for
/// the positions of its errors) instead of reading the file again.
pub struct Document {
    path: PathBuf,
    display: String,
    text: String,
    tables: Tables,
    /// Keys with `_` inside the top-level tables: `(table, offset, key)`.
    underscored: Vec<(String, usize, String)>,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Document {
    /// Reads and parses `path`; errors name it as given.
    pub fn load(path: &Path) -> Result<Document, String> {
        Document::load_as(path, &path.display().to_string())
    }

    /// Reads `path` and parses it; errors name the file `display` (the
    /// path as the user sees it: the check names discovered files relative
    /// to its working directory).
    pub fn load_as(path: &Path, display: &str) -> Result<Document, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{display}: cannot read the configuration: {e}"))?;
        Document::parse(path, display, text)
    }

    /// Parses `text`, the contents of `path` (named `display` in errors):
    /// one parse for every table. An unknown key anywhere, or a value of
    /// the wrong type, is an error `display:line:col: message` that names
    /// the key.
    pub fn parse(path: &Path, display: &str, text: String) -> Result<Document, String> {
        let root = toml::de::DeTable::parse(&text).map_err(|e| describe(display, &text, &e))?;
        let mut underscored = Vec::new();
        for (table, value) in root.get_ref().iter() {
            if let toml::de::DeValue::Table(t) = value.get_ref() {
                for k in t.keys().filter(|k| k.get_ref().contains('_')) {
                    underscored.push((
                        table.get_ref().to_string(),
                        k.span().start,
                        k.get_ref().to_string(),
                    ));
                }
            }
        }
        let tables = Tables::deserialize(toml::de::Deserializer::from(root))
            .map_err(|e| describe(display, &text, &e))?;
        if let Some(key) = tables.env.as_ref().and_then(|e| e.unknown.as_ref()) {
            return Err(error_at(
                display,
                &text,
                key.span().start,
                tables::EnvTable::unknown_key(key.get_ref()),
            ));
        }
        Ok(Document {
            path: path.to_path_buf(),
            display: display.to_string(),
            text,
            tables,
            underscored,
        })
    }

    /// The file, as it was read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file as errors name it.
    pub fn display(&self) -> &str {
        &self.display
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// The directory paths in the file are relative to (`.` for a bare
    /// file name).
    pub fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// `display:line:col: message` at byte `offset` of the file.
    pub fn error_at(&self, offset: usize, message: impl std::fmt::Display) -> String {
        error_at(&self.display, &self.text, offset, message)
    }

    /// Deprecation warnings for the keys of the table `table` spelt the
    /// old way (`fail_below` for `fail-below`), one per key, in the order
    /// of the file, each `DISPLAY:LINE:COL: ... is deprecated; write ...`.
    /// Only for tables whose keys have no `_` of their own (`[slo]`).
    pub fn old_spellings(&self, table: &str) -> Vec<String> {
        let mut keys: Vec<(usize, &str)> = self
            .underscored
            .iter()
            .filter(|(t, _, _)| t == table)
            .map(|(_, at, key)| (*at, key.as_str()))
            .collect();
        keys.sort();
        keys.into_iter()
            .map(|(at, key)| {
                self.error_at(
                    at,
                    format!(
                        "`[{table}] {key}` is deprecated; write `{}`",
                        key.replace('_', "-")
                    ),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Document, String> {
        Document::parse(Path::new("r.toml"), "r.toml", text.to_string())
    }

    #[test]
    fn errors_name_file_line_column_and_the_unknown_key() {
        let err = parse("[slo]\n\nfail-belo = 1\n").unwrap_err();
        assert!(err.starts_with("r.toml:3:1: "), "{err}");
        assert!(
            err.contains("fail-belo") && err.contains("fail-below"),
            "{err}"
        );
        let err = parse("[slo\n").unwrap_err();
        assert!(err.starts_with("r.toml:1:"), "{err}");
        let ok = parse("[slo]\nfail-below = 2.5\n").unwrap();
        assert_eq!(
            ok.tables().slo.as_ref().unwrap().get_ref().fail_below,
            Some(2.5)
        );
    }

    #[test]
    fn every_table_names_its_unknown_key_with_its_position() {
        for (text, key) in [
            ("select = []\n\nselekt = []\n", "selekt"),
            ("[env.PORT]\n\n  requird = true\n", "requird"),
            ("[logs]\n\n  level-feild = \"x\"\n", "level-feild"),
            ("[manifests]\n\n  required-envs = []\n", "required-envs"),
            ("[slo]\n\n  windw = \"30d\"\n", "windw"),
            ("[helm]\n\n  binery = \"x\"\n", "binery"),
            ("[kustomize]\n\n  binery = \"x\"\n", "binery"),
            ("[rules.std-log]\n\n  banned = []\n", "banned"),
            ("[[helm.charts]]\npath = \"c\"\n  valuse = []\n", "valuse"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with("r.toml:3:"), "{text}: {err}");
            assert!(err.contains(&format!("`{key}`")), "{text}: {err}");
        }
        // A key of [env] that names no variable, a value or a table.
        for text in ["[env]\n\n\"my-var\" = 1\n", "[env]\n\n[env.\"my-var\"]\n"] {
            let err = parse(text).unwrap_err();
            assert!(
                err.starts_with("r.toml:3:") && err.contains("`my-var`"),
                "{err}"
            );
        }
    }

    #[test]
    fn names_of_a_vocabulary_are_read_with_their_position() {
        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Class {
            Upper,
            Digit,
        }
        let doc = parse("[env.X]\nclasses = [\"upper\", \"emoji\"]\n").unwrap();
        let classes = doc.tables().env.as_ref().unwrap().vars[0]
            .1
            .classes
            .clone()
            .unwrap();
        assert_eq!(named::<Class>(&doc, &classes[0]), Ok(Class::Upper));
        let err = named::<Class>(&doc, &classes[1]).unwrap_err();
        assert_eq!(
            err,
            "r.toml:2:21: unknown variant `emoji`, expected `upper` or `digit`"
        );
        let _ = Class::Digit;
    }

    #[test]
    fn old_spellings_are_named_with_their_position() {
        // `SOME_KEY` is a variable's table, not an old spelling of [slo].
        let text = "[env.SOME_KEY]\n[slo]\nwindow = \"30d\"\n  fail_below = 5\ntimeout_secs = 3\n";
        let doc = parse(text).unwrap();
        assert_eq!(
            doc.old_spellings("slo"),
            vec![
                "r.toml:4:3: `[slo] fail_below` is deprecated; write `fail-below`".to_string(),
                "r.toml:5:1: `[slo] timeout_secs` is deprecated; write `timeout-secs`".to_string(),
            ]
        );
        assert!(
            parse("[slo]\nfail-below = 5\n")
                .unwrap()
                .old_spellings("slo")
                .is_empty()
        );
        assert!(parse("").unwrap().old_spellings("slo").is_empty());
    }

    #[test]
    fn the_file_is_read_once_and_named_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let err = Document::load_as(&path, "shown.toml").unwrap_err();
        assert!(
            err.starts_with("shown.toml: cannot read the configuration: "),
            "{err}"
        );
        std::fs::write(&path, "[helm]\nbinary = \"h\"\n").unwrap();
        let doc = Document::load(&path).unwrap();
        assert_eq!(doc.path(), path);
        assert_eq!(doc.dir(), dir.path());
        assert_eq!(doc.display(), path.display().to_string());
        assert_eq!(
            doc.tables()
                .helm
                .as_ref()
                .unwrap()
                .binary
                .as_ref()
                .map(|b| b.get_ref().as_str()),
            Some("h")
        );
        assert_eq!(
            Document::parse(Path::new("redline.toml"), "redline.toml", String::new())
                .unwrap()
                .dir(),
            Path::new(".")
        );
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
