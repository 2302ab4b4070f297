//! `[helm]` and `[kustomize]` of redline.toml, and the `--helm`/
//! `--kustomize` flags: which binaries render charts and build overlays,
//! and how each chart is rendered.
//!
//! ```toml
//! [helm]
//! binary = "/opt/helm/bin/helm"   # default: `helm` on PATH
//! timeout-seconds = 120           # per chart (default 60)
//! kube-version = "1.31"           # helm template --kube-version (default: helm's own)
//!
//! [[helm.charts]]
//! path = "deploy/chart"           # relative to redline.toml
//! values = ["values-prod.yaml"]   # relative to the chart, else to redline.toml
//! release = "api"                 # default: the chart's name
//! namespace = "prod"
//!
//! [kustomize]
//! binary = "kubectl"              # default: `kustomize` on PATH, else `kubectl kustomize`
//! ```

use crate::render::Tool;
use redline_config::{Document, Spanned};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One `[[helm.charts]]` entry, paths resolved.
#[derive(Debug, Clone)]
pub struct ChartSettings {
    pub path: PathBuf,
    pub values: Vec<PathBuf>,
    pub release: Option<String>,
    pub namespace: Option<String>,
}

/// Everything rendering needs besides the files.
#[derive(Debug, Clone)]
pub struct RenderSettings {
    /// `helm`, when there is one.
    pub helm: Option<Tool>,
    /// `kustomize` or `kubectl kustomize`, when there is one.
    pub kustomize: Option<Tool>,
    pub charts: Vec<ChartSettings>,
    /// Per chart or overlay.
    pub timeout: Duration,
    /// The directory of redline.toml.
    pub base_dir: Option<PathBuf>,
    /// `--kube-version` for `helm template`.
    pub kube_version: Option<String>,
    /// Where rendered output is cached (`None`: render every time).
    pub cache: Option<crate::render_cache::RenderCache>,
}

impl Default for RenderSettings {
    fn default() -> RenderSettings {
        RenderSettings {
            helm: None,
            kustomize: None,
            charts: Vec::new(),
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
            base_dir: None,
            kube_version: None,
            cache: None,
        }
    }
}

const DEFAULT_TIMEOUT_SECONDS: u64 = 60;

/// Overrides from the command line (`--helm PATH`, `--kustomize PATH`).
#[derive(Debug, Default, Clone, Copy)]
pub struct ToolFlags<'a> {
    pub helm: Option<&'a Path>,
    pub kustomize: Option<&'a Path>,
}

/// What PATH offers when neither a flag nor redline.toml names a tool:
/// `helm`, `kustomize`, `kubectl`, each where PATH finds it.
pub fn tools_on_path() -> [Option<PathBuf>; 3] {
    ["helm", "kustomize", "kubectl"].map(on_path)
}

/// `name` on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// A binary named by the user: a bare name is looked up on PATH, a path is
/// relative to `base` (redline.toml's directory, or the working directory
/// for a flag).
fn named_binary(what: &str, value: &str, base: Option<&Path>) -> Result<PathBuf, String> {
    let p = Path::new(value);
    let found = if p.components().count() == 1 && !p.is_absolute() {
        on_path(value)
    } else {
        let full = match base {
            Some(b) if p.is_relative() => b.join(p),
            _ => p.to_path_buf(),
        };
        is_executable(&full).then_some(full)
    };
    found.ok_or_else(|| {
        format!(
            "{what} `{value}`: no such executable (give a path to the binary, or a name on PATH)"
        )
    })
}

fn kustomize_tool(program: PathBuf) -> Tool {
    let is_kubectl = program
        .file_stem()
        .is_some_and(|n| n.to_string_lossy().starts_with("kubectl"));
    Tool {
        program,
        prefix: if is_kubectl {
            vec!["kustomize".into()]
        } else {
            Vec::new()
        },
    }
}

