//! openbb-files: serve a folder of research files to OpenBB Workspace as a custom backend.
//!
//! `server` owns the sockets and threads and is the only module that knows tiny_http; `app` routes
//! plain `http::Request` values to handlers that return plain `http::Response` values. `widgets`
//! holds one module of plain handler functions per widget type, reading `data/` only through
//! `files`. Everything below is pure and unit-tested: `paths` (what may be read), `cache` (file
//! versions, cached responses), `manifest` (widgets.json/apps.json), `validate` (the rules of
//! Workspace's front end for a manifest), `generate` (the manifest of a folder without one),
//! `data`, `csv_read`, `formats` (which format a file is; workbooks, Parquet, compressed files),
//! `table` and `filter` (rows from files), `base64`, `cors`, `hosts` and
//! `auth` (browser, `Host` and token rules), `config`, `websocket` (RFC 6455 handshake and frames). `remote` fetches
//! `http(s)` data sources; `check` and `init` are the two commands besides serving, and `workspace`
//! is what Workspace's front end sends when it validates a backend (for `check`). `live` keeps the
//! subscribers of live_grid WebSockets and pushes them changed rows; `server` only hands it the
//! upgraded connections. `log` writes every line on stderr (escaped, and never panicking).
//! `health` answers `/health` (no key) and is `openbb-files health`, the probe for containers;
//! `build_info` is what `--version` says.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod base64;
pub mod build_info;
pub mod cache;
pub mod calendar;
pub mod check;
pub mod config;
pub mod cors;
pub mod csv_read;
pub mod data;
pub mod files;
pub mod filter;
pub mod formats;
pub mod generate;
pub mod health;
pub mod hosts;
pub mod http;
pub mod init;
pub mod live;
pub mod log;
pub mod manifest;
pub mod metrics;
pub mod paths;
pub mod proxy;
pub mod remote;
pub mod server;
pub mod status_page;
pub mod table;
pub mod validate;
pub mod websocket;
pub mod widgets;
pub mod workspace;

pub use config::Config;
pub use server::{Handler, ServerHandle, start, start_with};
