//! Standard output and standard error for every command of the binary.
//!
//! `println!` and `eprintln!` panic when the write fails (a closed pipe,
//! `>/dev/full`), so the binary never uses them (`clippy::print_stdout`
//! and `clippy::print_stderr` are denied in `main.rs`). Everything it
//! prints goes through [`stdout`] and [`stderr`] (or the `errln!` macro): a failed write is remembered, later writes to the
//! same stream are dropped, and [`finish`] turns the first failure into the
//! exit code — a closed pipe (`| head`) is the reader's choice and exits
//! quietly with the run's own code; any other error (a full disk) is one
//! line on standard error, if it still works, and exit 2.

use std::io::{self, Write};
use std::sync::Mutex;

#[derive(Clone, Copy)]
enum Which {
    Out,
    Err,
}

/// The first write error of each stream.
static FAILED: Mutex<[Option<io::ErrorKind>; 2]> = Mutex::new([None, None]);
/// The message of the first non-EPIPE error on standard output.
static DETAIL: Mutex<Option<String>> = Mutex::new(None);

fn slot(which: Which) -> usize {
    match which {
        Which::Out => 0,
        Which::Err => 1,
    }
}

fn failed(which: Which) -> Option<io::ErrorKind> {
    FAILED.lock().map(|f| f[slot(which)]).unwrap_or(None)
}

fn record(which: Which, e: &io::Error) {
    if let Ok(mut f) = FAILED.lock()
        && f[slot(which)].is_none()
    {
        f[slot(which)] = Some(e.kind());
        if matches!(which, Which::Out)
            && let Ok(mut d) = DETAIL.lock()
        {
            *d = Some(e.to_string());
        }
    }
}

/// A handle on standard output or standard error that never panics and
/// remembers its first failure. Cheap: take one wherever it is needed.
pub struct Stream(Which);

/// Standard output.
pub fn stdout() -> Stream {
    Stream(Which::Out)
}

/// Standard error.
pub fn stderr() -> Stream {
    Stream(Which::Err)
}

impl Stream {
    fn result(&self, r: io::Result<()>) -> io::Result<()> {
        if let Err(e) = &r {
            if e.kind() == io::ErrorKind::Interrupted {
                return r;
            }
            record(self.0, e);
        }
        r
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if failed(self.0).is_some() {
            // The stream is gone: drop the rest, do not fail again.
            return Ok(());
        }
        let r = match self.0 {
            Which::Out => io::stdout().lock().write_all(buf),
            Which::Err => io::stderr().lock().write_all(buf),
        };
        self.result(r)
    }

    fn flush(&mut self) -> io::Result<()> {
        if failed(self.0).is_some() {
            return Ok(());
        }
        let r = match self.0 {
            Which::Out => io::stdout().lock().flush(),
            Which::Err => io::stderr().lock().flush(),
        };
        self.result(r)
    }
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => {{
        let _ = ::std::io::Write::write_fmt(
            &mut crate::stdio::stderr(),
            format_args!("{}\n", format_args!($($arg)*)),
        );
    }};
}

/// The exit code once everything is printed: `code`, unless a write
/// failed for another reason than a closed pipe — then 2, with the reason
/// on standard error when that still works.
pub fn finish(code: u8) -> u8 {
    let _ = stdout().flush();
    let _ = stderr().flush();
    let out = failed(Which::Out);
    let err = failed(Which::Err);
    match out {
        Some(kind) if kind != io::ErrorKind::BrokenPipe => {
            let detail = DETAIL
                .lock()
                .ok()
                .and_then(|d| d.clone())
                .unwrap_or_else(|| kind.to_string());
            errln!(
                "redline: error: cannot write to standard output: {detail}; the output is incomplete"
            );
            return 2;
        }
        _ => {}
    }
    match err {
        Some(kind) if kind != io::ErrorKind::BrokenPipe => 2.max(code),
        _ => code,
    }
}