impl RenderSettings {
    /// Reads `[helm]` and `[kustomize]` of `config` and finds the tools
    /// (flags first, then redline.toml, then PATH).
    pub fn load(config: Option<&Document>, flags: ToolFlags) -> Result<RenderSettings, String> {
        let mut s = RenderSettings::default();
        let no_helm = Default::default();
        let no_kustomize = Default::default();
        let (helm, kustomize) = match config {
            Some(doc) => {
                s.base_dir = Some(doc.dir());
                let t = doc.tables();
                (
                    t.helm.as_ref().unwrap_or(&no_helm),
                    t.kustomize.as_ref().unwrap_or(&no_kustomize),
                )
            }
            None => (&no_helm, &no_kustomize),
        };
        // Only a document has keys to point at.
        let at = |offset: usize, message: &str| match config {
            Some(doc) => doc.error_at(offset, message),
            None => message.to_string(),
        };
        let base = s.base_dir.clone();
        // The flag, else the table's `binary`, else the default on PATH.
        let binary = |flag: Option<&Path>,
                      option: &str,
                      configured: Option<&Spanned<String>>,
                      key: &str,
                      default: fn() -> Option<PathBuf>| {
            match (flag, configured) {
                (Some(flag), _) => named_binary(option, &flag.to_string_lossy(), None).map(Some),
                (None, Some(b)) => {
                    named_binary(&at(b.span().start, key), b.get_ref(), base.as_deref()).map(Some)
                }
                (None, None) => Ok(default()),
            }
        };
        s.helm = binary(
            flags.helm,
            "--helm",
            helm.binary.as_ref(),
            "[helm] binary",
            || on_path("helm"),
        )?
        .map(|program| Tool {
            program,
            prefix: Vec::new(),
        });
        if let Some(t) = &helm.timeout_seconds {
            if *t.get_ref() == 0 {
                return Err(at(
                    t.span().start,
                    "[helm] timeout-seconds must be at least 1",
                ));
            }
            s.timeout = Duration::from_secs(*t.get_ref());
        }
        s.kube_version = helm.kube_version.clone();
        for c in &helm.charts {
            let chart = match &base {
                Some(b) => b.join(c.path.get_ref()),
                None => PathBuf::from(c.path.get_ref()),
            };
            if !chart.join("Chart.yaml").is_file() {
                return Err(at(
                    c.path.span().start,
                    &format!(
                        "[[helm.charts]] path `{}`: no Chart.yaml in {}",
                        c.path.get_ref(),
                        chart.display()
                    ),
                ));
            }
            s.charts.push(ChartSettings {
                path: chart,
                values: c.values.iter().map(PathBuf::from).collect(),
                release: c.release.clone(),
                namespace: c.namespace.clone(),
            });
        }
        s.kustomize = binary(
            flags.kustomize,
            "--kustomize",
            kustomize.binary.as_ref(),
            "[kustomize] binary",
            || on_path("kustomize").or_else(|| on_path("kubectl")),
        )?
        .map(kustomize_tool);
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse_and_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("redline-render-cfg-{}", std::process::id()));
        let chart = dir.join("deploy/chart");
        std::fs::create_dir_all(&chart).unwrap();
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: c\nversion: 1.0.0\n",
        )
        .unwrap();
        let cfg = dir.join("redline.toml");
        let load = |cfg: &Path, flags| {
            Document::load(cfg).and_then(|doc| RenderSettings::load(Some(&doc), flags))
        };
        std::fs::write(
            &cfg,
            "[helm]\ntimeout-seconds = 5\nkube-version = \"1.31\"\n[[helm.charts]]\npath = \"deploy/chart\"\nvalues = [\"values-prod.yaml\"]\nrelease = \"api\"\nnamespace = \"prod\"\n",
        )
        .unwrap();
        let s = load(&cfg, ToolFlags::default()).unwrap();
        assert_eq!(s.timeout, Duration::from_secs(5));
        assert_eq!(s.kube_version.as_deref(), Some("1.31"));
        assert_eq!(s.charts.len(), 1);
        assert_eq!(s.charts[0].release.as_deref(), Some("api"));
        assert_eq!(s.charts[0].namespace.as_deref(), Some("prod"));
        assert!(s.charts[0].path.ends_with("deploy/chart"));
        std::fs::write(&cfg, "[[helm.charts]]\npath = \"nope\"\n").unwrap();
        let err = load(&cfg, ToolFlags::default()).unwrap_err();
        assert!(
            err.contains("redline.toml:2:8: [[helm.charts]] path `nope`"),
            "{err}"
        );
        std::fs::write(&cfg, "[helm]\n\ntimeout-seconds = 0\n").unwrap();
        let err = load(&cfg, ToolFlags::default()).unwrap_err();
        assert!(
            err.contains("redline.toml:3:19: [helm] timeout-seconds"),
            "{err}"
        );
        std::fs::write(&cfg, "[kustomize]\nbinary = \"./no-such-kustomize\"\n").unwrap();
        let err = load(&cfg, ToolFlags::default()).unwrap_err();
        assert!(
            err.contains(
                "redline.toml:2:10: [kustomize] binary `./no-such-kustomize`: no such executable"
            ),
            "{err}"
        );
        std::fs::write(&cfg, "[helm]\nbinery = \"x\"\n").unwrap();
        let err = load(&cfg, ToolFlags::default()).unwrap_err();
        assert!(err.contains("redline.toml:2"), "{err}");
        std::fs::write(&cfg, "").unwrap();
        let err = load(
            &cfg,
            ToolFlags {
                helm: Some(Path::new("/nonexistent/helm")),
                kustomize: None,
            },
        )
        .unwrap_err();
        assert!(
            err.contains("--helm") && err.contains("/nonexistent/helm"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn kubectl_builds_with_its_kustomize_subcommand() {
        let t = kustomize_tool(PathBuf::from("/usr/bin/kubectl"));
        assert_eq!(t.prefix, ["kustomize"]);
        assert!(
            kustomize_tool(PathBuf::from("/x/kustomize"))
                .prefix
                .is_empty()
        );
    }
}
