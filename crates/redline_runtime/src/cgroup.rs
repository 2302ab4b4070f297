//! The CPU quota of this process's cgroup, as go.uber.org/automaxprocs and
//! Go ≥ 1.25's runtime read it: cgroup v2 `cpu.max`, cgroup v1
//! `cpu.cfs_quota_us` / `cpu.cfs_period_us`, at the path that
//! `/proc/self/cgroup` names under the mount that `/proc/self/mountinfo`
//! lists.
//!
//! Every path is read under a root (`/` in production) so tests can point
//! it at a fake tree (`--cgroup-root`, `REDLINE_CGROUP_ROOT`).
//!
//! Nested cgroups: a parent's quota also throttles its children, so the
//! limit is the smallest quota on the way from the process's cgroup up to
//! the mount point. (Go 1.25's runtime reads only the leaf and says in its
//! source that a tighter parent limit "would be our effective limit";
//! container runtimes usually hide parents anyway.)

use std::path::{Path, PathBuf};

/// A CPU bandwidth limit.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuLimit {
    /// CPUs the quota allows (quota / period), e.g. 1.5.
    pub cpus: f64,
    pub quota_us: u64,
    pub period_us: u64,
    /// The file the limiting quota was read from (under the root).
    pub source: PathBuf,
    /// 1 or 2.
    pub version: u8,
}

/// What the cgroup says about CPU.
#[derive(Debug, Clone, PartialEq)]
pub enum CpuQuota {
    Limited(CpuLimit),
    /// A cgroup was found and it sets no quota (`max` / `-1`).
    Unlimited {
        source: PathBuf,
        version: u8,
    },
}

/// How to turn a fractional CPU limit into a thread count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Rounding {
    /// automaxprocs: round down, at least 1 (never more threads than the
    /// quota can feed).
    #[default]
    Down,
    /// Go 1.25's runtime: round up, at least 2, at most the CPUs this
    /// process may run on.
    Up,
}

impl Rounding {
    pub fn as_str(self) -> &'static str {
        match self {
            Rounding::Down => "down",
            Rounding::Up => "up",
        }
    }
}

impl CpuLimit {
    /// The GOMAXPROCS this limit asks for.
    /// The GOMAXPROCS this limit asks for. `allowed_cpus` (the CPUs of the
    /// process's affinity mask, when known) caps `Up` as Go caps it.
    pub fn gomaxprocs(&self, rounding: Rounding, allowed_cpus: Option<u64>) -> u64 {
        match rounding {
            Rounding::Down => (self.quota_us / self.period_us).max(1),
            Rounding::Up => {
                let n = self.quota_us.div_ceil(self.period_us).max(2);
                allowed_cpus.map_or(n, |cpus| n.min(cpus.max(1)))
            }
        }
    }

    /// The largest GOMAXPROCS the limit justifies: the quota rounded up
    /// (as RL702 counts it).
    pub fn max_gomaxprocs(&self) -> u64 {
        self.quota_us.div_ceil(self.period_us).max(1)
    }
}

/// CPUs in the affinity mask (`Cpus_allowed_list` of
/// `<root>/proc/self/status`), when readable.
pub fn allowed_cpus(root: &Path) -> Option<u64> {
    let status = std::fs::read_to_string(under(root, "/proc/self/status")).ok()?;
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?
        .trim();
    parse_cpu_list(list)
}

/// `0-3,8,10-11` → 7.
pub fn parse_cpu_list(list: &str) -> Option<u64> {
    let mut n: u64 = 0;
    for part in list.split(',').filter(|p| !p.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?),
            None => {
                let a = part.trim().parse::<u64>().ok()?;
                (a, a)
            }
        };
        n = n.checked_add(b.checked_sub(a)? + 1)?;
    }
    (n > 0).then_some(n)
}

