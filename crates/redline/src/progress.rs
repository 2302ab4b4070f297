//! A progress bar on stderr for scans that take longer than a second.
//! Only on a terminal (never in CI logs or pipes), and never with
//! `TERM=dumb`; it erases itself when the scan ends.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
        let counters = Arc::new(Counters::default());
        let c = Arc::clone(&counters);
        let drawer = std::thread::Builder::new()
            .name("redline-progress".into())
            .spawn(move || draw(&c))
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

fn draw(c: &Counters) {
    let started = Instant::now();
    let mut drawn = false;
    while !c.finished.load(Ordering::Relaxed) {
        std::thread::sleep(TICK);
        if started.elapsed() < DELAY || c.finished.load(Ordering::Relaxed) {
            continue;
        }
        let total = c.total.load(Ordering::Relaxed).max(1);
        let done = c.done.load(Ordering::Relaxed).min(total);
        let filled = done * WIDTH / total;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2Kchecking [{}{}] {done}/{total} files",
            "=".repeat(filled),
            " ".repeat(WIDTH - filled)
        );
        let _ = err.flush();
        drawn = true;
    }
    if drawn {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}
