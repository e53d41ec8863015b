//! `wasmcert matrix` (signed reports → compatibility matrix) and `wasmcert report merge`
//! (shard reports → the report of the whole suite).

use crate::output::emit;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wasmcert_report::matrix::{self, BundleInput, KeyInput};
use wasmcert_report::merge;
use wasmcert_report::sign;

/// Signed bundles larger than this are refused (a signed report of every built-in case is
/// about 1 MB).
const MAX_BUNDLE: u64 = 64 << 20;

fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() > MAX_BUNDLE {
        bail!(
            "{}: {} bytes, larger than the {MAX_BUNDLE}-byte bound",
            path.display(),
            meta.len()
        );
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn today() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..10].to_string()
}

/// Build the compatibility matrix from signed conformance reports.
///
/// Every bundle is verified with the given keys; a bundle no key verifies is refused (named in
/// the output, never shown as a result). Writes DIR/matrix.html (one self-contained page,
/// sortable and filterable), DIR/matrix.md and DIR/matrix.json.
#[derive(Args)]
#[command(after_help = "Examples:
  wasmcert matrix --key project.pub reports/*.sigstore.json --out docs/matrix
  wasmcert matrix --key project.pub --key vendor.pub --max-age-days 30 *.sigstore.json --out site

Exit status:
  0  every bundle verified and the matrix is written
  1  the matrix is written, but some bundles were refused (listed on stderr and in the matrix)
  2  usage error: no bundles, unreadable files, not a public key, bad --as-of")]
pub struct MatrixOpts {
    /// Public key (PEM) trusted to sign reports; repeatable.
    #[arg(long = "key", value_name = "PUB", required = true)]
    pub keys: Vec<PathBuf>,
    /// Signed conformance reports (`wasmcert certify --sign-key`).
    #[arg(value_name = "BUNDLE", required = true)]
    pub bundles: Vec<PathBuf>,
    /// Directory to write matrix.html, matrix.md and matrix.json into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Mark reports older than this many days as stale.
    #[arg(long, default_value_t = 90)]
    pub max_age_days: u64,
    /// The date staleness is judged on, YYYY-MM-DD; default today (UTC). Recorded in the
    /// matrix, so re-rendering with the same date reproduces it.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    /// The suite digest reports should carry (others are stale); default: the built-in suite's.
    #[arg(long, value_name = "SHA256", conflicts_with = "suite")]
    pub suite_digest: Option<String>,
    /// Take the current suite digest from this suite directory instead.
    #[arg(long, value_name = "DIR")]
    pub suite: Option<PathBuf>,
}

impl MatrixOpts {
    pub fn run(&self) -> Result<ExitCode> {
        let as_of = self.as_of.clone().unwrap_or_else(today);
        if humantime::parse_rfc3339_weak(&format!("{as_of}T00:00:00Z")).is_err()
            || as_of.len() != 10
        {
            bail!("--as-of {as_of:?}: expected YYYY-MM-DD");
        }
        let mut keys = Vec::new();
        for k in &self.keys {
            let pem = read_bounded(k)?;
            sign::public_key_hint(&pem).with_context(|| format!("{}", k.display()))?;
            keys.push(KeyInput {
                name: k
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                pem,
            });
        }
        let mut bundles = Vec::new();
        for b in &self.bundles {
            bundles.push(BundleInput {
                name: b
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| b.display().to_string()),
                bytes: read_bounded(b)?,
            });
        }
        let current = match (&self.suite_digest, &self.suite) {
            (Some(d), _) => Some(d.to_ascii_lowercase()),
            (None, dir) => {
                let (_, cases) = wasmcert_certify::case::load_cases(dir.as_deref(), None, None)?;
                Some(wasmcert_certify::suite_digest(&cases))
            }
        };
        let m = matrix::build(
            &bundles,
            &keys,
            &matrix::Options {
                as_of,
                max_age_days: self.max_age_days,
                current_suite_digest: current,
            },
        );
        std::fs::create_dir_all(&self.out)
            .with_context(|| format!("creating {}", self.out.display()))?;
        let write = |name: &str, text: String| -> Result<()> {
            let p = self.out.join(name);
            std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))
        };
        write("matrix.json", serde_json::to_string_pretty(&m)? + "\n")?;
        write("matrix.md", matrix::markdown(&m))?;
        write("matrix.html", matrix::html(&m))?;
        for r in &m.refused {
            eprintln!("refused: {}: {}", r.bundle, r.reason);
        }
        eprintln!(
            "matrix: {} runtimes, {} cases, {} refused -> {}",
            m.runtimes.len(),
            m.cases.len(),
            m.refused.len(),
            self.out.display()
        );
        let unverified = m
            .refused
            .iter()
            .any(|r| !r.reason.starts_with("superseded"));
        Ok(if unverified {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }
}

/// Work with conformance reports.
#[derive(Args)]
pub struct ReportOpts {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Subcommand)]
pub enum ReportCommand {
    Merge(MergeOpts),
}

/// Merge the reports of `certify --shard K/N` runs into the report of the whole suite.
///
/// The shards must come from the same runtime build, suite, host and wasmcert, and cover
/// every K in 1..N exactly once; the merged report is the one an unsharded run produces (its
/// `started_at` is the earliest shard's), whatever the order of the inputs. Inputs are report
/// JSON or signed bundles; bundles are verified with --key.
#[derive(Args)]
#[command(after_help = "Examples:
  wasmcert certify --shard 1/3 -f json -o s1.json   # ... 2/3, 3/3 on other machines
  wasmcert report merge s1.json s2.json s3.json -o report.json
  wasmcert report merge --key ci.pub s*.sigstore.json -o report.json --sign-key ci.key

Exit status:
  0  merged
  1  a signed input does not verify
  2  the shards do not fit together (missing, duplicated, different runtime or suite), or
     unreadable input")]
pub struct MergeOpts {
    /// Shard reports (JSON) or signed shard bundles.
    #[arg(value_name = "REPORT", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Public key to verify signed inputs with; repeatable.
    #[arg(long = "key", value_name = "PUB")]
    pub keys: Vec<PathBuf>,
    /// Write the merged report here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Sign the merged report (writes FILE.sigstore.json beside --output).
    #[arg(long, value_name = "KEY", requires = "output")]
    pub sign_key: Option<PathBuf>,
    /// With --key or --sign-key, also accept unsigned shard reports (by default they are
    /// refused: a signed merge must not launder unverified content).
    #[arg(long)]
    pub allow_unsigned: bool,
}

impl MergeOpts {
    pub fn run(&self) -> Result<ExitCode> {
        let mut keys = Vec::new();
        for k in &self.keys {
            keys.push(read_bounded(k)?);
        }
        let mut shards = Vec::new();
        for p in &self.inputs {
            shards.push(merge::Shard {
                name: p.display().to_string(),
                bytes: read_bounded(p)?,
            });
        }
        let pems: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let require_signed = (!keys.is_empty() || self.sign_key.is_some()) && !self.allow_unsigned;
        let merged = match merge::merge(&shards, &pems, require_signed) {
            Ok(m) => m,
            Err(merge::MergeError::NotVerified { name, source }) => {
                eprintln!("{name}: INVALID: {source}");
                return Ok(ExitCode::from(1));
            }
            Err(e) => return Err(e.into()),
        };
        let text = serde_json::to_string_pretty(&merged)? + "\n";
        emit(self.output.as_deref(), &text)?;
        if let (Some(key), Some(out)) = (&self.sign_key, &self.output) {
            let b = crate::signing::bundle_path(out);
            crate::signing::sign_document(key, &serde_json::to_value(&merged)?, &b)?;
            eprintln!("signed report: {}", b.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}