/// The root under which `/proc` and `/sys` are read: `override_root`, or
/// `/`.
pub fn root_or_default(override_root: Option<&Path>) -> PathBuf {
    override_root
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn under(root: &Path, abs: &str) -> PathBuf {
    root.join(abs.trim_start_matches('/'))
}

#[derive(Debug, Clone)]
struct Mount {
    root: String,
    mount_point: String,
    fstype: String,
    super_options: String,
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 4 <= bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let v = (bytes[i + 1] - b'0') as u32 * 64
                + (bytes[i + 2] - b'0') as u32 * 8
                + (bytes[i + 3] - b'0') as u32;
            out.push(v as u8);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_mountinfo(text: &str) -> Vec<Mount> {
    let mut mounts = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        if dash < 6 || fields.len() < dash + 3 {
            continue;
        }
        mounts.push(Mount {
            root: unescape_octal(fields[3]),
            mount_point: unescape_octal(fields[4]),
            fstype: fields[dash + 1].to_string(),
            super_options: fields.get(dash + 3).unwrap_or(&"").to_string(),
        });
    }
    mounts
}

/// `/proc/self/cgroup`: (hierarchy id, controllers, path).
fn parse_proc_cgroup(text: &str) -> Vec<(String, Vec<String>, String)> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let id = parts.next()?.to_string();
            let controllers = parts.next()?;
            let path = parts.next()?.to_string();
            let controllers = if controllers.is_empty() {
                Vec::new()
            } else {
                controllers.split(',').map(str::to_string).collect()
            };
            Some((id, controllers, path))
        })
        .collect()
}

/// The directory of a cgroup path inside a mount: the path relative to
/// the mount's root, joined to the mount point.
fn cgroup_dir(mount: &Mount, cgroup_path: &str) -> String {
    // Component-wise: `/kube` is not a prefix of `/kubepods`. A cgroup
    // outside the mount's view (a cgroup namespace) is the mount point.
    let rel = Path::new(cgroup_path)
        .strip_prefix(&mount.root)
        .map(|r| r.to_string_lossy().into_owned())
        .unwrap_or_default();
    if rel.is_empty() {
        mount.mount_point.clone()
    } else {
        format!("{}/{}", mount.mount_point.trim_end_matches('/'), rel)
    }
}

/// Reads the CPU quota of this process's cgroup under `root`.
/// `Err` says what is missing or malformed (by file).
pub fn cpu_quota(root: &Path) -> Result<CpuQuota, String> {
    let proc_cgroup = under(root, "/proc/self/cgroup");
    let text = std::fs::read_to_string(&proc_cgroup)
        .map_err(|e| format!("{}: cannot read: {e}", proc_cgroup.display()))?;
    let entries = parse_proc_cgroup(&text);
    let mountinfo_path = under(root, "/proc/self/mountinfo");
    let mounts = match std::fs::read_to_string(&mountinfo_path) {
        Ok(t) => parse_mountinfo(&t),
        Err(_) => Vec::new(),
    };

    // cgroup v1 with the cpu controller (also a hybrid host's cpu).
    if let Some((_, _, path)) = entries
        .iter()
        .find(|(_, c, _)| c.iter().any(|c| c == "cpu"))
    {
        let mount = mounts
            .iter()
            .find(|m| m.fstype == "cgroup" && m.super_options.split(',').any(|o| o == "cpu"))
            .cloned()
            .unwrap_or_else(|| Mount {
                root: "/".into(),
                mount_point: "/sys/fs/cgroup/cpu".into(),
                fstype: "cgroup".into(),
                super_options: "cpu".into(),
            });
        return walk_up(root, &mount, path, 1);
    }
    if let Some((_, _, path)) = entries.iter().find(|(id, c, _)| id == "0" && c.is_empty()) {
        let mount = mounts
            .iter()
            .find(|m| m.fstype == "cgroup2")
            .cloned()
            .unwrap_or_else(|| Mount {
                root: "/".into(),
                mount_point: "/sys/fs/cgroup".into(),
                fstype: "cgroup2".into(),
                super_options: String::new(),
            });
        return walk_up(root, &mount, path, 2);
    }
    Err(format!(
        "{}: no cgroup v2 entry (`0::/…`) and no cgroup v1 `cpu` controller",
        proc_cgroup.display()
    ))
}

