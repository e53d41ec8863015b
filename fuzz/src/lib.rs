#![doc = include_str!("../README.md")]

pub mod generate;
pub mod oracle;
#[cfg(test)]
mod smoke;
pub mod targets;

pub use generate::{
    generate_component, generate_module, generate_policy, generate_smith_component, generate_spec,
    mutate_bundle, seeded_bytes,
};
pub use oracle::{
    check_any_component, check_bundle, check_bytes, check_component, check_module, check_policy,
    check_spec,
};

/// The committed test key and signed fixture bundle (reports/tests/).
pub const TEST_PUB: &str = include_str!("../../reports/tests/keys/test.pub");
pub const TEST_BUNDLE: &str = include_str!("../../reports/tests/data/hello.sigstore.json");
