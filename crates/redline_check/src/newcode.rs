//! New-code gating: `--new-from-rev REV` and `--new-from-merge-base
//! BRANCH` report what is new since that revision.
//!
//! Two modes ([`Gate`]):
//!
//! - **New findings** (the default): the base revision is checked out into
//!   a temporary directory (tracked files only, with the configuration the
//!   base had) and checked with the same options; a finding of the working
//!   tree is new when its fingerprint (rule, file, normalised flagged
//!   line — [`redline_diagnostics::fingerprints`]) is not among the base's.
//!   A regression made by deleting or moving lines (a removed `Lock()`
//!   makes RL202 fire on an unchanged field line) is caught, and an old
//!   finding on an edited line is not reported. Renamed files keep their
//!   findings' identity (`git diff -M`). With a cache directory the base's
//!   findings are kept there ([`BaseFindings::compute`]), keyed by the
//!   commit, this binary, the configuration source, the command line and
//!   the rendering tools: a gate run again against the same base (every
//!   push to one pull request) neither checks it out nor checks it; renames
//!   are applied to the stored findings on every run, so the working tree
//!   may change freely in between.
//! - **New lines** (`--new-lines-only`): only the findings on lines added
//!   or changed since then, from `git diff -U0` between the revision and
//!   the working tree (uncommitted edits count as new), plus untracked
//!   files, which are new in full. Renames are followed, so a moved file
//!   only surfaces the lines that changed in it.

use crate::baseline::normalise;
use crate::cache::BlobStore;
use redline_diagnostics::Diagnostic;
use redline_diagnostics::fingerprint::{fingerprints_of, line_text};
use redline_diagnostics::render::Sources;
use redline_k8s::render_cache::{ToolId, tool_id};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
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

/// `git ARGS` in `dir`, its standard output when it succeeds; `what`
/// names the command in the error, with git's own first line.
fn git_output(dir: &Path, args: &[&str], what: &str) -> Result<Vec<u8>, String> {
    let out = git(dir, args)?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "{what} failed in {}: {}",
            dir.display(),
            stderr_line(&out)
        ))
    }
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

/// The revision new code is compared with: the repository's top level and
/// the base commit.
#[derive(Debug, Clone)]
pub struct Base {
    pub root: PathBuf,
    pub commit: String,
}

impl Base {
    /// `--new-from-rev REV`.
    pub fn rev(cwd: &Path, rev: &str) -> Result<Base, String> {
        let flag = "--new-from-rev";
        let root = toplevel(cwd, flag)?;
        let commit = resolve_commit(&root, rev, flag)?;
        let root = std::fs::canonicalize(&root).unwrap_or(root);
        Ok(Base { root, commit })
    }

    /// `--new-from-merge-base BRANCH`: the merge base of `branch` and HEAD.
    pub fn merge_base(cwd: &Path, branch: &str) -> Result<Base, String> {
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
        let commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let root = std::fs::canonicalize(&root).unwrap_or(root);
        Ok(Base { root, commit })
    }

