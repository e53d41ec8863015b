//! One file per subcommand: `Opts` (clap derive; doc comments are the help) and `run`.

pub mod analyze;
pub mod certify;
pub mod check;
pub mod keys;
pub mod matrix;
pub mod sbom;
pub mod serve;
pub mod suites;
