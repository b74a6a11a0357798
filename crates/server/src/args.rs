//! Parsing a service's settings: invalid configuration exits with code 64 (EX_USAGE) before
//! any port is bound; `--help` and `--version` print and exit 0.

use clap::Parser;

/// Exit code for invalid configuration (sysexits.h `EX_USAGE`).
pub const EXIT_CONFIG: i32 = 64;

/// Parses `T` from the command line and environment, exiting 64 on invalid input.
pub fn parse_or_exit<T: Parser>() -> T {
    match T::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_CONFIG } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    }
}
