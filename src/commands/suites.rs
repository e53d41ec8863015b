//! `wasmcert suites list`: the cases a certification run would execute.

use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wasmcert_certify::case::load_cases;

/// Inspect certification suites.
#[derive(Args)]
#[command(after_help = "Examples:
  wasmcert suites list
  wasmcert suites list --filter '^limits/'
  wasmcert suites list --wasi-testsuite wasi-testsuite/tests/rust/testsuite

Exit status:
  0  listed
  2  the suite could not be loaded (the message names the file)")]
pub struct Opts {
    #[command(subcommand)]
    pub command: SuitesCommand,
}

#[derive(Subcommand)]
pub enum SuitesCommand {
    /// List every case: id, what it requires, and what it proves.
    List {
        #[arg(long, value_name = "DIR")]
        suite: Option<PathBuf>,
        #[arg(long, value_name = "DIR", conflicts_with = "suite")]
        wasi_testsuite: Option<PathBuf>,
        #[arg(long, value_name = "REGEX")]
        filter: Option<String>,
    },
}

impl Opts {
    pub fn run(&self) -> Result<ExitCode> {
        let SuitesCommand::List {
            suite,
            wasi_testsuite,
            filter,
        } = &self.command;
        let (name, cases) = load_cases(
            suite.as_deref(),
            wasi_testsuite.as_deref(),
            filter.as_deref(),
        )?;
        let mut out = format!(
            "{name}: {} cases, sha256 {}\n",
            cases.len(),
            wasmcert_certify::suite_digest(&cases)
        );
        for c in &cases {
            let req = if c.spec.requires.is_empty() {
                String::new()
            } else {
                format!(" [requires {}]", c.spec.requires.join(", "))
            };
            out.push_str(&format!("{}{req}\n    {}\n", c.id, c.spec.summary));
        }
        crate::output::emit(None, &out)?;
        Ok(ExitCode::SUCCESS)
    }
}
