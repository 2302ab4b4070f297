//! A cache of what `helm template` and `kustomize build` write, so that a
//! chart or overlay whose inputs did not change is not rendered again (a
//! warm `redline check`, and the base revision of `--new-from-rev`, which
//! is checked out in a temporary directory).
//!
//! The key of a chart hashes the content and the path (relative to the
//! scanned root) of every file below the chart directory, of each values
//! file, the release, namespace and `--kube-version`; the key of an
//! overlay hashes every file of every directory its kustomizations reach
//! (the overlay's own directory, the bases, components and resource
//! directories, transitively) and every file they name, wherever it lies.
//! Both also hash the tool: its canonical path, size and modification time
//! (an upgraded or replaced binary misses) and the arguments before the
//! job's own (`kubectl kustomize`). An overlay that names a remote resource
//! (`https://…`, `github.com/…`) or inflates Helm charts (`helmCharts`) is
//! never cached: what it builds can change without any local file changing.
//! Only successful renderings are stored.
//!
//! Paths in kustomize's origin annotations are relative to the temporary
//! wrapper directory redline builds from; they are stored relative to the
//! scanned root, so that an entry made in the working tree serves the same
//! overlay in a checkout of another revision elsewhere.

use crate::render::{KUSTOMIZATION_NAMES, Tool, normalize};
use crate::yaml;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use xxhash_rust::xxh3::{Xxh3, xxh3_128};

/// Where rendered output is kept (the driver's cache directory).
pub trait RenderStore: Send + Sync {
    /// The bytes stored under `key`, if an intact entry is there.
    fn get(&self, key: u128) -> Option<Vec<u8>>;
    /// Stores `value` under `key`; a failure only costs speed.
    fn put(&self, key: u128, value: &[u8]);
}

/// A store and the root that cached paths are relative to.
#[derive(Clone)]
pub struct RenderCache {
    store: Arc<dyn RenderStore>,
    /// The scanned root, canonical.
    root: PathBuf,
    log: Option<Arc<RenderLog>>,
}

/// A tool as the cache tells versions apart: canonical path, size and
/// modification time (nanoseconds since the epoch).
pub type ToolId = (String, u64, u128);

/// The identity of the executable `program`; `None` when it cannot be
/// read.
pub fn tool_id(program: &Path) -> Option<ToolId> {
    let program = program.canonicalize().ok()?;
    let meta = std::fs::metadata(&program).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some((
        program.to_string_lossy().into_owned(),
        meta.len(),
        mtime.as_nanos(),
    ))
}

/// What a run's renderings depended on besides the files they read: the
/// tools that rendered, and whether any rendering was not stored (its
/// result can change with nothing local changing: a remote resource, a
/// failure, an input too large to key). A result built on such a run
/// (the base revision's findings of new-code gating) is not cached either.
#[derive(Debug, Default)]
pub struct RenderLog {
    tools: std::sync::Mutex<BTreeSet<ToolId>>,
    volatile: std::sync::atomic::AtomicBool,
}

impl RenderLog {
    /// The tools that rendered or were looked up in the cache.
    pub fn tools(&self) -> Vec<ToolId> {
        let tools = self.tools.lock().unwrap_or_else(|e| e.into_inner());
        tools.iter().cloned().collect()
    }

