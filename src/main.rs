//! The `openbb-files` binary: parse the command line, start the server, print where it listens,
//! and stop cleanly on SIGINT/SIGTERM. Exit status: 0 after a requested stop, 1 when the server
//! cannot start or its listener fails (or a second signal came before the stop was done), 2 for
//! a usage error.
//! Once serving, nothing printed can stop the server: every line goes through `log::line` (or
//! a write whose failure is ignored), so a closed stdout or stderr changes nothing.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use openbb_files::Config;
use openbb_files::config::{self, Command};
use openbb_files::log;
use signal_hook::consts::{SIGINT, SIGTERM};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check") => return check(&args[1..]),
        Some("init") => return init(&args[1..]),
        Some("health") => return openbb_files::health::command(&args[1..]),
        _ => {}
    }
    let config = match config::parse(&args, &|name| std::env::var(name).ok()) {
        Ok(Command::Serve(config)) => *config,
        Ok(Command::Help) => {
            print!("{}", config::help());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("{}", openbb_files::build_info::version_line());
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
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "listening on {}://{}",
        config.scheme(),
        server.addr()
    )
    .and_then(|()| stdout.flush());
    drop(stdout);
    banner(&config, server.addr()).lines().for_each(log::line);
    if let Err(err) = stop_on_signals(signals, server.stopper()) {
        log::line(&format!(
            "openbb-files: cannot watch for SIGINT/SIGTERM: {err}"
        ));
        server.stop();
    }
    match server.wait() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::line(&format!("openbb-files: {message}"));
            ExitCode::FAILURE
        }
    }
}

/// `openbb-files check ...`: 0 when nothing failed, 1 when something did, 2 for a usage error.
fn check(args: &[String]) -> ExitCode {
    match openbb_files::check::parse(args, &|name| std::env::var(name).ok()) {
        Ok(Some(options)) => match openbb_files::check::run(&options, &mut std::io::stdout()) {
            true => ExitCode::SUCCESS,
            false => ExitCode::FAILURE,
        },
        Ok(None) => {
            print!("{}", openbb_files::check::help());
            ExitCode::SUCCESS
        }
        Err(config::UsageError(message)) => {
            eprintln!("openbb-files: {message}\nTry 'openbb-files check --help'.");
            ExitCode::from(2)
        }
    }
}

/// `openbb-files init ...`: 0 when the files were written, 1 when not, 2 for a usage error.
fn init(args: &[String]) -> ExitCode {
    use openbb_files::init;
    match init::parse(args, &|name| std::env::var(name).ok()) {
        Ok(Some(options)) => match init::run(&options) {
            Ok(lines) => {
                lines.iter().for_each(|line| println!("{line}"));
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("openbb-files: init: {message}");
                ExitCode::FAILURE
            }
        },
        Ok(None) => {
            print!("{}", init::help());
            ExitCode::SUCCESS
        }
        Err(config::UsageError(message)) => {
            eprintln!("openbb-files: {message}\nTry 'openbb-files init --help'.");
            ExitCode::from(2)
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
            let mut received = signals.forever();
            if received.next().is_some() {
                log::line("openbb-files: stopping; answering requests already received");
                stopper.stop();
            }
            if received.next().is_some() {
                log::line("openbb-files: stopping now");
                std::process::exit(1);
            }
        })?;
    Ok(())
}

/// What the person starting the server needs, on stderr (the first stdout line stays the bare
/// address for scripts): the URL to paste into Workspace, whether a key is required, and which
/// browser origins may read the answers.
fn banner(config: &Config, addr: SocketAddr) -> String {
    let root = std::fs::canonicalize(&config.root).unwrap_or_else(|_| config.root.clone());
    let local = SocketAddr::new(
        match addr.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => [127, 0, 0, 1].into(),
            ip if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        },
        addr.port(),
    );
    let scheme = config.scheme();
    let mut text = format!(
        "openbb-files {} serving {}\n  Workspace: Add data > Custom backend, URL {scheme}://{local}\n",
        env!("CARGO_PKG_VERSION"),
        root.display()
    );
    if addr.ip().is_unspecified() {
        text.push_str(
            "  From other machines, use this machine's name over HTTPS (a TLS reverse proxy): \
             browsers block plain http:// to anything but localhost\n",
        );
    }
    text.push_str(&match &config.api_key {
        Some(_) => format!(
            "  Token: required, as header {} (or query parameter {})\n",
            config.auth_header, config.auth_query
        ),
        None => "  Token: not required (--api-key sets one)\n".to_string(),
    });
    text.push_str(&format!(
        "  Browser origins allowed: {}\n  Status, widget count and problems: {scheme}://{local}/\n",
        config.cors_origins.join(", ")
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_names_the_url_and_the_token_rule() {
        let config = Config::default();
        let text = banner(&config, "127.0.0.1:7779".parse().unwrap());
        assert!(text.contains("URL http://127.0.0.1:7779\n"), "{text}");
        assert!(text.contains("Token: not required"), "{text}");
        assert!(text.contains("https://pro.openbb.co"), "{text}");
        assert!(!text.contains("other machines"), "{text}");
    }

    #[test]
    fn banner_on_every_interface_points_at_localhost_and_https() {
        let config = Config {
            api_key: Some("secret".into()),
            ..Config::default()
        };
        let text = banner(&config, "0.0.0.0:8080".parse().unwrap());
        assert!(text.contains("URL http://127.0.0.1:8080\n"), "{text}");
        assert!(text.contains("over HTTPS"), "{text}");
        assert!(
            text.contains("Token: required, as header X-API-KEY (or query parameter api_key)"),
            "{text}"
        );
        assert!(!text.contains("secret"), "{text}");
        let v6 = banner(&Config::default(), "[::]:8080".parse().unwrap());
        assert!(v6.contains("URL http://[::1]:8080\n"), "{v6}");
    }
}
