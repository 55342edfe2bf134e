//! The `noc-tui` binary: parse flags, check them before the terminal is
//! taken, then hand over to [`noc_tui::run`].

use std::process::ExitCode;

use clap::Parser;
use noc_tui::{Cli, Config};

fn main() -> ExitCode {
    let config = match Config::from_cli(Cli::parse()) {
        Ok(config) => config,
        Err(bad) => {
            // One line, naming the URL, and the usage-error exit code, all
            // before the screen is touched.
            eprintln!("noc-tui: {bad}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = noc_tui::logging::init(config.log_file.as_deref()) {
        eprintln!("noc-tui: cannot open the log file: {e}");
        return ExitCode::from(2);
    }
    // tokio-tungstenite leaves the TLS crypto provider to the program; an
    // error here only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
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
