//! `wasmcert check`: decide allow or deny on modules and components with policies (a CI gate).

use crate::input::analyze_all;
use crate::output::emit;
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wasmcert_policy::Bundle;
use wasmcert_policy::output::CheckReport;

/// Signed bundles larger than this are refused: a signed report of every built-in case is
/// about 1 MB, and the bound keeps a wrong path (a disk image) from being read whole.
const MAX_BUNDLE: u64 = 64 << 20;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// One line per subject with its findings and the policy line each comes from.
    Human,
    /// The check report (docs/policy/check.md): every subject, decision and finding.
    Json,
    /// SARIF 2.1.0: one result per finding, the subject as location, the policy line as related
    /// location, excepted findings as suppressions.
    Sarif,
}

/// Check WebAssembly modules and components against policies: allow or deny.
///
/// Each PATH is analysed (as `wasmcert analyze` does) and every policy decides on it: native
/// TOML policies (docs/policy/format.md) or Rego (docs/policy/rego.md). A subject is allowed
/// when no policy has a `deny` finding for it that no exception covers. Policies are parsed and
/// compiled once, then applied to every subject.
#[derive(Args)]
#[command(
    after_help = "Policies: a file (`.rego` is Rego, anything else native TOML) or `pack:NAME` for a
shipped pack: baseline, baseline-rego, strict, no-network, no-filesystem, edge-function.

Signed evidence: `signature-required` accepts a signed analysis (`wasmcert analyze --sign-key`)
given with --attestation or found beside the module as NAME.sigstore.json or
NAME.wasm.sigstore.json; `runtime-certification-required` reads signed conformance reports
(`wasmcert certify --sign-key`) given with --runtime-report or listed in the policy.

Examples:
  wasmcert check --policy pack:baseline app.wasm
  wasmcert check --policy wasmcert.toml --policy extra.rego build/
  wasmcert check --policy wasmcert.toml --format sarif -o wasmcert.sarif build/
  wasmcert check --policy prod.toml --runtime-report wasmtime.sigstore.json app.wasm
  wasmcert check --policy pack:strict oci://ghcr.io/acme/app@sha256:3f1c...

Exit status:
  0  every subject is allowed (warnings do not fail)
  1  a subject is denied
  2  a bad policy (the message names file, line and column) or an input that cannot be read
     or analysed; the other subjects are still checked and reported"
)]
pub struct Opts {
    /// Policy file or `pack:NAME`; repeat to apply several (every one must allow).
    #[arg(long = "policy", short = 'p', value_name = "FILE", required = true)]
    pub policies: Vec<String>,
    /// Files, directories (searched recursively for *.wasm), `-` for stdin, or OCI artifacts:
    /// `oci://REGISTRY/REPO:TAG`, `oci://REGISTRY/REPO@sha256:...`, `oci-layout:DIR[:TAG]`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[arg(long, short, value_enum, default_value = "human")]
    pub format: Format,
    /// Write the output to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A signed analysis bundle that may vouch for a subject (`signature-required`); repeatable.
    #[arg(long, value_name = "BUNDLE")]
    pub attestation: Vec<PathBuf>,
    /// A signed conformance report of the target runtime (`runtime-certification-required`);
    /// repeatable.
    #[arg(long, value_name = "BUNDLE")]
    pub runtime_report: Vec<PathBuf>,
    /// Analyse without validating function bodies (faster; features only from declarations).
    #[arg(long)]
    pub no_validate: bool,
    /// Print nothing; the exit status tells the decision.
    #[arg(long, short)]
    pub quiet: bool,
}

fn read_bundle(path: &Path) -> Result<Bundle> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() > MAX_BUNDLE {
        bail!(
            "{}: {} bytes, larger than the {MAX_BUNDLE}-byte bound for a signed bundle",
            path.display(),
            meta.len()
        );
    }
    Ok(Bundle {
        name: path.display().to_string(),
        bytes: std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
    })
}

