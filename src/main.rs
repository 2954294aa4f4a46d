//! The `openbb-files` binary: parse the command line, start the server, print where it listens,
//! and stop cleanly on SIGINT/SIGTERM. Exit status: 0 after a requested stop, 1 when the server
//! cannot start or its listener fails, 2 for a usage error.

use std::io::Write;
use std::process::ExitCode;

use openbb_files::config::{self, Command};
use signal_hook::consts::{SIGINT, SIGTERM};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match config::parse(&args, &|name| std::env::var(name).ok()) {
        Ok(Command::Serve(config)) => config,
        Ok(Command::Help) => {
            print!("{}", config::help());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("openbb-files {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(config::UsageError(message)) => {
            eprintln!("openbb-files: {message}\nTry 'openbb-files --help' for the options.");
            return ExitCode::from(2);
        }
    };
    // Registered before the first line is printed, so a signal sent as soon as the address is
    // known is never the default (fatal) action.
    let signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(err) => {
            eprintln!("openbb-files: cannot watch for SIGINT/SIGTERM: {err}");
            return ExitCode::FAILURE;
        }
    };
    let server = match openbb_files::start(&config) {
        Ok(server) => server,
        Err(message) => {
            eprintln!("openbb-files: {message}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://{}", server.addr());
    let _ = std::io::stdout().flush();
    if let Err(err) = stop_on_signals(signals, server.stopper()) {
        eprintln!("openbb-files: cannot watch for SIGINT/SIGTERM: {err}");
        server.stop();
    }
    match server.wait() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("openbb-files: {message}");
            ExitCode::FAILURE
        }
    }
}

fn stop_on_signals(
    mut signals: signal_hook::iterator::Signals,
    stopper: openbb_files::server::Stopper,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                eprintln!("openbb-files: stopping; answering requests already received");
                stopper.stop();
            }
        })?;
    Ok(())
}
