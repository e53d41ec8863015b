#![doc = include_str!("../README.md")]

pub mod admission;
pub mod server;
pub mod service;

pub use server::{ServeOptions, serve};
pub use service::{Admitter, Config, Fetch, RegistryFetch, Verdict};