    /// Writes the base commit's tracked files into `dir`. A file whose
    /// content is the same in the working tree (git says it did not
    /// change) is hard-linked from there, so a base check of a large tree
    /// writes only the files the change touched; the others are checked
    /// out through a temporary index, so the repository's own index and
    /// work tree are untouched.
    pub fn check_out(&self, dir: &Path) -> Result<(), String> {
        let commit = short(&self.commit);
        let listing = git_output(
            &self.root,
            &["ls-tree", "-r", "-z", "--full-tree", &self.commit],
            &format!("git ls-tree {commit}"),
        )?;
        let diff = git_output(
            &self.root,
            &[
                "diff",
                "--no-ext-diff",
                "--no-renames",
                "--name-only",
                "-z",
                &self.commit,
                "--",
            ],
            &format!("git diff {commit}"),
        )?;
        let changed: std::collections::HashSet<&[u8]> =
            diff.split(|b| *b == 0).filter(|p| !p.is_empty()).collect();
        let mut checkout: Vec<u8> = Vec::new();
        // Directories made so far: one mkdir per directory, not per file.
        let mut made: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
        for entry in listing.split(|b| *b == 0) {
            // `<mode> <type> <object>\t<path>`
            let Some(tab) = entry.iter().position(|b| *b == b'\t') else {
                continue;
            };
            let (meta, path) = (&entry[..tab], &entry[tab + 1..]);
            if meta.split(|b| *b == b' ').nth(1) != Some(b"blob".as_slice()) {
                continue; // submodules
            }
            let rel = Path::new(std::str::from_utf8(path).unwrap_or(""));
            let linked = !changed.contains(path)
                && !rel.as_os_str().is_empty()
                && rel.components().all(|c| matches!(c, Component::Normal(_)))
                && {
                    let dst = dir.join(rel);
                    dst.parent().is_some_and(|p| {
                        made.contains(p)
                            || (std::fs::create_dir_all(p).is_ok() && made.insert(p.to_path_buf()))
                    }) && std::fs::hard_link(self.root.join(rel), &dst).is_ok()
                };
            if !linked {
                checkout.extend_from_slice(path);
                checkout.push(0);
            }
        }
        if checkout.is_empty() {
            return Ok(());
        }
        let index = dir.join(".redline-base-index");
        let run = |args: &[&str], input: Option<&[u8]>| -> Result<(), String> {
            let mut child = Command::new("git")
                .arg("-C")
                .arg(&self.root)
                .args(args)
                .env("GIT_INDEX_FILE", &index)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot run git ({e}); new-code gating needs git on PATH"))?;
            if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
                use std::io::Write;
                let _ = stdin.write_all(bytes);
            }
            let out = child
                .wait_with_output()
                .map_err(|e| format!("cannot run git ({e})"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "cannot check out the base revision {} into {}: {}",
                    short(&self.commit),
                    dir.display(),
                    stderr_line(&out)
                ))
            }
        };
        run(&["read-tree", &self.commit], None)?;
        let mut prefix = dir.to_string_lossy().into_owned();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        run(
            &[
                "checkout-index",
                "--force",
                "-z",
                "--stdin",
                &format!("--prefix={prefix}"),
            ],
            Some(&checkout),
        )?;
        let _ = std::fs::remove_file(&index);
        Ok(())
    }

    /// Files renamed between the base commit and the working tree:
    /// repository-relative old path → new path.
    fn renames(&self) -> Result<HashMap<String, String>, String> {
        let out = git_output(
            &self.root,
            &[
                "diff",
                "--no-color",
                "--no-ext-diff",
                "--name-status",
                "-M",
                "-z",
                &self.commit,
                "--",
            ],
            &format!("git diff {}", short(&self.commit)),
        )?;
        let mut fields = out
            .split(|b| *b == 0)
            .map(|f| String::from_utf8_lossy(f).into_owned());
        let mut renames = HashMap::new();
        while let Some(status) = fields.next() {
            if status.is_empty() {
                continue;
            }
            let Some(first) = fields.next() else { break };
            if status.starts_with('R') || status.starts_with('C') {
                let Some(second) = fields.next() else { break };
                if status.starts_with('R') {
                    renames.insert(first, second);
                }
            }
        }
        Ok(renames)
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// `path` (relative to `cwd`, or absolute) relative to `root`, after
/// resolving symlinks where the file exists; `None` outside `root`.
pub(crate) fn repo_relative(path: &Path, cwd: &Path, root: &Path) -> Option<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let abs = std::fs::canonicalize(&abs).unwrap_or_else(|_| normalise(&abs));
    abs.strip_prefix(root).ok().map(Path::to_path_buf)
}

/// The path of `display` relative to `root`, `/`-separated.
fn relative_to_root(display: &str, cwd: &Path, root: &Path) -> Option<String> {
    let rel = repo_relative(Path::new(display), cwd, root)?;
    Some(rel.to_string_lossy().replace('\\', "/"))
}

