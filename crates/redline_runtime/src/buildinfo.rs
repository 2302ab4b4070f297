//! The build information a Go toolchain embeds in every binary — what
//! `go version -m` prints — read from an ELF file without running it.
//!
//! Since Go 1.18 the linker writes a 32-byte header starting with
//! `\xff Go buildinf:` (16-byte aligned, in the `.go.buildinfo` section),
//! followed by two varint-length-prefixed strings: the Go version and the
//! module info (framed by 16-byte sentinels), whose `build\tKEY=VALUE` lines
//! carry the build settings, `DefaultGODEBUG` among them. Older binaries
//! store pointers instead; for them the version is only known to be below
//! 1.18, which is all `redline exec` needs.

use redline_go::GoVersion;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// The most of a file searched for the blob when no section names it.
const SCAN_LIMIT: u64 = 256 << 20;
/// The most of the blob read (module info of big programs is a few 100 kB).
const BLOB_LIMIT: u64 = 16 << 20;

/// What a Go binary says about how it was built.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GoBuildInfo {
    /// `go1.25.0`, `devel go1.26-…`; empty for pre-1.18 binaries.
    pub go_version: String,
    /// The main package path (`path` line).
    pub path: Option<String>,
    /// `build` settings in order (`-ldflags`, `DefaultGODEBUG`, …).
    pub settings: Vec<(String, String)>,
    /// Written by Go < 1.18 (pointer format).
    pub legacy: bool,
}

impl GoBuildInfo {
    /// The toolchain's Go version, 1.17 for the legacy format.
    pub fn version(&self) -> Option<GoVersion> {
        if self.legacy {
            return Some(GoVersion::new(1, 17));
        }
        GoVersion::find(&self.go_version)
    }

    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The `containermaxprocs` default compiled into the binary:
    /// `DefaultGODEBUG`, or a `runtime.godebugDefault` set with `-X` in
    /// `-ldflags`.
    pub fn default_containermaxprocs(&self) -> Option<String> {
        let mut found = None;
        if let Some(ld) = self.setting("-ldflags")
            && let Some(pos) = ld.find("runtime.godebugDefault=")
        {
            let rest = &ld[pos + "runtime.godebugDefault=".len()..];
            let value = rest.split_whitespace().next().unwrap_or("");
            found = godebug_value(
                value.trim_matches(|c| c == '\'' || c == '"'),
                "containermaxprocs",
            );
        }
        if let Some(d) = self.setting("DefaultGODEBUG")
            && let Some(v) = godebug_value(d, "containermaxprocs")
        {
            found = Some(v);
        }
        found
    }

    /// Whether the Go runtime of this binary sets GOMAXPROCS from the
    /// cgroup limit itself (Go ≥ 1.25 with `containermaxprocs` on), given
    /// the `GODEBUG` environment variable the service will see.
    /// Returns the answer and the reason in words.
    pub fn runtime_reads_cgroup(&self, env_godebug: Option<&str>) -> (bool, String) {
        let version = self.version();
        let shown = if self.legacy {
            "a Go version before 1.18".to_string()
        } else {
            self.go_version.clone()
        };
        match version {
            Some(v) if v >= GoVersion::new(1, 25) => {}
            Some(_) => {
                return (
                    false,
                    format!("built with {shown}, which does not read the cgroup CPU limit"),
                );
            }
            None => {
                return (
                    false,
                    format!("unrecognised Go version `{shown}` in the build information"),
                );
            }
        }
        if let Some(v) = env_godebug.and_then(|g| godebug_value(g, "containermaxprocs")) {
            return if v == "0" {
                (
                    false,
                    format!("built with {shown}, but GODEBUG=containermaxprocs=0 is set"),
                )
            } else {
                (
                    true,
                    format!(
                        "built with {shown}; the runtime reads the cgroup CPU limit and keeps \
                         GOMAXPROCS up to date unless GOMAXPROCS is set"
                    ),
                )
            };
        }
        if self.default_containermaxprocs().as_deref() == Some("0") {
            return (
                false,
                format!(
                    "built with {shown}, but its default GODEBUG has containermaxprocs=0 \
                     (go.mod says a go version before 1.25, or a //go:debug directive)"
                ),
            );
        }
        (
            true,
            format!(
                "built with {shown}; the runtime reads the cgroup CPU limit and keeps GOMAXPROCS \
                 up to date unless GOMAXPROCS is set"
            ),
        )
    }
}

