//! Finding the files to check: `.go` sources and candidate manifests.

use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, Default)]
pub struct DiscoveryOptions {
    /// Globs of paths to leave out (matched against the path as given and
    /// relative to the scan root, e.g. `**/zz_generated*.go`, `internal/legacy/**`).
    pub exclude: Vec<String>,
    /// Also collect `.yaml`, `.yml` and `.json` files (manifest candidates).
    pub manifests: bool,
}

/// A file selected for checking.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DiscoveredFile {
    pub path: PathBuf,
    /// Named on the command line: always checked, even if generated.
    pub explicit: bool,
}

#[derive(Debug, Default)]
pub struct Discovered {
    pub go_files: Vec<DiscoveredFile>,
    pub manifest_files: Vec<DiscoveredFile>,
    /// `go.mod` files found in scanned directories (or named explicitly).
    pub go_mod_files: Vec<DiscoveredFile>,
}

fn build_globs(patterns: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p).map_err(|e| format!("invalid exclude glob `{p}`: {e}"))?;
        b.add(glob);
        // `dir/**` should also exclude `dir` itself so the walk prunes it.
        if let Some(stripped) = p.strip_suffix("/**") {
            b.add(Glob::new(stripped).map_err(|e| format!("invalid exclude glob `{p}`: {e}"))?);
        }
    }
    b.build().map_err(|e| format!("invalid exclude globs: {e}"))
}

fn excluded(set: &GlobSet, root: &Path, path: &Path) -> bool {
    if set.is_empty() {
        return false;
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    let rel = rel.strip_prefix("./").unwrap_or(rel);
    set.is_match(rel) || set.is_match(path)
}

fn is_manifest_ext(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Walks `paths` (files or directories). Directories honour `.gitignore`,
/// skip hidden entries, `vendor/` and `testdata/`. Errors name the path.
pub fn discover(paths: &[PathBuf], options: &DiscoveryOptions) -> Result<Discovered, String> {
    let globs = build_globs(&options.exclude)?;
    let mut out = Discovered::default();
    for root in paths {
        let meta = std::fs::metadata(root)
            .map_err(|e| format!("{}: {}", root.display(), io_reason(&e)))?;
        // Anything but a directory named on the command line is read as one
        // file: a regular file, and also a FIFO, `/dev/stdin` or `<(…)`,
        // which a walk would skip (never opened during a walk: a FIFO can
        // block forever).
        if !meta.is_dir() {
            let f = DiscoveredFile {
                path: root.clone(),
                explicit: true,
            };
            if root.extension().is_some_and(|e| e == "go") {
                out.go_files.push(f);
            } else if root.file_name().is_some_and(|n| n == "go.mod") {
                out.go_mod_files.push(f);
            } else if is_manifest_ext(root) {
                out.manifest_files.push(f);
            } else if !meta.is_file() {
                return Err(format!(
                    "{}: a pipe or device, and its name does not say what it holds; pipe it to standard input and name it, e.g. `redline check --stdin-filename main.go - < {}` (or deploy.yaml, go.mod)",
                    root.display(),
                    root.display()
                ));
            } else {
                return Err(format!(
                    "{}: not a Go (.go), go.mod or manifest (.yaml, .yml, .json) file",
                    root.display()
                ));
            }
            continue;
        }
        type Found = (
            Vec<DiscoveredFile>,
            Vec<DiscoveredFile>,
            Vec<DiscoveredFile>,
            Vec<String>,
        );
        let found: Mutex<Found> = Mutex::new(Default::default());
        let root_for_filter = root.clone();
        let globs_for_filter = globs.clone();
        let walker = ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(true)
            .require_git(false)
            .filter_entry(move |e| {
                if e.depth() == 0 {
                    return true;
                }
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                if is_dir && matches!(e.file_name().to_str(), Some("vendor" | "testdata")) {
                    return false;
                }
                !excluded(&globs_for_filter, &root_for_filter, e.path())
            })
            .build_parallel();
        let manifests = options.manifests;
        walker.run(|| {
            let found = &found;
            Box::new(move |entry| {
                match entry {
                    Ok(e) => {
                        if e.file_type().is_some_and(|t| t.is_file()) {
                            let p = e.into_path();
                            let is_go = p.extension().is_some_and(|x| x == "go");
                            if p.file_name().is_some_and(|n| n == "go.mod") {
                                let mut g = found.lock().unwrap_or_else(|e| e.into_inner());
                                g.2.push(DiscoveredFile {
                                    path: p,
                                    explicit: false,
                                });
                            } else if is_go || (manifests && is_manifest_ext(&p)) {
                                let f = DiscoveredFile {
                                    path: p,
                                    explicit: false,
                                };
                                let mut g = found.lock().unwrap_or_else(|e| e.into_inner());
                                if is_go {
                                    g.0.push(f);
                                } else {
                                    g.1.push(f);
                                }
                            }
                        }
                    }
                    Err(err) => {
                        let mut g = found.lock().unwrap_or_else(|e| e.into_inner());
                        g.3.push(err.to_string());
                    }
                }
                ignore::WalkState::Continue
            })
        });
        let (go, yaml, go_mod, errors) = found.into_inner().unwrap_or_else(|e| e.into_inner());
        if let Some(err) = errors.into_iter().next() {
            return Err(err);
        }
        out.go_files.extend(go);
        out.manifest_files.extend(yaml);
        out.go_mod_files.extend(go_mod);
    }
    out.go_files.sort();
    out.go_files.dedup_by(|a, b| a.path == b.path);
    out.manifest_files.sort();
    out.manifest_files.dedup_by(|a, b| a.path == b.path);
    out.go_mod_files.sort();
    out.go_mod_files.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Go's rule for generated files: a line `// Code generated ... DO NOT EDIT.`
/// before the package clause.
pub fn is_generated(source: &[u8]) -> bool {
    // Go ignores a UTF-8 byte order mark at the start of a file.
    let source = source.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(source);
    for line in source.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"package ") || line == b"package" {
            return false;
        }
        if line.starts_with(b"// Code generated ") && line.ends_with(b" DO NOT EDIT.") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_marker_must_precede_package_clause() {
        assert!(is_generated(
            b"// Code generated by protoc-gen-go. DO NOT EDIT.\n\npackage p\n"
        ));
        assert!(is_generated(
            b"// +build linux\n// Code generated by x. DO NOT EDIT.\r\npackage p\n"
        ));
        assert!(!is_generated(
            b"package p\n// Code generated by x. DO NOT EDIT.\n"
        ));
        // A byte order mark before the marker.
        assert!(is_generated(
            b"\xEF\xBB\xBF// Code generated by x. DO NOT EDIT.\n\npackage p\n"
        ));
        assert!(!is_generated(
            b"// Code generated by x. Do not edit.\npackage p\n"
        ));
    }
}