    /// Whether a rendering was not stored.
    pub fn volatile(&self) -> bool {
        self.volatile.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn record(&self, tool: &Tool) {
        match tool_id(&tool.program) {
            Some(id) => {
                let mut tools = self.tools.lock().unwrap_or_else(|e| e.into_inner());
                tools.insert(id);
            }
            None => self.mark_volatile(),
        }
    }

    fn mark_volatile(&self) {
        self.volatile
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl std::fmt::Debug for RenderCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderCache")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// Stands for the scanned root in stored kustomize output (a NUL never
/// occurs in kustomize's YAML, which escapes control characters).
const ROOT_MARK: &str = "\u{0}redline-root\u{0}/";

/// Walks stop here: a chart or overlay this large is rendered every time.
const MAX_FILES: usize = 20_000;
const MAX_DIRS: usize = 200;

impl RenderCache {
    pub fn new(store: Arc<dyn RenderStore>, root: &Path) -> RenderCache {
        RenderCache {
            store,
            root: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
            log: None,
        }
    }

    /// The same cache, recording into `log` what its renderings depend on.
    pub fn with_log(mut self, log: Arc<RenderLog>) -> RenderCache {
        self.log = Some(log);
        self
    }

    fn note_tool(&self, tool: &Tool) {
        if let Some(log) = &self.log {
            log.record(tool);
        }
    }

    /// Notes that a rendering was not stored (see [`RenderLog`]).
    pub fn note_unstored(&self) {
        if let Some(log) = &self.log {
            log.mark_volatile();
        }
    }

    /// `path` relative to the root when it lies below it, else absolute.
    fn shown(&self, path: &Path) -> String {
        let real = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        match real.strip_prefix(&self.root) {
            Ok(rel) => format!("./{}", rel.display()),
            Err(_) => real.display().to_string(),
        }
    }

    fn add_file(&self, h: &mut Xxh3, path: &Path) -> Option<()> {
        let bytes = std::fs::read(path).ok()?;
        h.update(self.shown(path).as_bytes());
        h.update(b"\0");
        h.update(&xxh3_128(&bytes).to_le_bytes());
        Some(())
    }

    /// The key of `helm template RELEASE DIR [--kube-version] [--namespace]
    /// [--values …]`; `None`: do not cache.
    pub fn chart_key(
        &self,
        tool: &Tool,
        dir: &Path,
        release: &str,
        namespace: Option<&str>,
        kube_version: Option<&str>,
        values: &[PathBuf],
    ) -> Option<u128> {
        self.note_tool(tool);
        let mut h = tool_hasher("helm", tool)?;
        h.update(self.shown(dir).as_bytes());
        h.update(b"\0");
        for part in [Some(release), namespace, kube_version] {
            h.update(part.unwrap_or("\u{1}").as_bytes());
            h.update(b"\0");
        }
        let mut files = Vec::new();
        walk(dir, 0, &mut files)?;
        files.sort();
        for f in &files {
            self.add_file(&mut h, f)?;
        }
        h.update(b"values\0");
        for v in values {
            self.add_file(&mut h, v)?;
        }
        Some(h.digest128())
    }

    /// The key of building the overlay in `dir`; `None`: do not cache.
    pub fn overlay_key(&self, tool: &Tool, dir: &Path) -> Option<u128> {
        self.note_tool(tool);
        let mut h = tool_hasher("kustomize", tool)?;
        h.update(self.shown(dir).as_bytes());
        h.update(b"\0");
        let mut files: BTreeSet<PathBuf> = BTreeSet::new();
        let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
        let mut stack = vec![normalize(dir)];
        while let Some(d) = stack.pop() {
            if !seen.insert(d.clone()) {
                continue;
            }
            if seen.len() > MAX_DIRS {
                return None;
            }
            // Every file of the directory: generators, transformer
            // configs and replacements name files in many ways.
            for entry in std::fs::read_dir(&d).ok()? {
                let path = entry.ok()?.path();
                if path.is_file() {
                    files.insert(path);
                }
            }
            let Some(k) = KUSTOMIZATION_NAMES
                .iter()
                .map(|n| d.join(n))
                .find(|p| p.is_file())
            else {
                continue;
            };
            let text = std::fs::read_to_string(&k).ok()?;
            let stream = yaml::parse_stream(&text);
            for doc in &stream.documents {
                if doc.get("helmCharts").is_some()
                    || doc.get("helmChartInflationGenerator").is_some()
                {
                    return None;
                }
                let mut remote = false;
                scalars(doc, &mut |s| {
                    let s = s.trim();
                    if s.contains("://") || s.starts_with("github.com/") || s.starts_with("git@") {
                        remote = true;
                        return;
                    }
                    // `key=path` in configMapGenerator/secretGenerator.
                    let s = s.split_once('=').map_or(s, |(_, p)| p);
                    if s.is_empty() || s.contains('\n') || s.len() > 4096 {
                        return;
                    }
                    let p = normalize(&d.join(s));
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.is_file() {
                        files.insert(p);
                    }
                });
                if remote {
                    return None;
                }
            }
            if files.len() > MAX_FILES {
                return None;
            }
        }
        for f in &files {
            self.add_file(&mut h, f)?;
        }
        Some(h.digest128())
    }

    pub fn get(&self, key: u128) -> Option<Vec<u8>> {
        self.store.get(key)
    }

    pub fn put(&self, key: u128, value: &[u8]) {
        self.store.put(key, value);
    }

    /// kustomize output as stored: the wrapper-relative prefix of the root
    /// (`prefix`, ending in `/`) replaced by a mark.
    pub fn to_stored(text: &str, prefix: &str) -> String {
        text.replace(prefix, ROOT_MARK)
    }

    /// Stored kustomize output for a wrapper whose path to the root is
    /// `prefix`.
    pub fn from_stored(text: &str, prefix: &str) -> String {
        text.replace(ROOT_MARK, prefix)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// The tool's identity: kind, canonical path, size, modification time and
/// its fixed arguments. `None` when the binary cannot be looked at.
fn tool_hasher(kind: &str, tool: &Tool) -> Option<Xxh3> {
    let (program, len, mtime) = tool_id(&tool.program)?;
    let mut h = Xxh3::new();
    h.update(b"redline-render-v1\0");
    h.update(kind.as_bytes());
    h.update(b"\0");
    h.update(program.as_bytes());
    h.update(b"\0");
    h.update(&len.to_le_bytes());
    h.update(&mtime.to_le_bytes());
    for a in &tool.prefix {
        h.update(a.as_bytes());
        h.update(b"\0");
    }
    h.update(b"\0");
    Some(h)
}

/// Every regular file below `dir` (symbolic links to files included,
/// links to directories not followed).
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Option<()> {
    if depth > 32 {
        return None;
    }
    for entry in std::fs::read_dir(dir).ok()? {
        let entry = entry.ok()?;
        let kind = entry.file_type().ok()?;
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, depth + 1, out)?;
        } else if path.is_file() {
            out.push(path);
            if out.len() > MAX_FILES {
                return None;
            }
        }
    }
    Some(())
}

/// Calls `f` with every string scalar of `node` (keys left out).
fn scalars(node: &yaml::YamlNode, f: &mut dyn FnMut(&str)) {
    if let Some(s) = node.as_str() {
        f(s);
    } else if let Some(items) = node.as_seq() {
        for n in items {
            scalars(n, f);
        }
    } else if let Some(entries) = node.as_map() {
        for (_, v) in entries {
            scalars(v, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Memory(Mutex<std::collections::HashMap<u128, Vec<u8>>>);
    impl RenderStore for Memory {
        fn get(&self, key: u128) -> Option<Vec<u8>> {
            self.0.lock().ok()?.get(&key).cloned()
        }
        fn put(&self, key: u128, value: &[u8]) {
            if let Ok(mut m) = self.0.lock() {
                m.insert(key, value.to_vec());
            }
        }
    }

    fn tool() -> Tool {
        Tool {
            program: std::env::current_exe().expect("exe"),
            prefix: vec!["kustomize".into()],
        }
    }

    fn write(p: &Path, text: &str) {
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    #[test]
    fn overlay_key_follows_bases_and_named_files_and_is_path_independent() {
        let a = tempfile::tempdir().expect("tmp");
        let b = tempfile::tempdir().expect("tmp");
        for root in [a.path(), b.path()] {
            write(
                &root.join("base/kustomization.yaml"),
                "resources: [deploy.yaml]\n",
            );
            write(&root.join("base/deploy.yaml"), "kind: Deployment\n");
            write(
                &root.join("prod/kustomization.yaml"),
                "resources: [../base]\nconfigMapGenerator:\n- name: c\n  files: [app=../conf/app.properties]\n",
            );
            write(&root.join("conf/app.properties"), "a=1\n");
            write(&root.join("unrelated/x.yaml"), "kind: Service\n");
        }
        let store: Arc<dyn RenderStore> = Arc::new(Memory::default());
        let ca = RenderCache::new(store.clone(), a.path());
        let cb = RenderCache::new(store, b.path());
        let key = |c: &RenderCache, root: &Path| c.overlay_key(&tool(), &root.join("prod"));
        let k = key(&ca, a.path()).expect("cacheable");
        // The same files in another directory: the same key.
        assert_eq!(key(&cb, b.path()), Some(k));
        // A file outside the reached directories does not enter.
        write(&b.path().join("unrelated/x.yaml"), "kind: Job\n");
        assert_eq!(key(&cb, b.path()), Some(k));
        // A base's file, and a generator's file elsewhere, do.
        write(&b.path().join("base/deploy.yaml"), "kind: StatefulSet\n");
        let k2 = key(&cb, b.path()).expect("cacheable");
        assert_ne!(k2, k);
        write(&b.path().join("conf/app.properties"), "a=2\n");
        assert_ne!(key(&cb, b.path()), Some(k2));
    }

    #[test]
    fn remote_resources_and_helm_inflation_are_not_cached() {
        let d = tempfile::tempdir().expect("tmp");
        let store: Arc<dyn RenderStore> = Arc::new(Memory::default());
        let c = RenderCache::new(store, d.path());
        write(
            &d.path().join("o/kustomization.yaml"),
            "resources:\n- https://github.com/x/y//config?ref=v1\n",
        );
        assert_eq!(c.overlay_key(&tool(), &d.path().join("o")), None);
        write(
            &d.path().join("o/kustomization.yaml"),
            "helmCharts:\n- name: x\n  repo: oci://r\n",
        );
        assert_eq!(c.overlay_key(&tool(), &d.path().join("o")), None);
    }

    #[test]
    fn chart_key_covers_templates_values_and_arguments() {
        let d = tempfile::tempdir().expect("tmp");
        let store: Arc<dyn RenderStore> = Arc::new(Memory::default());
        let c = RenderCache::new(store, d.path());
        let chart = d.path().join("chart");
        write(&chart.join("Chart.yaml"), "name: c\n");
        write(&chart.join("templates/d.yaml"), "kind: Deployment\n");
        let values = d.path().join("prod.yaml");
        write(&values, "replicas: 2\n");
        let key = |release: &str| {
            c.chart_key(
                &tool(),
                &chart,
                release,
                None,
                None,
                std::slice::from_ref(&values),
            )
        };
        let k = key("r").expect("cacheable");
        assert_eq!(key("r"), Some(k));
        assert_ne!(key("other"), Some(k));
        write(&values, "replicas: 3\n");
        let k2 = key("r").expect("cacheable");
        assert_ne!(k2, k);
        write(&chart.join("templates/d.yaml"), "kind: StatefulSet\n");
        assert_ne!(key("r"), Some(k2));
        // A values file that cannot be read: not cached (helm reports it).
        assert_eq!(
            c.chart_key(
                &tool(),
                &chart,
                "r",
                None,
                None,
                &[d.path().join("missing.yaml")]
            ),
            None
        );
    }

    #[test]
    fn stored_output_is_relative_to_the_root() {
        let text = "path: ../../work/tree/base/d.yaml\nother: ../../work/tree/x\n";
        let stored = RenderCache::to_stored(text, "../../work/tree/");
        assert!(!stored.contains("work/tree"), "{stored:?}");
        assert_eq!(
            RenderCache::from_stored(&stored, "../redline-base-1/"),
            "path: ../redline-base-1/base/d.yaml\nother: ../redline-base-1/x\n"
        );
    }
}