/// The last value of `key` in a GODEBUG-style list `a=1,b=0`.
fn godebug_value(list: &str, key: &str) -> Option<String> {
    list.split(',')
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
        .next_back()
}

/// Reads the build information of the Go binary at `path`.
/// `Ok(None)`: not an ELF file, or an ELF file without Go build information.
pub fn read_go_build_info(path: &Path) -> Result<Option<GoBuildInfo>, String> {
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("{}: cannot open: {e}", path.display()))?;
    let io = |e: std::io::Error| format!("{}: cannot read: {e}", path.display());
    let mut ident = [0u8; 64];
    let n = read_up_to(&mut file, &mut ident).map_err(io)?;
    if n < 52 || &ident[..4] != b"\x7fELF" {
        return Ok(None);
    }
    let blob_offset = match elf_section(&mut file, &ident, ".go.buildinfo").map_err(io)? {
        Some((offset, _size)) => Some(offset),
        None => scan_for_magic(&mut file).map_err(io)?,
    };
    let Some(offset) = blob_offset else {
        return Ok(None);
    };
    file.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut blob = Vec::new();
    file.take(BLOB_LIMIT).read_to_end(&mut blob).map_err(io)?;
    parse_blob(&blob).map_err(|e| format!("{}: Go build information: {e}", path.display()))
}

fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let got = file.read(&mut buf[n..])?;
        if got == 0 {
            break;
        }
        n += got;
    }
    Ok(n)
}

/// Parses the blob that starts with the magic. `Ok(None)` when the magic
/// is absent.
pub fn parse_blob(blob: &[u8]) -> Result<Option<GoBuildInfo>, String> {
    if blob.len() < 32 || &blob[..14] != MAGIC {
        return Ok(None);
    }
    let flags = blob[15];
    if flags & 2 == 0 {
        return Ok(Some(GoBuildInfo {
            legacy: true,
            ..GoBuildInfo::default()
        }));
    }
    let (version, rest) = decode_string(&blob[32..]).ok_or("truncated Go version")?;
    let (modinfo, _) = decode_string(rest).ok_or("truncated module information")?;
    let mut info = GoBuildInfo {
        go_version: String::from_utf8_lossy(version).into_owned(),
        ..GoBuildInfo::default()
    };
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        &[][..]
    };
    for line in String::from_utf8_lossy(modinfo).lines() {
        if let Some(p) = line.strip_prefix("path\t") {
            info.path = Some(p.to_string());
        } else if let Some(setting) = line.strip_prefix("build\t")
            && let Some(kv) = parse_setting(setting)
        {
            info.settings.push(kv);
        }
    }
    Ok(Some(info))
}

fn decode_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut len: u64 = 0;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let b = *data.get(i)?;
        i += 1;
        if shift >= 64 {
            return None;
        }
        len |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let len = usize::try_from(len).ok()?;
    let end = i.checked_add(len)?;
    Some((data.get(i..end)?, &data[end..]))
}

/// `KEY=VALUE` where either side may be a Go-quoted string.
fn parse_setting(s: &str) -> Option<(String, String)> {
    let (key, rest) = if s.starts_with('"') {
        let (k, len) = unquote_prefix(s)?;
        (k, s.get(len..)?.strip_prefix('=')?)
    } else {
        let (k, v) = s.split_once('=')?;
        (k.to_string(), v)
    };
    let value = if rest.starts_with('"') {
        unquote_prefix(rest)?.0
    } else {
        rest.to_string()
    };
    Some((key, value))
}

