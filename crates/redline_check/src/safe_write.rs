//! The one file writer of `redline check`: fixes (`--fix`), reports
//! (`-o FILE`, `--format FMT:PATH`) and baselines (`--write-baseline`).
//!
//! What it does depends on what the path is, never on its name:
//!
//! - a **symlink** is followed (each hop, relative to its own directory)
//!   and the target is written; the link itself is never replaced;
//! - a **regular file** with one link is replaced atomically: a temporary
//!   file in the same directory, fsync, the original's mode and owner
//!   (uid/gid, when they differ from the new file's: running as root), a
//!   rename over it, and an fsync of the directory;
//! - a regular file with **several hard links** is rewritten in place
//!   (truncate and write), so every name keeps seeing the same file; the
//!   result says so, and callers print it;
//! - a **device or FIFO** is opened and written into (reports only; `-o
//!   /dev/null` stays the device); a **socket** or a directory is refused;
//! - a **read-only** file (no write permission bit) is refused for fixes
//!   unless the caller allows it (`--fix-read-only`);
//! - with an expected hash, the file must still have the content redline
//!   analysed (it has not changed since it was read), checked right before
//!   writing.

use std::fs::{File, OpenOptions};
use std::io::{Error, ErrorKind, Result, Write};
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::xxh3_128;

/// What is written, and what the caller accepts.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub bytes: &'a [u8],
    /// The XXH3-128 of the content the file must still have (fixes).
    pub expected: Option<u128>,
    /// Whether a device or FIFO may be written into (reports). Fixes
    /// refuse anything but a regular file.
    pub into_special: bool,
    /// Whether a regular file without any write permission bit is
    /// written; `false` refuses it.
    pub read_only_ok: bool,
}

impl<'a> Request<'a> {
    /// A report or baseline: any existing file or device is written.
    pub fn output(bytes: &'a [u8]) -> Request<'a> {
        Request {
            bytes,
            expected: None,
            into_special: true,
            read_only_ok: true,
        }
    }

    /// A fix of a file that had `original` as its content when read.
    pub fn fix(bytes: &'a [u8], original: &[u8], read_only_ok: bool) -> Request<'a> {
        Request {
            bytes,
            expected: Some(xxh3_128(original)),
            into_special: false,
            read_only_ok,
        }
    }
}

/// How the bytes reached the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// A new file was created.
    Created,
    /// The file was replaced atomically.
    Replaced,
    /// The file has `links` hard links: it was rewritten in place.
    InPlace { links: u64 },
    /// A device or FIFO was written into.
    IntoSpecial,
}

impl Written {
    /// A note for the user, when the write was not the plain atomic one.
    pub fn note(&self, shown: &str) -> Option<String> {
        match self {
            Written::InPlace { links } => Some(format!(
                "{shown} has {links} hard links: rewritten in place (not atomically) so that every link keeps the new content"
            )),
            _ => None,
        }
    }
}

const MAX_SYMLINK_HOPS: usize = 40;

/// Follows symlinks from `path` to the file they name (which may not
/// exist yet: a dangling link names the file to create).
fn resolve_links(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINK_HOPS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(Error::other(format!(
        "more than {MAX_SYMLINK_HOPS} symbolic links in a row (a loop?); not written"
    )))
}

fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(unix)]
fn special_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        None
    }
}

#[cfg(not(unix))]
fn special_kind(_meta: &std::fs::Metadata) -> Option<&'static str> {
    None
}

#[cfg(unix)]
fn link_count(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.nlink()
}

#[cfg(not(unix))]
fn link_count(_meta: &std::fs::Metadata) -> u64 {
    1
}

#[cfg(unix)]
fn is_read_only(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o222 == 0
}

#[cfg(not(unix))]
fn is_read_only(meta: &std::fs::Metadata) -> bool {
    meta.permissions().readonly()
}

