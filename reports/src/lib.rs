#![doc = include_str!("../README.md")]

pub mod conformance;
pub mod human;
pub mod matrix;
pub mod sarif;
pub mod sbom;
pub mod sign;
