//! openbb-files: serve a folder of research files to OpenBB Workspace as a custom backend.
//!
//! `server` owns the sockets and threads and is the only module that knows tiny_http; `app` hands
//! plain `http::Request` values to the handler of the route `router` decides (a pure function of
//! the path and the manifest), handlers return plain `http::Response` values, and `finish`
//! finishes every answer the server sends (CORS, `Date`, `Connection`, error bodies). `widgets`
//! holds one module of plain handler functions per widget type, reading `data/` only through
//! `files`, which fails with an `error::FileError` that `widgets::errors` alone turns into an
//! answer. Everything below is pure and unit-tested: `paths` (what may be read), `cache` (file
//! versions, cached responses), `manifest` (widgets.json/apps.json: each widget's settings, one
//! enum variant per type), `template` (`{param}` placeholders), `validate` (the rules of
//! Workspace's front end for a manifest), `generate` (the manifest of a folder without one),
//! `dashboard` (the `apps.json` of a folder without one),
//! `data`, `csv_read`, `formats` (which format a file is; workbooks, Parquet, compressed files),
//! `table` and `filter` (rows from files), `base64`, `cors`, `hosts` and
//! `auth` (browser, `Host` and token rules), `config`, `websocket` (RFC 6455 handshake and frames). `remote` fetches
//! `http(s)` data sources; `check` and `init` are the two commands besides serving, and `workspace`
//! is what Workspace's front end sends when it validates a backend (for `check`). `live` keeps the
//! subscribers of live_grid WebSockets and pushes them changed rows; `server` only hands it the
//! upgraded connections. `log` writes every line on stderr (escaped, and never panicking).
//! `health` answers `/health` (no key) and is `openbb-files health`, the probe for containers;
//! `build_info` is what `--version` says. `writes` adds the rows of Workspace forms to the files
//! widgets name in `backend.append` (the only module that writes under `data/`).

#![forbid(unsafe_code)]

pub mod access_log;
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
pub mod dashboard;
pub mod data;
pub mod error;
pub mod files;
pub mod filter;
pub mod finish;
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
pub mod note;
pub mod paths;
pub mod proxy;
pub mod remote;
pub mod router;
pub mod server;
pub mod status_page;
pub mod table;
pub mod template;
pub mod validate;
pub mod websocket;
pub mod widgets;
pub mod workspace;
pub mod writes;

pub use config::Config;
pub use server::{Handler, ServerHandle, start, start_with};