/// A finding as the gate compares it, on either side: what its
/// fingerprint hashes and the code it flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateFinding {
    rule: String,
    /// Relative to the repository's top level, `/`-separated; as displayed
    /// when the file lies outside it (`inside` false).
    path: String,
    inside: bool,
    /// Start byte: findings are fingerprinted in file order.
    start: usize,
    /// The fingerprint's line text ([`line_text`]).
    text: String,
    /// The flagged code, whitespace normalised (see [`GateFinding::code_key`]).
    code: Option<String>,
}

impl GateFinding {
    /// The findings `diagnostics` (shown relative to `cwd`) of a tree whose
    /// top level is `root`.
    fn of(
        diagnostics: &[Diagnostic],
        sources: &Sources,
        cwd: &Path,
        root: &Path,
    ) -> Vec<GateFinding> {
        diagnostics
            .iter()
            .map(|d| {
                let rel = relative_to_root(&d.path, cwd, root);
                let src = sources.get(&d.path).map(|s| &s[..]);
                let code = rel.as_ref().and(src).and_then(|src| {
                    let text = src.get(d.span.start_byte..d.span.end_byte)?;
                    let text = String::from_utf8_lossy(text);
                    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
                });
                GateFinding {
                    rule: d.rule.id.to_string(),
                    inside: rel.is_some(),
                    path: rel.unwrap_or_else(|| d.path.clone()),
                    start: d.span.start_byte,
                    text: line_text(d, src),
                    code,
                }
            })
            .collect()
    }

    /// The path, renamed by `rename` when inside the repository.
    fn renamed(&self, rename: &dyn Fn(&str) -> Option<String>) -> String {
        match self.inside.then(|| rename(&self.path)).flatten() {
            Some(p) => p,
            None => self.path.clone(),
        }
    }

    /// What a finding is when its line was edited around it: the rule,
    /// the repository path and the flagged code itself. A trailing comment
    /// or a renamed variable on the same line changes the fingerprint but
    /// not this.
    fn code_key(&self, path: &str) -> Option<String> {
        self.code
            .as_ref()
            .map(|code| format!("{}\0{path}\0{code}", self.rule))
    }
}

/// The fingerprints of `findings` (same order), paths renamed by `rename`
/// first: fingerprints count identical lines in file order.
fn gate_fingerprints(findings: &[GateFinding], paths: &[String]) -> Vec<String> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        (&paths[a], findings[a].start, &findings[a].rule).cmp(&(
            &paths[b],
            findings[b].start,
            &findings[b].rule,
        ))
    });
    let fps = fingerprints_of(order.iter().map(|&i| {
        (
            findings[i].rule.as_str(),
            paths[i].as_str(),
            findings[i].text.as_str(),
        )
    }));
    let mut out = vec![String::new(); findings.len()];
    for (k, &i) in order.iter().enumerate() {
        out[i] = fps[k].clone();
    }
    out
}

/// The findings of the base revision, by fingerprint (a multiset: the
/// same finding twice in the base hides it twice), and by flagged code for
/// the findings whose line was edited.
#[derive(Debug)]
pub struct BaseFindings {
    base: Base,
    fingerprints: HashMap<String, usize>,
    /// [`GateFinding::code_key`] of each base finding, with its fingerprint.
    codes: Vec<(Option<String>, String)>,
    /// How many findings the base had.
    pub count: usize,
    /// Whether they came from the cache (no checkout, no check).
    pub cached: bool,
}

/// Where a check of the working tree maps to in a checked-out base.
#[derive(Debug)]
pub struct BaseTree {
    /// The temporary directory holding the base's files (removed on drop).
    pub dir: tempfile::TempDir,
    /// The working directory, mapped into the base.
    pub cwd: PathBuf,
}

impl BaseTree {
    /// `path` (relative to the real working directory, or absolute) in
    /// the base; `None` when it lies outside the repository.
    pub fn map(&self, path: &Path, cwd: &Path, root: &Path) -> Option<PathBuf> {
        Some(self.dir.path().join(repo_relative(path, cwd, root)?))
    }
}

