//! openbb-files: serve a folder of research files to OpenBB Workspace as a custom backend.
//!
//! `server` owns the sockets and threads and is the only module that knows tiny_http; `app`
//! routes plain `http::Request` values to handlers that return plain `http::Response` values.
//! Everything below `app` is pure and unit-tested: `paths` (what may be read), `cache` (file
//! versions), `manifest` (widgets.json/apps.json), `data`, `csv_read`, `table` and `filter` (rows from
//! files), `cors` and `auth` (browser and token rules), `config` (command line).

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod cors;
pub mod csv_read;
pub mod data;
pub mod filter;
pub mod http;
pub mod manifest;
pub mod paths;
pub mod server;
pub mod table;

pub use config::Config;
pub use server::{Handler, ServerHandle, start, start_with};
