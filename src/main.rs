//! The `openbb-files` binary: pick the subcommand (`serve` unless the first argument names
//! another), parse the command line, check the folder, start the server, print where it
//! listens, and stop cleanly on SIGINT/SIGTERM. Exit status: 0 after a requested stop, 1 when
//! the server cannot start or its listener fails (or a second signal came before the stop was
//! done), 2 for a usage error or a folder that cannot be served (`check::root_check`).
//! Once serving, nothing printed can stop the server: every line goes through `log::line` (or
//! a write whose failure is ignored), so a closed stdout or stderr changes nothing.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use openbb_files::Config;
use openbb_files::config::{self, Command};
use openbb_files::log;
use signal_hook::consts::{SIGINT, SIGTERM};

/// A subcommand, named by the first argument; without one (nothing, an option or a folder
/// first) the arguments are `serve`'s.
struct Subcommand {
    name: &'static str,
    run: fn(&[String]) -> ExitCode,
    help: fn() -> String,
}

const SUBCOMMANDS: [Subcommand; 5] = [
    Subcommand {
        name: "serve",
        run: serve,
        help: config::help,
    },
    Subcommand {
        name: "health",
        run: openbb_files::health::command,
        help: openbb_files::health::help,
    },
    Subcommand {
        name: "check",
        run: check,
        help: openbb_files::check::help,
    },
    Subcommand {
        name: "init",
        run: init,
        help: openbb_files::init::help,
    },
    Subcommand {
        name: "help",
        run: help,
        help: config::help,
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let first = args.first().map_or("", String::as_str);
    if let Some(subcommand) = SUBCOMMANDS.iter().find(|s| s.name == first) {
        return (subcommand.run)(&args[1..]);
    }
    // A bare word that names no subcommand and no folder is more likely a mistyped subcommand
    // than a folder still to be made (a path with a `/` is taken as a folder).
    if !first.is_empty()
        && !first.starts_with('-')
        && !first.contains('/')
        && !Path::new(first).exists()
    {
        return usage_error(
            &format!(
                "'{first}' is neither a subcommand ({}) nor a folder",
                subcommand_names()
            ),
            "openbb-files --help",
        );
    }
    serve(&args)
}

fn subcommand_names() -> String {
    let names: Vec<&str> = SUBCOMMANDS.iter().map(|s| s.name).collect();
    names.join(", ")
}

/// Prints a usage error and where help is; exit status 2.
fn usage_error(message: &str, help: &str) -> ExitCode {
    eprintln!("openbb-files: {message}\nTry '{help}'.");
    ExitCode::from(2)
}

/// `openbb-files help [SUBCOMMAND]`: the help text of the program or of a subcommand.
fn help(args: &[String]) -> ExitCode {
    let text = match args {
        [] => config::help(),
        [flag] if flag == "-h" || flag == "--help" => config::help(),
        [name] => match SUBCOMMANDS.iter().find(|s| s.name == name) {
            Some(subcommand) => (subcommand.help)(),
            None => {
                return usage_error(
                    &format!(
                        "help: no subcommand '{name}'; the subcommands are {}",
                        subcommand_names()
                    ),
                    "openbb-files help",
                );
            }
        },
        _ => return usage_error("help takes one subcommand at most", "openbb-files help"),
    };
    print!("{text}");
    ExitCode::SUCCESS
}

/// `openbb-files [serve] ...`: serves until SIGINT/SIGTERM.
fn serve(args: &[String]) -> ExitCode {
    let config = match config::parse(args, &|name| std::env::var(name).ok()) {
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
            return usage_error(&message, "openbb-files --help");
        }
    };
    // Every line from here on follows --log-format, start-up errors included.
    log::set_format(config.log_format);
    // Refused before anything starts: a folder that serves nothing must not look like a
    // backend that works.
    let folder_warning = match openbb_files::check::root_check(&config.root) {
        Ok(warning) => warning,
        Err(message) => {
            log::line(&format!("openbb-files: {message}"));
            return ExitCode::from(2);
        }
    };
    // Registered before the first line is printed, so a signal sent as soon as the address is
    // known is never the default (fatal) action.
    let signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(err) => {
            log::line(&format!(
                "openbb-files: cannot watch for SIGINT/SIGTERM: {err}"
            ));
            return ExitCode::FAILURE;
        }
    };
    let server = match openbb_files::start(&config) {
        Ok(server) => server,
        Err(message) => {
            log::line(&format!("openbb-files: {message}"));
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
    if let Some(warning) = folder_warning {
        log::line(&format!("openbb-files: warning: {warning}"));
    }
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
        Err(config::UsageError(message)) => usage_error(&message, "openbb-files check --help"),
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
        Err(config::UsageError(message)) => usage_error(&message, "openbb-files init --help"),
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
/// browser origins may read the answers; and a warning when other machines may connect and no
/// key is required.
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
    let keys = config.keys().len();
    text.push_str(&match keys {
        0 => "  Token: not required (--api-key sets one)\n".to_string(),
        _ => format!(
            "  Token: required, as header {} (or query parameter {})\n",
            config.auth_header, config.auth_query
        ),
    });
    if !config.api_keys.is_empty() {
        text.push_str(&format!(
            "  Keys: {keys}, each known by its id (the --api-keys file is read at the start: \
             restart to change it)\n"
        ));
    }
    if keys == 0 && !addr.ip().to_canonical().is_loopback() {
        text.push_str(&format!(
            "openbb-files: warning: listening on {addr} without a key: anyone who can reach \
             this address can read every file in data/; require a key with --api-key KEY (or \
             OPENBB_FILES_API_KEY)\n"
        ));
    }
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
        assert!(!text.contains("warning"), "{text}");
        let v6 = banner(&Config::default(), "[::]:8080".parse().unwrap());
        assert!(v6.contains("URL http://[::1]:8080\n"), "{v6}");
    }

    #[test]
    fn banner_counts_named_keys_without_showing_them() {
        let config = Config {
            api_keys: vec![openbb_files::auth::ApiKey::new("alice", "k-alice")],
            ..Config::default()
        };
        let text = banner(&config, "0.0.0.0:8080".parse().unwrap());
        assert!(text.contains("Token: required"), "{text}");
        assert!(text.contains("Keys: 1, each known by its id"), "{text}");
        assert!(
            !text.contains("k-alice") && !text.contains("warning"),
            "{text}"
        );
    }

    #[test]
    fn banner_warns_when_other_machines_may_read_without_a_key() {
        for addr in ["0.0.0.0:8080", "[::]:8080", "192.168.1.5:8080"] {
            let text = banner(&Config::default(), addr.parse().unwrap());
            let warning = format!("openbb-files: warning: listening on {addr} without a key: ");
            assert!(text.contains(&warning), "{text}");
            assert!(text.contains("anyone who can reach"), "{text}");
            assert!(text.contains("--api-key"), "{text}");
        }
        for addr in ["127.0.0.1:8080", "[::1]:8080", "[::ffff:127.0.0.1]:8080"] {
            let text = banner(&Config::default(), addr.parse().unwrap());
            assert!(!text.contains("warning"), "{addr}: {text}");
        }
    }
}