/// What the check of a checked-out base found, and whether that result
/// may be cached.
pub struct BaseCheck {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Sources,
    /// False when the result depends on more than the commit and the
    /// cache key (a file that could not be read, a rendering that was not
    /// stored).
    pub storable: bool,
    /// The rendering tools the check used: a cached result is used only
    /// while each is the same binary.
    pub tools: Vec<ToolId>,
}

impl BaseCheck {
    /// Nothing checked (the requested paths do not exist in the base).
    pub fn empty() -> BaseCheck {
        BaseCheck {
            diagnostics: Vec::new(),
            sources: Sources::new(),
            storable: true,
            tools: Vec::new(),
        }
    }
}

/// A cache entry of the base revision's findings.
#[derive(Serialize, Deserialize)]
struct StoredBase {
    version: u32,
    commit: String,
    tools: Vec<ToolId>,
    findings: Vec<GateFinding>,
}

/// Bumped whenever [`StoredBase`] or [`GateFinding`] change meaning.
const STORED_BASE_VERSION: u32 = 1;

impl BaseFindings {
    /// The base's findings: from `store` under `key` when an entry is there
    /// (for this commit, made with the same rendering tools), else by
    /// checking out `base` into a temporary directory and handing it to
    /// `check`, which runs the same check there (paths mapped with
    /// [`BaseTree::map`]); a storable result is then stored.
    pub fn compute(
        base: Base,
        cwd: &Path,
        store: Option<(&BlobStore, u128)>,
        check: impl FnOnce(&BaseTree) -> Result<BaseCheck, String>,
    ) -> Result<BaseFindings, String> {
        // Renames first: git compares the working tree with the base
        // before the checkout has touched anything.
        let renames = base.renames()?;
        if let Some((store, key)) = store
            && let Some(bytes) = store.get(key)
            && let Ok(entry) = serde_json::from_slice::<StoredBase>(&bytes)
            && entry.version == STORED_BASE_VERSION
            && entry.commit == base.commit
            && entry
                .tools
                .iter()
                .all(|t| tool_id(Path::new(&t.0)).as_ref() == Some(t))
        {
            return Ok(BaseFindings::from_findings(
                base,
                &entry.findings,
                &renames,
                true,
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix("redline-base-")
            .tempdir()
            .map_err(|e| {
                format!("cannot create a temporary directory for the base revision: {e}")
            })?;
        base.check_out(dir.path())?;
        // The checkout is a repository root, as the working tree is: the
        // search for redline.toml stops there, and .gitignore files apply.
        std::fs::create_dir_all(dir.path().join(".git")).map_err(|e| {
            format!(
                "cannot prepare the base checkout {}: {e}",
                dir.path().display()
            )
        })?;
        let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
        let rel_cwd = cwd.strip_prefix(&base.root).unwrap_or(Path::new(""));
        let tree_dir = std::fs::canonicalize(dir.path()).unwrap_or_else(|_| dir.path().into());
        let tree = BaseTree {
            cwd: tree_dir.join(rel_cwd),
            dir,
        };
        std::fs::create_dir_all(&tree.cwd).map_err(|e| {
            format!(
                "cannot create {} in the base checkout: {e}",
                tree.cwd.display()
            )
        })?;
        let checked = check(&tree)?;
        let findings =
            GateFinding::of(&checked.diagnostics, &checked.sources, &tree.cwd, &tree_dir);
        drop(tree);
        if checked.storable
            && let Some((store, key)) = store
        {
            let entry = StoredBase {
                version: STORED_BASE_VERSION,
                commit: base.commit.clone(),
                tools: checked.tools,
                findings: findings.clone(),
            };
            if let Ok(bytes) = serde_json::to_vec(&entry) {
                store.put(key, &bytes);
            }
        }
        Ok(BaseFindings::from_findings(
            base, &findings, &renames, false,
        ))
    }

    fn from_findings(
        base: Base,
        findings: &[GateFinding],
        renames: &HashMap<String, String>,
        cached: bool,
    ) -> BaseFindings {
        let rename = |p: &str| renames.get(p).cloned();
        let paths: Vec<String> = findings.iter().map(|f| f.renamed(&rename)).collect();
        let fps = gate_fingerprints(findings, &paths);
        let mut fingerprints = HashMap::new();
        for fp in &fps {
            *fingerprints.entry(fp.clone()).or_insert(0) += 1;
        }
        let codes = findings
            .iter()
            .zip(&paths)
            .map(|(f, p)| f.code_key(p))
            .zip(fps)
            .collect();
        BaseFindings {
            base,
            fingerprints,
            codes,
            count: findings.len(),
            cached,
        }
    }

    /// The commit compared with.
    pub fn commit(&self) -> &str {
        &self.base.commit
    }

    /// Keeps the findings the base did not have: first matched by
    /// fingerprint; a finding left over then matches a left-over base
    /// finding of the same rule and file that flags the same code (its line
    /// was edited around it).
    pub fn retain(
        &self,
        diagnostics: Vec<Diagnostic>,
        sources: &Sources,
        cwd: &Path,
    ) -> Vec<Diagnostic> {
        let root = &self.base.root;
        let findings = GateFinding::of(&diagnostics, sources, cwd, root);
        let paths: Vec<String> = findings.iter().map(|f| f.path.clone()).collect();
        let fps = gate_fingerprints(&findings, &paths);
        let mut left = self.fingerprints.clone();
        let matched: Vec<bool> = fps
            .iter()
            .map(|fp| match left.get_mut(fp) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            })
            .collect();
        // Base findings no fingerprint matched, by flagged code.
        let mut unmatched_codes: HashMap<&str, usize> = HashMap::new();
        for (code, fp) in &self.codes {
            if let Some(code) = code
                && left.get(fp).is_some_and(|n| *n > 0)
            {
                // One left-over use of this fingerprint per base finding.
                if let Some(n) = left.get_mut(fp) {
                    *n -= 1;
                }
                *unmatched_codes.entry(code.as_str()).or_insert(0) += 1;
            }
        }
        let codes: Vec<Option<String>> = findings
            .iter()
            .zip(&paths)
            .map(|(f, p)| f.code_key(p))
            .collect();
        diagnostics
            .into_iter()
            .zip(matched)
            .zip(codes)
            .filter(|((_, matched), code)| {
                if *matched {
                    return false;
                }
                match code.as_deref().and_then(|c| unmatched_codes.get_mut(c)) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        false
                    }
                    _ => true,
                }
            })
            .map(|((d, _), _)| d)
            .collect()
    }
}

