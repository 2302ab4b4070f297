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
use serde::Deserialize;
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct HelmTable {
    binary: Option<String>,
    timeout_seconds: Option<u64>,
    kube_version: Option<String>,
    #[serde(default)]
    charts: Vec<ChartTable>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ChartTable {
    path: String,
    #[serde(default)]
    values: Vec<String>,
    release: Option<String>,
    namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct KustomizeTable {
    binary: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    helm: Option<HelmTable>,
    kustomize: Option<KustomizeTable>,
}

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
    pub fn load(config: Option<&Path>, flags: ToolFlags) -> Result<RenderSettings, String> {
        let mut s = RenderSettings::default();
        let mut file = ConfigFile::default();
        let mut display = String::new();
        if let Some(path) = config {
            display = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("{display}: cannot read the configuration: {e}"))?;
            file = redline_runtime::config::parse(&display, &text)?;
            s.base_dir = Some(
                path.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            );
        }
        let base = s.base_dir.clone();
        let helm = file.helm.unwrap_or_default();
        s.helm = match (flags.helm, &helm.binary) {
            (Some(flag), _) => Some(named_binary("--helm", &flag.to_string_lossy(), None)?),
            (None, Some(b)) => Some(named_binary(
                &format!("{display}: [helm] binary"),
                b,
                base.as_deref(),
            )?),
            (None, None) => on_path("helm"),
        }
        .map(|program| Tool {
            program,
            prefix: Vec::new(),
        });
        if let Some(t) = helm.timeout_seconds {
            if t == 0 {
                return Err(format!(
                    "{display}: [helm] timeout-seconds must be at least 1"
                ));
            }
            s.timeout = Duration::from_secs(t);
        }
        s.kube_version = helm.kube_version;
        for c in helm.charts {
            let chart = match &base {
                Some(b) => b.join(&c.path),
                None => PathBuf::from(&c.path),
            };
            if !chart.join("Chart.yaml").is_file() {
                return Err(format!(
                    "{display}: [[helm.charts]] path `{}`: no Chart.yaml in {}",
                    c.path,
                    chart.display()
                ));
            }
            s.charts.push(ChartSettings {
                path: chart,
                values: c.values.iter().map(PathBuf::from).collect(),
                release: c.release,
                namespace: c.namespace,
            });
        }
        let kustomize = file.kustomize.unwrap_or_default();
        s.kustomize = match (flags.kustomize, &kustomize.binary) {
            (Some(flag), _) => Some(named_binary("--kustomize", &flag.to_string_lossy(), None)?),
            (None, Some(b)) => Some(named_binary(
                &format!("{display}: [kustomize] binary"),
                b,
                base.as_deref(),
            )?),
            (None, None) => on_path("kustomize").or_else(|| on_path("kubectl")),
        }
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
        std::fs::write(
            &cfg,
            "[helm]\ntimeout-seconds = 5\nkube-version = \"1.31\"\n[[helm.charts]]\npath = \"deploy/chart\"\nvalues = [\"values-prod.yaml\"]\nrelease = \"api\"\nnamespace = \"prod\"\n",
        )
        .unwrap();
        let s = RenderSettings::load(Some(&cfg), ToolFlags::default()).unwrap();
        assert_eq!(s.timeout, Duration::from_secs(5));
        assert_eq!(s.kube_version.as_deref(), Some("1.31"));
        assert_eq!(s.charts.len(), 1);
        assert_eq!(s.charts[0].release.as_deref(), Some("api"));
        assert_eq!(s.charts[0].namespace.as_deref(), Some("prod"));
        assert!(s.charts[0].path.ends_with("deploy/chart"));
        std::fs::write(&cfg, "[[helm.charts]]\npath = \"nope\"\n").unwrap();
        let err = RenderSettings::load(Some(&cfg), ToolFlags::default()).unwrap_err();
        assert!(
            err.contains("redline.toml") && err.contains("nope"),
            "{err}"
        );
        std::fs::write(&cfg, "[helm]\nbinery = \"x\"\n").unwrap();
        let err = RenderSettings::load(Some(&cfg), ToolFlags::default()).unwrap_err();
        assert!(err.contains("redline.toml:2"), "{err}");
        std::fs::write(&cfg, "").unwrap();
        let err = RenderSettings::load(
            Some(&cfg),
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