/// Writes `request.bytes` to `path` as the module documentation says.
pub fn write(path: &Path, request: Request<'_>) -> Result<Written> {
    let target = resolve_links(path)?;
    let meta = match std::fs::symlink_metadata(&target) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if request.expected.is_some() {
                return Err(Error::other(
                    "the file no longer exists; not written (re-run to fix it)",
                ));
            }
            replace_atomically(&target, request.bytes, None)?;
            return Ok(Written::Created);
        }
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        return Err(Error::other("is a directory; not written"));
    }
    if let Some(kind) = special_kind(&meta) {
        if !request.into_special {
            return Err(Error::other(format!(
                "is {kind}, not a regular file; not written"
            )));
        }
        if kind == "a socket" {
            return Err(Error::other("is a socket; redline cannot write into it"));
        }
        // Never replaced: the device or FIFO itself receives the bytes.
        let mut f = OpenOptions::new().write(true).open(&target)?;
        f.write_all(request.bytes)?;
        f.flush()?;
        return Ok(Written::IntoSpecial);
    }
    if let Some(want) = request.expected {
        let now = std::fs::read(&target)?;
        if xxh3_128(&now) != want {
            return Err(Error::other(
                "the file changed since redline read it; not touched (re-run to fix it)",
            ));
        }
    }
    if !request.read_only_ok && is_read_only(&meta) {
        return Err(Error::other(
            "the file is read-only (no write permission); not changed (add --fix-read-only to fix read-only files)",
        ));
    }
    let links = link_count(&meta);
    if links > 1 {
        write_in_place(&target, request.bytes)?;
        return Ok(Written::InPlace { links });
    }
    replace_atomically(&target, request.bytes, Some(&meta))?;
    Ok(Written::Replaced)
}

/// Truncates and rewrites the file itself (its inode, its links).
fn write_in_place(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new().write(true).truncate(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// A temporary file in the same directory, with the original's owner and
/// mode (or 0644 for a new file), fsynced and renamed over `path`.
fn replace_atomically(
    path: &Path,
    bytes: &[u8],
    original: Option<&std::fs::Metadata>,
) -> Result<()> {
    let dir = directory_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".redline-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    match original {
        Some(meta) => {
            keep_owner(tmp.as_file(), meta, path)?;
            // After the owner: chown may clear set-id bits.
            tmp.as_file().set_permissions(meta.permissions())?;
        }
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                tmp.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o644))?;
            }
        }
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // The rename itself is durable once the directory is.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn keep_owner(tmp: &File, meta: &std::fs::Metadata, path: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let now = tmp.metadata()?;
    if now.uid() == meta.uid() && now.gid() == meta.gid() {
        return Ok(());
    }
    std::os::unix::fs::fchown(tmp, Some(meta.uid()), Some(meta.gid())).map_err(|e| {
        Error::new(
            e.kind(),
            format!(
                "cannot keep the owner of {} (uid {}, gid {}): {e}; not written",
                path.display(),
                meta.uid(),
                meta.gid()
            ),
        )
    })
}