/// Unquotes the Go string literal at the start of `s`; returns it and the
/// number of bytes it took.
fn unquote_prefix(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => {
                let (_, e) = chars.next()?;
                out.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
            }
            c => out.push(c),
        }
    }
    None
}

/// Offset and size of a named ELF section.
fn elf_section(
    file: &mut std::fs::File,
    ident: &[u8; 64],
    name: &str,
) -> std::io::Result<Option<(u64, u64)>> {
    let is64 = ident[4] == 2;
    let le = ident[5] != 2;
    let u16_at = |b: &[u8], o: usize| -> u64 {
        let v = [b[o], b[o + 1]];
        u64::from(if le {
            u16::from_le_bytes(v)
        } else {
            u16::from_be_bytes(v)
        })
    };
    let u32_at = |b: &[u8], o: usize| -> u64 {
        let v = [b[o], b[o + 1], b[o + 2], b[o + 3]];
        u64::from(if le {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        })
    };
    let u64_at = |b: &[u8], o: usize| -> u64 {
        let mut v = [0u8; 8];
        v.copy_from_slice(&b[o..o + 8]);
        if le {
            u64::from_le_bytes(v)
        } else {
            u64::from_be_bytes(v)
        }
    };
    let (shoff, shentsize, shnum, shstrndx) = if is64 {
        (
            u64_at(ident, 0x28),
            u16_at(ident, 0x3a),
            u16_at(ident, 0x3c),
            u16_at(ident, 0x3e),
        )
    } else {
        (
            u32_at(ident, 0x20),
            u16_at(ident, 0x2e),
            u16_at(ident, 0x30),
            u16_at(ident, 0x32),
        )
    };
    let min_entry = if is64 { 64 } else { 40 };
    if shoff == 0 || shnum == 0 || shentsize < min_entry || shstrndx >= shnum || shnum > 65535 {
        return Ok(None);
    }
    let mut table = vec![0u8; (shentsize * shnum) as usize];
    file.seek(SeekFrom::Start(shoff))?;
    if read_up_to(file, &mut table)? < table.len() {
        return Ok(None);
    }
    // (name offset, file offset, size)
    let entry = |i: u64| -> (u64, u64, u64) {
        let e = &table[(i * shentsize) as usize..];
        if is64 {
            (u32_at(e, 0), u64_at(e, 0x18), u64_at(e, 0x20))
        } else {
            (u32_at(e, 0), u32_at(e, 0x10), u32_at(e, 0x14))
        }
    };
    let (_, str_off, str_size) = entry(shstrndx);
    let mut names = vec![0u8; str_size.min(1 << 20) as usize];
    file.seek(SeekFrom::Start(str_off))?;
    let got = read_up_to(file, &mut names)?;
    names.truncate(got);
    for i in 0..shnum {
        let (name_off, off, size) = entry(i);
        let Some(tail) = names.get(name_off as usize..) else {
            continue;
        };
        let end = tail.iter().position(|b| *b == 0).unwrap_or(tail.len());
        if &tail[..end] == name.as_bytes() {
            return Ok(Some((off, size)));
        }
    }
    Ok(None)
}

/// Looks for the magic at 16-byte-aligned offsets (stripped binaries may
/// lack section headers).
fn scan_for_magic(file: &mut std::fs::File) -> std::io::Result<Option<u64>> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file.take(SCAN_LIMIT));
    let mut offset = 0u64;
    let mut chunk = [0u8; 16];
    loop {
        let n = read_up_to(&mut reader, &mut chunk)?;
        if n < 16 {
            return Ok(None);
        }
        if chunk[..14] == MAGIC[..] {
            return Ok(Some(offset));
        }
        offset += 16;
    }
}

