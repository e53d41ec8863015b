pub mod fake_registry;
pub mod registry;
