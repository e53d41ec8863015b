//! Signing documents from the command line: the private key's password (environment or a
//! prompt), the bundle written beside a document. Which document is signed under which subject
//! is `wasmcert_report::signed`'s to say.

use anyhow::{Context, Result, bail};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use wasmcert_report::{sign, signed};

/// The password of a private key: `WASMCERT_PASSWORD`, else a prompt on the terminal (not
/// echoed). Never written anywhere.
pub fn password(confirm: bool) -> Result<String> {
    if let Ok(p) = std::env::var("WASMCERT_PASSWORD") {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password: set WASMCERT_PASSWORD or run on a terminal to be prompted");
    }
    let p = rpassword::prompt_password("Password for the private key: ")
        .context("reading the password")?;
    if confirm && rpassword::prompt_password("Again: ").context("reading the password")? != p {
        bail!("the passwords differ");
    }
    Ok(p)
}

/// Sign a JSON document with an encrypted private key and write `NAME.sigstore.json`.
pub fn sign_document(key: &Path, document: &serde_json::Value, out: &Path) -> Result<()> {
    let pem = std::fs::read(key).with_context(|| format!("reading key {}", key.display()))?;
    let (kind, subject) = signed::subject_of(document)?;
    let pw = password(false)?;
    let bundle = sign::sign(
        &pem,
        pw.as_bytes(),
        &subject,
        kind.predicate_type(),
        document,
    )?;
    std::fs::write(out, bundle).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

/// The bundle path for a document path: `report.json` → `report.sigstore.json`.
pub fn bundle_path(doc: &Path) -> PathBuf {
    let stem = doc
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "wasmcert".into());
    doc.with_file_name(format!("{stem}.sigstore.json"))
}
