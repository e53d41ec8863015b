//! `wasmcert analyze`: facts, capabilities and findings for modules and components.

use crate::input::analyze_all;
use crate::output::emit;
use anyhow::Result;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use wasmcert_report::sarif::InputError;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Readable summary per subject.
    Human,
    /// The versioned Analysis document (docs/analysis-schema.md): an object for one file, an
    /// array for several files or a directory.
    Json,
    /// SARIF 2.1.0, one result per finding, for code-scanning dashboards.
    Sarif,
}

/// Inspect WebAssembly modules and components before anything runs them.
///
/// Reports identity (sha256, size, kind), imports and exports with types, the WASI
/// capabilities they grant, memories and tables with their limits, the features the code uses,
/// custom sections (producers, metadata, cargo-auditable `.dep-v0`, DWARF, dylink, linking),
/// embedded signatures and claims, and findings with stable codes (docs/findings/).
#[derive(Args)]
#[command(after_help = "Examples:
  wasmcert analyze app.wasm
  wasmcert analyze --format json app.wasm | jq '.capabilities[].id'
  wasmcert analyze --format sarif --output wasmcert.sarif build/
  cat app.wasm | wasmcert analyze -
  wasmcert analyze oci://ghcr.io/acme/app:1.2        # a Wasm OCI artifact, digests verified
  wasmcert analyze oci-layout:build/oci:latest
  wasmcert analyze --no-validate huge.wasm     # headers only, skips function bodies

Exit status:
  0  every input was analysed (findings do not change the status)
  2  an input could not be read or is not valid WebAssembly; the others are still reported")]
pub struct Opts {
    /// Files, directories (searched recursively for *.wasm), `-` for stdin, or OCI artifacts:
    /// `oci://REGISTRY/REPO:TAG`, `oci://REGISTRY/REPO@sha256:...`, `oci-layout:DIR[:TAG]`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the output to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Skip validation: read the headers only and jump over function bodies, much faster.
    /// Type indices are not checked and features come only from declarations (types,
    /// memories, sections), not from the instructions.
    #[arg(long)]
    pub no_validate: bool,
    /// Print nothing on success; errors still go to stderr and set the exit status.
    #[arg(long, short)]
    pub quiet: bool,
    /// Sign the analysis of one module with this encrypted private key, so an admission
    /// controller can trust an analysis made in CI; writes `<module>.sigstore.json` (beside
    /// --output when given). Password from WASMCERT_PASSWORD or a prompt.
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<PathBuf>,
}

impl Opts {
    pub fn run(&self) -> Result<ExitCode> {
        let (analyses, errors, single) = analyze_all(&self.paths, !self.no_validate);
        for (path, e) in &errors {
            eprintln!("error: {path}: {e}");
        }
        let text = match self.format {
            Format::Human => analyses
                .iter()
                .map(wasmcert_report::human::render)
                .collect::<Vec<_>>()
                .join("\n"),
            Format::Json => {
                if single {
                    // One file: the Analysis object, or nothing when it failed.
                    match analyses.first() {
                        Some(a) => serde_json::to_string_pretty(a)? + "\n",
                        None => String::new(),
                    }
                } else {
                    serde_json::to_string_pretty(&analyses)? + "\n"
                }
            }
            Format::Sarif => {
                let errs: Vec<InputError<'_>> = errors
                    .iter()
                    .map(|(p, m)| InputError {
                        path: p,
                        message: m,
                    })
                    .collect();
                serde_json::to_string_pretty(&wasmcert_report::sarif::render(&analyses, &errs))?
                    + "\n"
            }
        };
        if !self.quiet || self.output.is_some() {
            emit(self.output.as_deref(), &text)?;
        }
        if let Some(key) = &self.sign_key {
            let [a] = analyses.as_slice() else {
                anyhow::bail!(
                    "--sign-key signs the analysis of exactly one module ({} analysed)",
                    analyses.len()
                );
            };
            let out = match &self.output {
                Some(o) => crate::signing::bundle_path(o),
                None => {
                    let p = std::path::Path::new(&a.subject.path);
                    let stem = p
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "stdin".into());
                    PathBuf::from(format!("{stem}.sigstore.json"))
                }
            };
            crate::signing::sign_document(key, &serde_json::to_value(a)?, &out)?;
            eprintln!("signed analysis: {}", out.display());
        }
        Ok(if errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        })
    }
}
