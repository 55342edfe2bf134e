//! The `noc-tui` binary: parse flags, check them before the terminal is
//! taken, then hand over to [`noc_tui::run`].

use std::process::ExitCode;

use clap::Parser;
use noc_tui::{Cli, Config};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The log first, so that reading the system's CA store (for `wss://`)
    // can say what it found.
    if let Err(e) = noc_tui::logging::init(cli.log_file.as_deref()) {
        eprintln!("noc-tui: cannot open the log file: {e}");
        return ExitCode::from(2);
    }
    let config = match Config::from_cli(cli) {
        Ok(config) => config,
        Err(bad) => {
            // One line, naming the URL or the --ca-file, and the
            // usage-error exit code, all before the screen is touched.
            eprintln!("noc-tui: {bad}");
            return ExitCode::from(2);
        }
    };
    let runtime = match noc_tui::runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("noc-tui: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(noc_tui::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("noc-tui: {e}");
            ExitCode::FAILURE
        }
    }
}
