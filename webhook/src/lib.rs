#![doc = include_str!("../README.md")]

pub mod admission;
mod error;
pub mod metrics;
pub mod server;
pub mod service;

pub use error::Error;
pub use metrics::Metrics;
pub use server::{ServeOptions, State, serve, serve_metrics};
pub use service::{Admitter, Config, Fetch, RegistryFetch, Verdict};
