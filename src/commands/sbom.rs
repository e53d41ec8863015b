//! `wasmcert sbom`: a software bill of materials for one module or component.

use crate::input::analyze_all;
use crate::output::emit;
use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
}

/// Write an SBOM describing a module: its digest, metadata sections, toolchain (producers) and
/// the Rust crates recorded by cargo-auditable in `.dep-v0`.
#[derive(Args)]
#[command(after_help = "Examples:
  wasmcert sbom app.wasm                      # CycloneDX 1.6 JSON on stdout
  wasmcert sbom --format spdx -o app.spdx.json app.wasm
  SOURCE_DATE_EPOCH=0 wasmcert sbom --format spdx app.wasm   # reproducible `created`

Identifiers derive from the module digest, so the same module gives the same document; SPDX's
required `created` time is taken from SOURCE_DATE_EPOCH when set.

Exit status:
  0  SBOM written
  2  the input could not be read or is not valid WebAssembly")]
pub struct Opts {
    /// A .wasm file, `-` for stdin, or an OCI artifact (`oci://REGISTRY/REPO:TAG`,
    /// `oci-layout:DIR[:TAG]`).
    #[arg(value_name = "PATH")]
    pub path: String,
    /// SBOM format.
    #[arg(long, short, value_enum, default_value = "cyclonedx")]
    pub format: Format,
    /// Write the SBOM to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Skip function-body validation.
    #[arg(long)]
    pub no_validate: bool,
}

impl Opts {
    pub fn run(&self) -> Result<ExitCode> {
        if std::path::Path::new(&self.path).is_dir() {
            bail!(
                "{}: is a directory; `wasmcert sbom` describes one module",
                self.path
            );
        }
        let (analyses, errors, _) =
            analyze_all(std::slice::from_ref(&self.path), !self.no_validate);
        if let Some((path, e)) = errors.first() {
            eprintln!("error: {path}: {e}");
            return Ok(ExitCode::from(2));
        }
        let Some(a) = analyses.first() else {
            bail!("{}: nothing to describe", self.path);
        };
        let doc = match self.format {
            Format::Cyclonedx => wasmcert_report::sbom::cyclonedx(a),
            Format::Spdx => wasmcert_report::sbom::spdx(a, &wasmcert_report::sbom::creation_time()),
        };
        emit(
            self.output.as_deref(),
            &(serde_json::to_string_pretty(&doc)? + "\n"),
        )?;
        Ok(ExitCode::SUCCESS)
    }
}