/// Test helpers: a build-info blob and a minimal ELF file holding it.
pub mod craft {
    fn varint(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    /// The blob the Go ≥ 1.18 linker writes, for `version` and module
    /// info `lines` (without framing).
    pub fn blob(version: &str, lines: &str) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(super::MAGIC);
        b.push(8);
        b.push(2);
        b.resize(32, 0);
        varint(version.len(), &mut b);
        b.extend_from_slice(version.as_bytes());
        let mut modinfo = Vec::new();
        modinfo.extend_from_slice(&[0x30; 16]);
        modinfo.extend_from_slice(lines.as_bytes());
        if !lines.ends_with('\n') {
            modinfo.push(b'\n');
        }
        modinfo.extend_from_slice(&[0xf9; 16]);
        varint(modinfo.len(), &mut b);
        b.extend_from_slice(&modinfo);
        b
    }

    /// A little-endian ELF64 file whose `.go.buildinfo` section holds
    /// `blob` (not runnable; enough for the reader).
    pub fn elf(blob: &[u8]) -> Vec<u8> {
        let shstrtab = b"\0.shstrtab\0.go.buildinfo\0";
        let data_off = 64usize;
        let blob_off = data_off.next_multiple_of(16);
        let str_off = blob_off + blob.len();
        let shoff = (str_off + shstrtab.len()).next_multiple_of(8);
        let mut f = vec![0u8; shoff + 64 * 3];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[6] = 1;
        f[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
        f[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        f[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
        f[0x3e..0x40].copy_from_slice(&1u16.to_le_bytes());
        f[blob_off..blob_off + blob.len()].copy_from_slice(blob);
        f[str_off..str_off + shstrtab.len()].copy_from_slice(shstrtab);
        let mut section = |i: usize, name: u32, off: usize, size: usize| {
            let e = shoff + 64 * i;
            f[e..e + 4].copy_from_slice(&name.to_le_bytes());
            f[e + 0x18..e + 0x20].copy_from_slice(&(off as u64).to_le_bytes());
            f[e + 0x20..e + 0x28].copy_from_slice(&(size as u64).to_le_bytes());
        };
        section(1, 1, str_off, shstrtab.len());
        section(2, 11, blob_off, blob.len());
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("redline-bi-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn versions() {
        let v = |text: &str| {
            GoBuildInfo {
                go_version: text.into(),
                ..GoBuildInfo::default()
            }
            .version()
        };
        assert_eq!(v("go1.25.0"), Some(GoVersion::new(1, 25)));
        assert_eq!(v("go1.25rc1"), Some(GoVersion::new(1, 25)));
        assert_eq!(v("devel go1.26-abc Tue"), Some(GoVersion::new(1, 26)));
        assert_eq!(v("go1.9"), Some(GoVersion::new(1, 9)));
        assert_eq!(v("gccgo"), None);
    }

    #[test]
    fn crafted_blob_in_elf_section() {
        let lines = "path\texample.com/svc\nmod\texample.com/svc\t(devel)\t\nbuild\t-compiler=gc\nbuild\t-ldflags=\"-s -w\"\nbuild\tDefaultGODEBUG=containermaxprocs=0,updatemaxprocs=0\nbuild\tCGO_ENABLED=0\n";
        let path = tmp_file("elf", &craft::elf(&craft::blob("go1.25.1", lines)));
        let info = read_go_build_info(&path).unwrap().unwrap();
        assert_eq!(info.go_version, "go1.25.1");
        assert_eq!(info.path.as_deref(), Some("example.com/svc"));
        assert_eq!(info.setting("-ldflags"), Some("-s -w"));
        assert_eq!(info.default_containermaxprocs().as_deref(), Some("0"));
        let (reads, why) = info.runtime_reads_cgroup(None);
        assert!(!reads);
        assert!(why.contains("containermaxprocs=0"), "{why}");
        // GODEBUG in the environment wins over the compiled default.
        assert!(info.runtime_reads_cgroup(Some("containermaxprocs=1")).0);
    }

    #[test]
    fn go_1_25_reads_the_cgroup_unless_switched_off() {
        let info = parse_blob(&craft::blob("go1.25.0", "path\tx\nbuild\tGOOS=linux\n"))
            .unwrap()
            .unwrap();
        assert!(info.runtime_reads_cgroup(None).0);
        assert!(
            !info
                .runtime_reads_cgroup(Some("http2debug=1,containermaxprocs=0"))
                .0
        );
        let old = parse_blob(&craft::blob("go1.24.4", "")).unwrap().unwrap();
        assert!(!old.runtime_reads_cgroup(None).0);
        let ld = parse_blob(&craft::blob(
            "go1.25.0",
            "build\t-ldflags=\"-X runtime.godebugDefault=containermaxprocs=0\"\n",
        ))
        .unwrap()
        .unwrap();
        assert!(!ld.runtime_reads_cgroup(None).0);
    }

    #[test]
    fn stripped_binary_found_by_scanning() {
        let mut bytes = craft::elf(&[]);
        bytes.truncate(64);
        // Without section headers.
        bytes[0x28..0x30].copy_from_slice(&0u64.to_le_bytes());
        bytes.resize(4096, 0);
        bytes.extend_from_slice(&craft::blob("go1.26.0", "path\tx\n"));
        let path = tmp_file("stripped", &bytes);
        let info = read_go_build_info(&path).unwrap().unwrap();
        assert_eq!(info.version(), Some(GoVersion::new(1, 26)));
    }

    #[test]
    fn not_go_and_garbage() {
        let script = tmp_file("script", b"#!/bin/sh\necho hi\n");
        assert_eq!(read_go_build_info(&script).unwrap(), None);
        let tiny = tmp_file("tiny", b"\x7fELF");
        assert_eq!(read_go_build_info(&tiny).unwrap(), None);
        // Truncated blobs and random bytes are errors or None, never panics.
        let blob = craft::blob("go1.25.0", "path\tx\n");
        for cut in 0..blob.len() {
            let _ = parse_blob(&blob[..cut]);
        }
        let mut junk = craft::elf(&blob);
        for i in (0..junk.len()).step_by(7) {
            junk[i] = junk[i].wrapping_mul(31).wrapping_add(7);
            let p = tmp_file("junk", &junk);
            let _ = read_go_build_info(&p);
        }
        assert!(read_go_build_info(Path::new("/nonexistent/redline")).is_err());
    }

    #[test]
    fn legacy_format() {
        let mut b = craft::blob("go1.16", "");
        b[15] = 0;
        let info = parse_blob(&b).unwrap().unwrap();
        assert!(info.legacy);
        assert_eq!(info.version(), Some(GoVersion::new(1, 17)));
        assert!(!info.runtime_reads_cgroup(None).0);
    }

    /// Builds a real Go binary when a Go toolchain is installed.
    #[test]
    fn real_go_binary_when_go_is_installed() {
        let Ok(out) = std::process::Command::new("go").arg("version").output() else {
            eprintln!("go not installed: covered by the crafted blobs only");
            return;
        };
        let toolchain = String::from_utf8_lossy(&out.stdout).to_string();
        let dir = std::env::temp_dir().join(format!("redline-gobin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("go.mod"), "module example.com/hello\n\ngo 1.18\n").unwrap();
        std::fs::write(
            dir.join("main.go"),
            "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(os.Getenv(\"GOMAXPROCS\")) }\n",
        )
        .unwrap();
        let status = std::process::Command::new("go")
            .args(["build", "-o", "hello", "-ldflags=-s -w", "."])
            .current_dir(&dir)
            .env("GOFLAGS", "-mod=mod")
            .env("GOCACHE", dir.join("cache"))
            .env("GOPATH", dir.join("gopath"))
            .status()
            .unwrap();
        assert!(status.success());
        let info = read_go_build_info(&dir.join("hello")).unwrap().unwrap();
        assert!(
            toolchain.contains(&format!("{} ", info.go_version)),
            "{toolchain} vs {}",
            info.go_version
        );
        assert_eq!(info.path.as_deref(), Some("example.com/hello"));
        assert_eq!(info.setting("-ldflags"), Some("-s -w"));
    }
}
