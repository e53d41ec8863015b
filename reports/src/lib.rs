#![doc = include_str!("../README.md")]

pub mod certification;
pub mod conformance;
pub mod escape;
pub mod human;
pub mod matrix;
pub mod merge;
pub mod sarif;
pub mod sbom;
pub mod sign;
pub mod signed;
