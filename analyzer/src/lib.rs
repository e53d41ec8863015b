#![doc = include_str!("../README.md")]

pub mod analyze;
pub mod capabilities;
mod classify;
mod component;
pub mod custom;
mod custom_sections;
pub mod features;
pub mod findings;
mod finish;
mod graph;
pub mod model;
mod types;

pub use analyze::{Error, MAX_NESTING, Options, analyze};
pub use custom::SectionError;
pub use model::*;