/// What `--new-from-rev`/`--new-from-merge-base` keep.
#[derive(Debug)]
pub enum Gate {
    /// Findings whose fingerprint the base revision did not have.
    Findings(BaseFindings),
    /// Findings on lines added or changed since the base (`--new-lines-only`).
    Lines(ChangedLines),
}

impl Gate {
    pub fn retain(
        &self,
        diagnostics: Vec<Diagnostic>,
        sources: &Sources,
        cwd: &Path,
    ) -> Vec<Diagnostic> {
        match self {
            Gate::Findings(b) => b.retain(diagnostics, sources, cwd),
            Gate::Lines(c) => c.retain(diagnostics, cwd),
        }
    }

    /// After `--fix` has written files: the changed lines are compared
    /// again (lines moved); the base's findings stay what they were.
    pub fn refresh(self) -> Result<Gate, String> {
        match self {
            Gate::Findings(b) => Ok(Gate::Findings(b)),
            Gate::Lines(c) => Ok(Gate::Lines(c.refresh()?)),
        }
    }
}

impl ChangedLines {
    /// Lines changed since `base`.
    pub fn since(base: &Base) -> Result<ChangedLines, String> {
        ChangedLines::since_commit(base.root.clone(), &base.commit)
    }

    fn since_commit(root: PathBuf, commit: &str) -> Result<ChangedLines, String> {
        let out = git_output(
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
            &format!("git diff {commit}"),
        )?;
        let mut files = parse_diff(&String::from_utf8_lossy(&out));
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
