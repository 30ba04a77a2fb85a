//! What the CLI prints on standard output. A reader that goes away (`| head`, `| less` quit
//! early) ends the command quietly, as a broken pipe ends any Unix tool — never a panic with
//! a backtrace, which is what `println!` does.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write};

/// The exit status of a command whose output nobody reads any more (what shells report for
/// a process that SIGPIPE ended: 128 + 13).
const READER_GONE: i32 = 141;

/// Writes `text` to standard output; exits quietly when its reader is gone.
pub fn write(text: Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(text).and_then(|()| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(READER_GONE);
        }
        eprintln!("error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

/// Writes progress to standard error; nobody reading it any more is no reason to stop the
/// work it reports on.
pub fn progress(text: Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(text).and_then(|()| err.flush());
}

/// `println!` for the CLI (see the module).
macro_rules! say {
    () => {
        $crate::output::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for the CLI (see the module).
macro_rules! say_part {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*))
    };
}

pub(crate) use {say, say_part};
