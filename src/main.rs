//! `wasmcert`: security analysis and certification of WebAssembly workloads.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod commands;
mod input;
mod output;
mod signing;

/// Security analysis and certification of WebAssembly modules and components.
#[derive(Parser)]
#[command(name = "wasmcert", version, about, propagate_version = true)]
#[command(
    after_help = "Exit status (every subcommand):\n  0  success: analysed / allowed / all pass\n  1  findings that fail the check / denied / failures\n  2  usage or input error (unreadable, malformed or unsupported input)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Analyze(commands::analyze::Opts),
    Sbom(commands::sbom::Opts),
    Check(commands::check::Opts),
    Init(commands::check::InitOpts),
    Serve(commands::serve::Opts),
    Certify(commands::certify::Opts),
    Suites(commands::suites::Opts),
    Keygen(commands::keys::KeygenOpts),
    Sign(commands::keys::SignOpts),
    Verify(commands::keys::VerifyOpts),
    Matrix(commands::matrix::MatrixOpts),
    Report(commands::matrix::ReportOpts),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Analyze(o) => o.run(),
        Command::Sbom(o) => o.run(),
        Command::Check(o) => o.run(),
        Command::Init(o) => o.run(),
        Command::Serve(o) => o.run(),
        Command::Certify(o) => o.run(),
        Command::Suites(o) => o.run(),
        Command::Keygen(o) => o.run(),
        Command::Sign(o) => o.run(),
        Command::Verify(o) => o.run(),
        Command::Matrix(o) => o.run(),
        Command::Report(o) => match &o.command {
            commands::matrix::ReportCommand::Merge(m) => m.run(),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // The message and its cause chain, never a backtrace (even with RUST_BACKTRACE set:
            // this is a user-facing error, not a bug report).
            eprintln!("error: {e}");
            let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
            if !causes.is_empty() {
                eprintln!("\nCaused by:");
                for (i, c) in causes.iter().enumerate() {
                    eprintln!("    {i}: {c}");
                }
            }
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