fn walk_up(root: &Path, mount: &Mount, cgroup_path: &str, version: u8) -> Result<CpuQuota, String> {
    let top = under(root, &mount.mount_point);
    let mut dir = under(root, &cgroup_dir(mount, cgroup_path));
    if !dir.starts_with(&top) {
        dir = top.clone();
    }
    let mut best: Option<CpuLimit> = None;
    let mut first_source: Option<PathBuf> = None;
    let mut read_any = false;
    loop {
        let found = if version == 2 {
            read_v2(&dir)?
        } else {
            read_v1(&dir)?
        };
        if let Some((limit, source)) = found {
            read_any = true;
            first_source.get_or_insert(source);
            if let Some(limit) = limit
                && best.as_ref().is_none_or(|b| limit.cpus < b.cpus)
            {
                best = Some(limit);
            }
        }
        if dir == top || !dir.pop() || !dir.starts_with(&top) {
            break;
        }
    }
    match best {
        Some(limit) => Ok(CpuQuota::Limited(limit)),
        None if read_any => Ok(CpuQuota::Unlimited {
            source: first_source.unwrap_or_default(),
            version,
        }),
        None => Err(format!(
            "{}: no {} under the cgroup of this process",
            under(root, &cgroup_dir(mount, cgroup_path)).display(),
            if version == 2 {
                "cpu.max"
            } else {
                "cpu.cfs_quota_us"
            }
        )),
    }
}

type Found = Option<(Option<CpuLimit>, PathBuf)>;

fn read_optional(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: cannot read: {e}", path.display())),
    }
}

/// `cpu.max`: `$MAX $PERIOD`, `$MAX` being `max` for no limit.
fn read_v2(dir: &Path) -> Result<Found, String> {
    let path = dir.join("cpu.max");
    let Some(text) = read_optional(&path)? else {
        return Ok(None);
    };
    let limit = parse_cpu_max(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some((
        limit.map(|(quota_us, period_us)| CpuLimit {
            cpus: quota_us as f64 / period_us as f64,
            quota_us,
            period_us,
            source: path.clone(),
            version: 2,
        }),
        path,
    )))
}

/// Parses the contents of cgroup v2 `cpu.max`; `None` when unlimited.
pub fn parse_cpu_max(text: &str) -> Result<Option<(u64, u64)>, String> {
    let mut fields = text.split_whitespace();
    let quota = fields.next().ok_or("empty cpu.max")?;
    let period = match fields.next() {
        Some(p) => p
            .parse::<u64>()
            .map_err(|_| format!("period `{p}` is not a number"))?,
        None => 100_000,
    };
    if fields.next().is_some() {
        return Err(format!("expected `QUOTA PERIOD`, found `{}`", text.trim()));
    }
    if quota == "max" {
        return Ok(None);
    }
    let quota = quota
        .parse::<u64>()
        .map_err(|_| format!("quota `{quota}` is not a number or `max`"))?;
    if period == 0 {
        return Err("period is 0".into());
    }
    if quota == 0 {
        return Ok(None);
    }
    Ok(Some((quota, period)))
}

fn read_v1(dir: &Path) -> Result<Found, String> {
    let quota_path = dir.join("cpu.cfs_quota_us");
    let Some(quota_text) = read_optional(&quota_path)? else {
        return Ok(None);
    };
    let quota_text = quota_text.trim();
    let quota: i64 = quota_text
        .parse()
        .map_err(|_| format!("{}: `{quota_text}` is not a number", quota_path.display()))?;
    if quota <= 0 {
        return Ok(Some((None, quota_path)));
    }
    let period_path = dir.join("cpu.cfs_period_us");
    let period_text = read_optional(&period_path)?.ok_or_else(|| {
        format!(
            "{}: missing next to cpu.cfs_quota_us",
            period_path.display()
        )
    })?;
    let period: u64 = period_text.trim().parse().map_err(|_| {
        format!(
            "{}: `{}` is not a number",
            period_path.display(),
            period_text.trim()
        )
    })?;
    if period == 0 {
        return Err(format!("{}: period is 0", period_path.display()));
    }
    Ok(Some((
        Some(CpuLimit {
            cpus: quota as f64 / period as f64,
            quota_us: quota as u64,
            period_us: period,
            source: quota_path.clone(),
            version: 1,
        }),
        quota_path,
    )))
}

