//! Writing a command's output when the reader may be gone: a closed pipe
//! (`redline env | head -0`) ends the command quietly, any other write
//! error (`>/dev/full`) is one line on stderr and exit 2. Never a panic,
//! which is what `println!` does on both.

use std::io::{self, Write};

/// Writes `text` to standard output and flushes it.
pub fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// The exit code after writing the output of `command`: `code` when the
/// write succeeded or the reader closed the pipe (nothing more to say, and
/// no one to say it to), else 2 with a message on stderr.
pub fn exit_code(command: &str, written: io::Result<()>, code: u8) -> u8 {
    match written {
        Ok(()) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            let _ = writeln!(
                io::stderr(),
                "redline {command}: cannot write the output: {e}"
            );
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_pipe_is_quiet_other_errors_exit_2() {
        assert_eq!(exit_code("env", Ok(()), 1), 1);
        let epipe = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(exit_code("env", Err(epipe), 0), 0);
        let full = io::Error::from_raw_os_error(28);
        assert_eq!(exit_code("env", Err(full), 0), 2);
    }
}
