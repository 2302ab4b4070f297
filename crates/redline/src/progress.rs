//! A progress bar on stderr for scans that take longer than a second.
//! Only on a terminal (never in CI logs or pipes), and never with
//! `TERM=dumb`; it erases itself when the scan ends.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a scan runs before the bar shows; `REDLINE_PROGRESS_DELAY_MS`
/// overrides it (tests use 0).
const DELAY: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(100);
const WIDTH: usize = 30;

#[derive(Default)]
pub struct Counters {
    pub total: AtomicUsize,
    pub done: AtomicUsize,
    finished: AtomicBool,
}

/// The bar: counters that the driver updates, and the thread that draws.
pub struct Progress {
    pub counters: Arc<Counters>,
    drawer: Mutex<Option<JoinHandle<()>>>,
}

impl Progress {
    /// Starts the bar when stderr is a terminal; `None` otherwise.
    pub fn start() -> Option<Progress> {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        if !std::io::stderr().is_terminal() || dumb {
            return None;
        }
        let delay = std::env::var("REDLINE_PROGRESS_DELAY_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(DELAY, Duration::from_millis);
        let counters = Arc::new(Counters::default());
        let c = Arc::clone(&counters);
        let drawer = std::thread::Builder::new()
            .name("redline-progress".into())
            .spawn(move || draw(&c, delay, &mut std::io::stderr()))
            .ok()?;
        Some(Progress {
            counters,
            drawer: Mutex::new(Some(drawer)),
        })
    }

    pub fn add_total(&self, n: usize) {
        self.counters.total.fetch_add(n, Ordering::Relaxed);
    }

    pub fn add_done(&self, n: usize) {
        self.counters.done.fetch_add(n, Ordering::Relaxed);
    }

    /// Stops drawing and erases the bar.
    pub fn finish(&self) {
        self.counters.finished.store(true, Ordering::Relaxed);
        if let Ok(mut slot) = self.drawer.lock()
            && let Some(handle) = slot.take()
        {
            let _ = handle.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// One frame: `checking [=====     ] 12/40 files`.
fn frame(done: usize, total: usize) -> String {
    let total = total.max(1);
    let done = done.min(total);
    let filled = done * WIDTH / total;
    format!(
        "\r\x1b[2Kchecking [{}{}] {done}/{total} files",
        "=".repeat(filled),
        " ".repeat(WIDTH - filled)
    )
}

fn draw(c: &Counters, delay: Duration, out: &mut dyn Write) {
    let started = Instant::now();
    let mut drawn = false;
    while !c.finished.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        if started.elapsed() < delay || c.finished.load(Ordering::Relaxed) {
            continue;
        }
        let f = frame(
            c.done.load(Ordering::Relaxed),
            c.total.load(Ordering::Relaxed),
        );
        let _ = out.write_all(f.as_bytes());
        let _ = out.flush();
        drawn = true;
    }
    if drawn {
        let _ = out.write_all(b"\r\x1b[2K");
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_fill_with_the_files_done() {
        assert_eq!(
            frame(0, 40),
            format!("\r\x1b[2Kchecking [{}] 0/40 files", " ".repeat(30))
        );
        assert_eq!(
            frame(20, 40),
            format!(
                "\r\x1b[2Kchecking [{}{}] 20/40 files",
                "=".repeat(15),
                " ".repeat(15)
            )
        );
        // Never more than full, never a division by zero.
        assert!(frame(50, 40).contains("40/40"));
        assert!(frame(0, 0).contains("0/1"));
    }

    #[test]
    fn the_bar_waits_for_the_delay_then_draws_and_erases_itself() {
        // A scan that ends before the delay draws nothing.
        let c = Arc::new(Counters::default());
        let c2 = Arc::clone(&c);
        let quick = std::thread::spawn(move || {
            let mut out = Vec::new();
            draw(&c2, Duration::from_secs(60), &mut out);
            out
        });
        std::thread::sleep(Duration::from_millis(250));
        c.finished.store(true, Ordering::Relaxed);
        assert!(quick.join().expect("drawer").is_empty());

        // A long one draws frames as files are done, then erases the line.
        let c = Arc::new(Counters::default());
        c.total.store(10, Ordering::Relaxed);
        let c2 = Arc::clone(&c);
        let slow = std::thread::spawn(move || {
            let mut out = Vec::new();
            draw(&c2, Duration::ZERO, &mut out);
            out
        });
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(40));
            c.done.fetch_add(1, Ordering::Relaxed);
        }
        std::thread::sleep(Duration::from_millis(250));
        c.finished.store(true, Ordering::Relaxed);
        let out = String::from_utf8(slow.join().expect("drawer")).expect("utf-8");
        assert!(out.contains("10/10 files"), "{out:?}");
        assert!(out.ends_with("\r\x1b[2K"), "{out:?}");
    }
}
