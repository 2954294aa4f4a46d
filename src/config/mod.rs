//! The settings of a run: [`Config`], what `openbb-files [serve]` runs with, its defaults, and
//! the [`Command`] a command line asks for. `args.rs` parses the command line and its
//! environment variables into them (and the subcommands' flags).
//!
//! Invariant: a `Config` that parsed is valid (port and thread count in range, names non-empty).
//! `Config` gathers the other modules' settings (`files::Limits`, `live::Limits`) and depends on
//! them; none of them depends on it.

mod args;

pub use args::{help, parse, subcommand_flags};

use std::path::PathBuf;
use std::time::Duration;

use crate::auth::{ApiKey, DEFAULT_KEY_ID, Secret};
use crate::cors::DEFAULT_ORIGINS;
use crate::files;
use crate::live::Limits;
use crate::log::LogFormat;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub root: PathBuf,
    pub host: String,
    pub port: u16,
    pub threads: usize,
    /// `--api-key`: the key with id `default`.
    pub api_key: Option<Secret>,
    /// `--api-keys`: the named keys of that file, read once at the start (`auth.rs`).
    pub api_keys: Vec<ApiKey>,
    pub auth_header: String,
    pub auth_query: String,
    pub cors_origins: Vec<String>,
    pub access_log: bool,
    pub log_format: LogFormat,
    /// The request line and headers together, in bytes (longer: 414 or 431).
    pub max_header_bytes: usize,
    /// The largest request body read, in bytes (larger: 413).
    pub max_body_bytes: u64,
    /// How long a connection may make no progress (idle between requests, a request's head
    /// trickling in, a response the client does not read) before it is closed.
    pub idle_timeout: Duration,
    /// A request body must arrive, and an answer be taken by the client, within the idle
    /// timeout plus a second per this many bytes (else 408, or the answer is given up).
    pub min_bytes_per_sec: usize,
    /// HTTPS: the PEM certificate chain (leaf first) and private key; both or neither.
    pub tls: Option<Tls>,
    /// Byte budgets of the caches (see `files::Limits`).
    pub data_cache_bytes: usize,
    pub response_cache_bytes: usize,
    pub selection_cache_bytes: usize,
    pub file_cache_bytes: usize,
    pub remote_cache_bytes: usize,
    /// How large a filter one request may ask for (see `filter::Limits`).
    pub max_filter_values: usize,
    pub max_filter_conditions: usize,
    /// Names (besides localhost, addresses and `host`) that requests may give in `Host`; `*`
    /// for any (see `hosts.rs`).
    pub allowed_hosts: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client in the access log (see
    /// `proxy.rs`); none by default.
    pub trust_proxy: Vec<crate::proxy::Network>,
    /// The largest multi_file_viewer answer, in bytes (its files in base64; larger: 413).
    pub max_viewer_bytes: u64,
    /// Bytes a compressed data file may expand to (see `formats::Caps`).
    pub max_decompressed_bytes: u64,
    /// The live_grid sockets' bounds (`--live-per-address` and `--live-queue-bytes` set theirs).
    pub live: Limits,
    /// Form writes: allowed without a key?, body and rows bounds (see `writes/`).
    pub writes: crate::writes::Limits,
}

/// The files `--tls-cert` and `--tls-key` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Config {
    /// Every key that authenticates a request: `--api-key`'s (id `default`), then the
    /// `--api-keys` file's. None: no key is required.
    pub fn keys(&self) -> Vec<ApiKey> {
        let default = self
            .api_key
            .as_deref()
            .map(|key| ApiKey::new(DEFAULT_KEY_ID, key));
        default.into_iter().chain(self.api_keys.clone()).collect()
    }

    /// `https` when serving TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        match self.tls {
            Some(_) => "https",
            None => "http",
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        let limits = files::Limits::default();
        Config {
            root: PathBuf::from("."),
            host: "127.0.0.1".to_string(),
            port: 7779,
            threads: default_threads(),
            api_key: None,
            api_keys: Vec::new(),
            auth_header: "X-API-KEY".to_string(),
            auth_query: "api_key".to_string(),
            cors_origins: DEFAULT_ORIGINS.map(String::from).to_vec(),
            access_log: true,
            log_format: LogFormat::Text,
            max_header_bytes: 16 * 1024,
            max_body_bytes: 16 * 1024 * 1024,
            idle_timeout: Duration::from_secs(30),
            min_bytes_per_sec: 16 * 1024,
            tls: None,
            data_cache_bytes: limits.data,
            response_cache_bytes: limits.responses,
            selection_cache_bytes: limits.selections,
            file_cache_bytes: limits.file_bytes,
            remote_cache_bytes: limits.remote,
            max_filter_values: limits.filter.values,
            max_filter_conditions: limits.filter.conditions,
            allowed_hosts: Vec::new(),
            trust_proxy: Vec::new(),
            max_viewer_bytes: 64 * 1024 * 1024,
            max_decompressed_bytes: limits.decompressed,
            live: Limits::default(),
            writes: crate::writes::Limits::default(),
        }
    }
}

impl From<&Config> for files::Limits {
    fn from(config: &Config) -> files::Limits {
        files::Limits {
            data: config.data_cache_bytes,
            responses: config.response_cache_bytes,
            selections: config.selection_cache_bytes,
            file_bytes: config.file_cache_bytes,
            remote: config.remote_cache_bytes,
            filter: crate::filter::Limits {
                values: config.max_filter_values,
                conditions: config.max_filter_conditions,
            },
            decompressed: config.max_decompressed_bytes,
        }
    }
}

/// Workers block while writing a response to a slow client or reading a file for the first
/// time, so there are a few more of them than cores: the cores plus 2, at least 4. Those
/// beyond the cores are spares: while as many workers as cores are running, a queued request
/// waits for one of them, and a spare takes it only once it has waited 2 ms (`server.rs`'s
/// `scheduling`, given to the vendored tiny_http: PATCHES.md change 14). Waking an idle worker
/// per request instead had cost a third of the requests a second on 2 cores (BENCHMARKS.md).
fn default_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores + 2).max(4)
}

#[derive(Debug, PartialEq)]
pub enum Command {
    /// Boxed: a `Config` is much larger than the other variants.
    Serve(Box<Config>),
    Help,
    Version,
}

/// A command line that cannot be run; `main` prints it and exits with status 2.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);