/// Helpers to lay out fake cgroup trees (tests of this crate, the CLI's
/// end-to-end tests).
pub mod fake {
    use std::path::Path;

    fn write(root: &Path, rel: &str, text: &str) -> std::io::Result<()> {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)
    }

    /// A cgroup v2 tree: the process in `cgroup_path`, `cpu.max` files as
    /// given (path relative to the mount, contents).
    pub fn v2(root: &Path, cgroup_path: &str, cpu_max: &[(&str, &str)]) -> std::io::Result<()> {
        write(root, "proc/self/cgroup", &format!("0::{cgroup_path}\n"))?;
        write(
            root,
            "proc/self/mountinfo",
            "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
        )?;
        std::fs::create_dir_all(
            root.join("sys/fs/cgroup")
                .join(cgroup_path.trim_start_matches('/')),
        )?;
        for (dir, text) in cpu_max {
            let rel = format!("sys/fs/cgroup/{}/cpu.max", dir.trim_matches('/'));
            write(root, &rel.replace("//", "/"), text)?;
        }
        Ok(())
    }

    /// A cgroup v1 tree with the cpu controller mounted at
    /// `/sys/fs/cgroup/cpu,cpuacct`.
    pub fn v1(root: &Path, cgroup_path: &str, quota: &str, period: &str) -> std::io::Result<()> {
        write(
            root,
            "proc/self/cgroup",
            &format!("12:memory:{cgroup_path}\n4:cpu,cpuacct:{cgroup_path}\n0::/\n"),
        )?;
        write(
            root,
            "proc/self/mountinfo",
            "25 24 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs ro,mode=755\n\
             33 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:15 - cgroup cgroup rw,cpu,cpuacct\n",
        )?;
        let dir = format!(
            "sys/fs/cgroup/cpu,cpuacct/{}",
            cgroup_path.trim_matches('/')
        );
        write(root, &format!("{dir}/cpu.cfs_quota_us"), quota)?;
        write(root, &format!("{dir}/cpu.cfs_period_us"), period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("redline-cgroup-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn limited(q: CpuQuota) -> CpuLimit {
        match q {
            CpuQuota::Limited(l) => l,
            other => panic!("expected a limit, got {other:?}"),
        }
    }

    #[test]
    fn cpu_max_parsing() {
        assert_eq!(parse_cpu_max("max 100000\n"), Ok(None));
        assert_eq!(parse_cpu_max("150000 100000\n"), Ok(Some((150000, 100000))));
        assert_eq!(parse_cpu_max("50000"), Ok(Some((50000, 100000))));
        assert!(parse_cpu_max("").is_err());
        assert!(parse_cpu_max("abc 100000").is_err());
        assert!(parse_cpu_max("100 0").is_err());
    }

    #[test]
    fn v2_nested_path_and_rounding() {
        let root = tmp("v2");
        fake::v2(
            &root,
            "/kubepods.slice/pod1/ctr",
            &[("kubepods.slice/pod1/ctr", "250000 100000\n")],
        )
        .unwrap();
        let l = limited(cpu_quota(&root).unwrap());
        assert_eq!(l.version, 2);
        assert_eq!(l.cpus, 2.5);
        assert!(l.source.ends_with("kubepods.slice/pod1/ctr/cpu.max"));
        assert_eq!(l.gomaxprocs(Rounding::Down, None), 2);
        assert_eq!(l.gomaxprocs(Rounding::Up, None), 3);
        assert_eq!(l.gomaxprocs(Rounding::Up, Some(2)), 2);
        assert_eq!(l.max_gomaxprocs(), 3);
    }

    #[test]
    fn v2_parent_limit_wins_and_min_is_one() {
        let root = tmp("v2parent");
        fake::v2(
            &root,
            "/a/b",
            &[
                ("a/b", "max 100000"),
                ("a", "50000 100000"),
                ("", "max 100000"),
            ],
        )
        .unwrap();
        let l = limited(cpu_quota(&root).unwrap());
        assert!(l.source.ends_with("a/cpu.max"), "{:?}", l.source);
        assert_eq!(l.gomaxprocs(Rounding::Down, None), 1);
        // Go's rule: at least 2 (unless the process may use one CPU only).
        assert_eq!(l.gomaxprocs(Rounding::Up, None), 2);
        assert_eq!(l.gomaxprocs(Rounding::Up, Some(1)), 1);
        assert_eq!(l.max_gomaxprocs(), 1);
    }

    #[test]
    fn v2_unlimited() {
        let root = tmp("v2max");
        fake::v2(&root, "/", &[("", "max 100000\n")]).unwrap();
        assert!(matches!(
            cpu_quota(&root).unwrap(),
            CpuQuota::Unlimited { version: 2, .. }
        ));
    }

    #[test]
    fn v2_namespaced_mount_root() {
        // Inside a cgroup namespace the mount root is the container's
        // cgroup and /proc/self/cgroup says `0::/`.
        let root = tmp("v2ns");
        fake::v2(&root, "/", &[("", "300000 100000")]).unwrap();
        let l = limited(cpu_quota(&root).unwrap());
        assert_eq!(l.gomaxprocs(Rounding::Down, None), 3);
    }

    #[test]
    fn v1_quota_and_unlimited() {
        let root = tmp("v1");
        fake::v1(&root, "/docker/abc", "150000\n", "100000\n").unwrap();
        let l = limited(cpu_quota(&root).unwrap());
        assert_eq!(l.version, 1);
        assert_eq!(l.gomaxprocs(Rounding::Down, None), 1);
        assert_eq!(l.gomaxprocs(Rounding::Up, Some(64)), 2);

        let root = tmp("v1max");
        fake::v1(&root, "/docker/abc", "-1\n", "100000\n").unwrap();
        assert!(matches!(
            cpu_quota(&root).unwrap(),
            CpuQuota::Unlimited { version: 1, .. }
        ));
    }

    #[test]
    fn v1_mount_with_non_root_mount_root() {
        let root = tmp("v1root");
        fake::v1(&root, "/", "400000", "100000").unwrap();
        // Mount root is the container's own cgroup.
        std::fs::write(root.join("proc/self/cgroup"), "4:cpu,cpuacct:/docker/abc\n").unwrap();
        std::fs::write(
            root.join("proc/self/mountinfo"),
            "33 25 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n",
        )
        .unwrap();
        let l = limited(cpu_quota(&root).unwrap());
        assert_eq!(l.gomaxprocs(Rounding::Down, None), 4);
    }

    #[test]
    fn errors_name_the_file() {
        let root = tmp("none");
        let err = cpu_quota(&root).unwrap_err();
        assert!(err.contains("proc/self/cgroup"), "{err}");

        let root = tmp("badv1");
        fake::v1(&root, "/x", "lots", "100000").unwrap();
        let err = cpu_quota(&root).unwrap_err();
        assert!(
            err.contains("cpu.cfs_quota_us") && err.contains("lots"),
            "{err}"
        );
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-3,8,10-11"), Some(7));
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("x"), None);
        // This machine's own mask is readable and not empty.
        assert!(allowed_cpus(Path::new("/")).is_some_and(|n| n >= 1));
    }

    #[test]
    fn mountinfo_escapes() {
        let m = parse_mountinfo(
            "1 2 0:1 / /sys/fs/my\\040cgroup rw shared:1 - cgroup2 cgroup2 rw\nshort line\n",
        );
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].mount_point, "/sys/fs/my cgroup");
    }

    #[test]
    fn real_machine_does_not_fail_badly() {
        // Whatever this machine has, reading it must not panic; a container
        // here normally has a cgroup v2 entry.
        match cpu_quota(Path::new("/")) {
            Ok(CpuQuota::Limited(l)) => assert!(l.gomaxprocs(Rounding::Down, None) >= 1),
            Ok(CpuQuota::Unlimited { source, .. }) => assert!(source.is_absolute()),
            Err(e) => assert!(!e.is_empty()),
        }
    }
}
