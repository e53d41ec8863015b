#![doc = include_str!("../README.md")]

pub mod analyze;
pub mod capabilities;
pub mod custom;
pub mod features;
pub mod findings;
mod graph;
pub mod model;

pub use analyze::{Error, MAX_NESTING, Options, analyze};
pub use model::*;
