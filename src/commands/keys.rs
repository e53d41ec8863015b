//! `wasmcert keygen`, `wasmcert sign` and `wasmcert verify`: offline signing of reports and
//! analyses (in-toto Statement v1 in a DSSE envelope in a Sigstore bundle v0.3; docs/signing.md).

use crate::output::emit;
use crate::signing::{bundle_path, password, sign_document};
use anyhow::{Context, Result, bail};
use clap::Args;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wasmcert_report::sign::{self, Error};

/// Generate an ECDSA P-256 key pair: NAME.key (cosign-compatible encrypted private key, mode
/// 0600) and NAME.pub (PEM public key).
#[derive(Args)]
#[command(after_help = "Examples:
  wasmcert keygen --output-key-prefix ci            # writes ci.key and ci.pub
  WASMCERT_PASSWORD=... wasmcert keygen --output-key-prefix release

Exit status:
  0  keys written
  2  usage error, existing files, or no password")]
pub struct KeygenOpts {
    /// Path prefix of the two files written (`PREFIX.key`, `PREFIX.pub`).
    #[arg(long, value_name = "PREFIX", default_value = "wasmcert")]
    pub output_key_prefix: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

impl KeygenOpts {
    pub fn run(&self) -> Result<ExitCode> {
        let key = with_ext(&self.output_key_prefix, "key");
        let public = with_ext(&self.output_key_prefix, "pub");
        for p in [&key, &public] {
            if let Ok(m) = std::fs::symlink_metadata(p) {
                if m.file_type().is_symlink() {
                    bail!(
                        "{} is a symlink: refusing to write a key through it",
                        p.display()
                    );
                }
                if !self.force {
                    bail!("{} exists (use --force to overwrite)", p.display());
                }
            }
        }
        let pw = password(true)?;
        let (private_pem, public_pem) = sign::keygen(pw.as_bytes())?;
        write_private(&key, &private_pem)?;
        write_new(&public, &public_pem, 0o644)?;
        eprintln!(
            "wrote {} (private, encrypted, mode 0600) and {}",
            key.display(),
            public.display()
        );
        Ok(ExitCode::SUCCESS)
    }
}

fn with_ext(prefix: &Path, ext: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(format!(".{ext}"));
    PathBuf::from(s)
}

/// Write `contents` to `path` through a new file made beside it (mode `mode` from the start)
/// and renamed into place: an existing file's permissions are never reused, and a symlink at
/// `path` is refused rather than followed.
fn write_new(path: &Path, contents: &str, mode: u32) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        bail!(
            "{} is a symlink: refusing to write a key through it",
            path.display()
        );
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    let written = f.write_all(contents.as_bytes()).and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}

fn write_private(path: &Path, pem: &str) -> Result<()> {
    write_new(path, pem, 0o600)
}

/// Sign a conformance report (`certify --format json`) or an analysis (`analyze --format json`).
#[derive(Args)]
#[command(after_help = "Examples:
  wasmcert certify --format json -o report.json && wasmcert sign --key ci.key report.json
  wasmcert sign --key ci.key --output custom.sigstore.json analysis.json

Writes NAME.sigstore.json: a Sigstore bundle v0.3 with a DSSE envelope whose payload is an
in-toto Statement v1 (subject: the runtime binary for a report, the module for an analysis).

Exit status:
  0  bundle written
  2  unreadable input, wrong password, or not a wasmcert document")]
pub struct SignOpts {
    /// Encrypted private key from `wasmcert keygen` (or cosign).
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// The report or analysis JSON.
    #[arg(value_name = "FILE")]
    pub document: PathBuf,
    /// Bundle path; default: FILE with `.sigstore.json`.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl SignOpts {
    pub fn run(&self) -> Result<ExitCode> {
        let text = std::fs::read(&self.document)
            .with_context(|| format!("reading {}", self.document.display()))?;
        let doc: serde_json::Value = serde_json::from_slice(&text)
            .with_context(|| format!("{}: not JSON", self.document.display()))?;
        let out = self
            .output
            .clone()
            .unwrap_or_else(|| bundle_path(&self.document));
        sign_document(&self.key, &doc, &out)?;
        eprintln!("wrote {}", out.display());
        Ok(ExitCode::SUCCESS)
    }
}

/// Verify a bundle offline with a public key.
#[derive(Args)]
#[command(after_help = "Examples:
  wasmcert verify --key ci.pub report.sigstore.json
  wasmcert verify --key ci.pub --artifact app.wasm analysis.sigstore.json

Checks the ECDSA signature over the DSSE PAE, the key hint, the statement type, the predicate
type and schema version, and with --artifact that the file's sha256 is a subject.

Exit status:
  0  valid
  1  invalid (the reason is printed)
  2  usage or input error (unreadable files, not a public key, not JSON)")]
pub struct VerifyOpts {
    /// PEM public key.
    #[arg(long, value_name = "PUB")]
    pub key: PathBuf,
    /// The bundle (`*.sigstore.json`).
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// A file whose sha256 must be a subject (the module for an analysis, the runtime binary
    /// for a report).
    #[arg(long, value_name = "FILE")]
    pub artifact: Option<PathBuf>,
}

impl VerifyOpts {
    pub fn run(&self) -> Result<ExitCode> {
        let public = std::fs::read(&self.key)
            .with_context(|| format!("reading key {}", self.key.display()))?;
        let bundle = std::fs::read(&self.bundle)
            .with_context(|| format!("reading {}", self.bundle.display()))?;
        let digest = match &self.artifact {
            Some(a) => Some(hex::encode(Sha256::digest(
                std::fs::read(a).with_context(|| format!("reading {}", a.display()))?,
            ))),
            None => None,
        };
        match sign::verify(&bundle, &public, digest.as_deref()) {
            Ok(v) => {
                let mut out = format!(
                    "{}: valid\n  key       {}\n  predicate {}\n",
                    self.bundle.display(),
                    v.key_hint,
                    v.predicate_type
                );
                for s in &v.subjects {
                    out.push_str(&format!("  subject   {} sha256:{}\n", s.name, s.sha256));
                }
                if let Some(d) = digest {
                    out.push_str(&format!("  artifact  sha256:{d} is a subject\n"));
                }
                emit(None, &out)?;
                Ok(ExitCode::SUCCESS)
            }
            Err(Error::Invalid(why)) => {
                eprintln!("{}: INVALID: {why}", self.bundle.display());
                Ok(ExitCode::from(1))
            }
            Err(Error::Input(why)) => bail!("{}: {why}", self.bundle.display()),
            Err(e @ Error::Version { .. }) => bail!("{}: {e}", self.bundle.display()),
        }
    }
}
