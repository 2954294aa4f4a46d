//! Integration tests: each starts a server in-process on 127.0.0.1:0 over a fixture folder of
//! its own and talks to it over real sockets (ureq, or raw bytes where exact wire behaviour
//! matters). Every request is bounded by a timeout, so a hung server fails a test instead of
//! hanging the run.

mod support;

mod auth;
mod bounds;
mod caches;
mod charts;
mod check;
mod cli;
mod cors;
mod dashboard;
mod dependencies;
mod desk;
mod errors;
mod example;
mod faults;
mod finishing;
// Its fixtures include zstd-compressed files and Parquet's zstd codec (the default `zstd`
// feature).
#[cfg(feature = "zstd")]
mod formats;
#[cfg(feature = "zstd")]
mod formats_everywhere;
mod health;
mod limits;
mod live;
mod names;
mod observability;
mod process;
mod reload;
mod remote;
mod routes;
mod routing;
mod slow;
mod ssrm;
mod stress;
mod tables;
mod tls;
mod traversal;
mod udf;
mod validation;
mod widgets;
mod workspace;
mod writes;
mod zeroconf;
