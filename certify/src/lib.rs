#![doc = include_str!("../README.md")]

pub mod canary;
pub mod case;
pub mod command;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod error;
pub mod expectations;
pub mod generated;
pub mod runner;
pub mod runtime;
pub mod stream;
pub mod testsuite;
pub mod workdir;
pub mod world;

pub use case::{Case, load_suite, load_wasi_testsuite, suite_digest};
pub use error::{Error, Result};
pub use expectations::Expectations;
pub use runtime::Runtime;