/// Signed analyses found beside a module: `app.sigstore.json` and `app.wasm.sigstore.json`.
fn beside(path: &str) -> Vec<Bundle> {
    let p = Path::new(path);
    let mut out = Vec::new();
    if path == "-" {
        return out;
    }
    let mut candidates = vec![PathBuf::from(format!("{path}.sigstore.json"))];
    if let Some(stem) = p.file_stem() {
        candidates.push(p.with_file_name(format!("{}.sigstore.json", stem.to_string_lossy())));
    }
    for c in candidates {
        if c.is_file()
            && let Ok(b) = read_bundle(&c)
        {
            out.push(b);
        }
    }
    out
}

impl Opts {
    pub fn run(&self) -> Result<ExitCode> {
        let mut policies = Vec::new();
        for spec in &self.policies {
            policies.push(wasmcert_policy::load_spec(spec)?);
        }
        let reports = self
            .runtime_report
            .iter()
            .map(|p| read_bundle(p))
            .collect::<Result<Vec<_>>>()?;
        for p in &mut policies {
            p.prepare(&reports);
        }
        let given = self
            .attestation
            .iter()
            .map(|p| read_bundle(p))
            .collect::<Result<Vec<_>>>()?;

        let (analyses, errors, _) = analyze_all(&self.paths, !self.no_validate);
        let attestations: Vec<Vec<Bundle>> = analyses
            .iter()
            .map(|a| {
                let mut bundles = given.clone();
                bundles.extend(beside(&a.subject.path));
                bundles
            })
            .collect();
        let decisions = wasmcert_policy::decide_all(
            &policies,
            analyses.iter().zip(attestations.iter().map(Vec::as_slice)),
        );
        let mut report = CheckReport::new(&policies);
        let mut eval_errors = false;
        for (a, decided) in analyses.iter().zip(decisions.subjects) {
            match decided {
                Ok(v) => report.push(a, v.allowed, v.findings),
                Err(e) => {
                    eval_errors = true;
                    eprintln!("error: {}: {e}", a.subject.path);
                    report.error(&a.subject.path, &e.to_string());
                }
            }
        }
        report.policy_findings.extend(decisions.policy_findings);
        for (path, e) in &errors {
            eprintln!("error: {path}: {e}");
            report.error(path, e);
        }
        let text = match self.format {
            Format::Human => report.human(),
            Format::Json => serde_json::to_string_pretty(&report)? + "\n",
            Format::Sarif => serde_json::to_string_pretty(&report.sarif())? + "\n",
        };
        if !self.quiet || self.output.is_some() {
            emit(self.output.as_deref(), &text)?;
        }
        Ok(if !errors.is_empty() || eval_errors {
            ExitCode::from(2)
        } else if report.subjects.iter().any(|s| !s.allowed) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }
}

/// Write a policy to start from: the commented template with every rule and field, or a pack.
#[derive(Args)]
#[command(after_help = "Examples:
  wasmcert init                                # wasmcert.toml: the template, every field commented
  wasmcert init --pack strict -o policy.toml
  wasmcert check --policy wasmcert.toml app.wasm

Exit status:
  0  written
  2  the file exists (use --force) or cannot be written")]
pub struct InitOpts {
    /// Start from a shipped pack instead of the template: baseline, baseline-rego, strict,
    /// no-network, no-filesystem, edge-function.
    #[arg(long, value_name = "NAME")]
    pub pack: Option<String>,
    /// Where to write; default `wasmcert.toml` (`wasmcert.rego` for a Rego pack).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

impl InitOpts {
    pub fn run(&self) -> Result<ExitCode> {
        let (text, default) = match &self.pack {
            None => (wasmcert_policy::TEMPLATE, "wasmcert.toml"),
            Some(name) => match wasmcert_policy::PACKS.iter().find(|(n, _, _)| n == name) {
                Some((_, file, text)) => (
                    *text,
                    if file.ends_with(".rego") {
                        "wasmcert.rego"
                    } else {
                        "wasmcert.toml"
                    },
                ),
                None => bail!(
                    "no pack `{name}`; shipped packs: {}",
                    wasmcert_policy::PACKS
                        .iter()
                        .map(|p| p.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        };
        let out = self
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from(default));
        if out.exists() && !self.force {
            bail!("{} exists (use --force to overwrite)", out.display());
        }
        std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
        eprintln!(
            "wrote {}; check modules with: wasmcert check --policy {} PATH...",
            out.display(),
            out.display()
        );
        Ok(ExitCode::SUCCESS)
    }
}