#[cfg(not(unix))]
fn keep_owner(_tmp: &File, _meta: &std::fs::Metadata, _path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".redline-"))
            .collect()
    }

    #[test]
    fn regular_file_is_replaced_keeping_mode_and_owner() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.go");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let before = std::fs::metadata(&path).expect("stat");
        // As root, give the file another owner: the rewrite must keep it.
        let owned_by_other = std::os::unix::fs::chown(&path, Some(4242), Some(4343)).is_ok();
        let w = write(&path, Request::fix(b"new", b"old", false)).expect("write");
        assert_eq!(w, Written::Replaced);
        let after = std::fs::metadata(&path).expect("stat");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        assert_eq!(after.permissions().mode() & 0o7777, 0o640);
        assert_ne!(after.ino(), before.ino(), "atomic: a new inode");
        if owned_by_other {
            assert_eq!((after.uid(), after.gid()), (4242, 4343), "owner kept");
        } else {
            assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
        }
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_changed_file_is_not_touched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.go");
        std::fs::write(&path, "old").expect("write");
        let err =
            write(&path, Request::fix(b"new", b"something else", false)).expect_err("must refuse");
        assert!(err.to_string().contains("changed since"), "{err}");
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
    }

    #[test]
    fn symlink_is_written_through_not_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("real")).expect("mkdir");
        let target = dir.path().join("real/a.go");
        std::fs::write(&target, "old").expect("write");
        let link = dir.path().join("link.go");
        std::os::unix::fs::symlink("real/a.go", &link).expect("symlink");
        // A chain of two links, the second one relative to its own directory.
        let link2 = dir.path().join("real/link2.go");
        std::os::unix::fs::symlink("../link.go", &link2).expect("symlink");
        write(&link2, Request::fix(b"new", b"old", false)).expect("write");
        assert!(
            std::fs::symlink_metadata(&link)
                .expect("lstat")
                .file_type()
                .is_symlink()
        );
        assert!(
            std::fs::symlink_metadata(&link2)
                .expect("lstat")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&target).expect("read"), b"new");
        // A report through a dangling link creates the link's target.
        let dangling = dir.path().join("report.json");
        std::os::unix::fs::symlink("real/out.json", &dangling).expect("symlink");
        assert_eq!(
            write(&dangling, Request::output(b"{}")).expect("write"),
            Written::Created
        );
        assert!(
            std::fs::symlink_metadata(&dangling)
                .expect("lstat")
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read(dir.path().join("real/out.json")).expect("read"),
            b"{}"
        );
        // A loop is an error, not a hang.
        let a = dir.path().join("loop-a");
        let b = dir.path().join("loop-b");
        std::os::unix::fs::symlink(&b, &a).expect("symlink");
        std::os::unix::fs::symlink(&a, &b).expect("symlink");
        assert!(write(&a, Request::output(b"x")).is_err());
    }

    #[test]
    fn hard_links_stay_one_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.go");
        let b = dir.path().join("b.go");
        std::fs::write(&a, "old").expect("write");
        std::fs::hard_link(&a, &b).expect("link");
        let w = write(&a, Request::fix(b"new", b"old", false)).expect("write");
        assert_eq!(w, Written::InPlace { links: 2 });
        assert!(w.note("a.go").expect("note").contains("2 hard links"));
        assert_eq!(std::fs::read(&b).expect("read"), b"new");
        let (ma, mb) = (
            std::fs::metadata(&a).expect("stat"),
            std::fs::metadata(&b).expect("stat"),
        );
        assert_eq!(ma.ino(), mb.ino());
        assert_eq!(ma.nlink(), 2);
    }

    #[test]
    fn devices_and_fifos_are_written_into_never_replaced() {
        let null = Path::new("/dev/null");
        let before = std::fs::symlink_metadata(null).expect("stat");
        assert_eq!(
            write(null, Request::output(b"report")).expect("write"),
            Written::IntoSpecial
        );
        let after = std::fs::symlink_metadata(null).expect("stat");
        assert!(std::os::unix::fs::FileTypeExt::is_char_device(
            &after.file_type()
        ));
        assert_eq!(before.ino(), after.ino());
        // Fixes never write into a device.
        let err = write(null, Request::fix(b"x", b"", false)).expect_err("refused");
        assert!(err.to_string().contains("not a regular file"), "{err}");
        // A FIFO receives the bytes through a reader.
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
        let reader_path = fifo.clone();
        let reader = std::thread::spawn(move || std::fs::read(reader_path).expect("read fifo"));
        assert_eq!(
            write(&fifo, Request::output(b"through")).expect("write"),
            Written::IntoSpecial
        );
        assert_eq!(reader.join().expect("reader"), b"through");
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(
            &std::fs::symlink_metadata(&fifo).expect("stat").file_type()
        ));
        // A socket is refused.
        let sock = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
        let err = write(&sock, Request::output(b"x")).expect_err("refused");
        assert!(err.to_string().contains("socket"), "{err}");
    }

    #[test]
    fn read_only_files_are_refused_unless_allowed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.go");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).expect("chmod");
        let err = write(&path, Request::fix(b"new", b"old", false)).expect_err("refused");
        assert!(err.to_string().contains("--fix-read-only"), "{err}");
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
        write(&path, Request::fix(b"new", b"old", true)).expect("allowed");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o444, "mode kept");
    }

    #[test]
    fn new_files_are_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("report.sarif");
        assert_eq!(
            write(&path, Request::output(b"{}")).expect("write"),
            Written::Created
        );
        assert_eq!(std::fs::read(&path).expect("read"), b"{}");
        let err = write(dir.path(), Request::output(b"x")).expect_err("a directory");
        assert!(err.to_string().contains("directory"), "{err}");
        let gone = dir.path().join("gone.go");
        assert!(write(&gone, Request::fix(b"x", b"y", false)).is_err());
        assert!(!gone.exists());
    }
}
