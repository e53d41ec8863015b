//! OCI image-layout directories (`oci-layout`, `index.json`, `blobs/sha256/<hex>`): reading an
//! artifact from one, and writing one (tests, and pushing with `skopeo copy oci:DIR:TAG ...`).

use crate::{
    Artifact, Descriptor, Error, ErrorKind, MAX_CONFIG, MAX_MANIFEST, Source, err, is_index, json,
    parse_manifest, pick_from_index, sha256, verify_blob,
};
use serde_json::{Value, json};
use std::io::Read;
use std::path::Path;

const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Read at most `max` bytes of a regular file; anything else is an error naming the file. A
/// layout can come from anywhere (an unpacked tarball, a shared directory), so:
///
/// - the file is opened with `O_NOFOLLOW` (a symlink, say to `/etc/shadow` or `/dev/zero`,
///   is refused, not followed) and `O_NONBLOCK` (opening a FIFO does not wait for a writer),
///   then checked with `fstat` on the opened descriptor, so there is no window between the
///   check and the read: only a regular file is read (a FIFO, a socket or a device would
///   block forever or never end);
/// - more than `max` bytes is an error (a hostile layout must not make us read a disk image).
fn read_bounded(path: &Path, max: u64, what: &str) -> Result<Vec<u8>, Error> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let name = path.display();
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                err(ErrorKind::Invalid, format!(
                    "the {what} {name} is a symbolic link: refusing it (the files of a layout must be regular files)"
                ))
            } else {
                err(ErrorKind::Io, format!("cannot read the {what} {name}: {e}"))
            }
        })?;
    let meta = f
        .metadata()
        .map_err(|e| err(ErrorKind::Io, format!("cannot read the {what} {name}: {e}")))?;
    let ft = meta.file_type();
    if !ft.is_file() {
        let kind = if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_dir() {
            "a directory"
        } else if ft.is_socket() {
            "a socket"
        } else if ft.is_char_device() || ft.is_block_device() {
            "a device"
        } else {
            "not a regular file"
        };
        return Err(err(
            ErrorKind::Invalid,
            format!(
                "the {what} {name} is {kind}: refusing it (the files of a layout must be regular files)"
            ),
        ));
    }
    if meta.len() > max {
        return Err(err(
            ErrorKind::TooLarge,
            format!(
                "the {what} {name} is {} bytes, larger than {max}",
                meta.len()
            ),
        ));
    }
    let mut v = Vec::with_capacity(meta.len() as usize);
    f.take(max + 1)
        .read_to_end(&mut v)
        .map_err(|e| err(ErrorKind::Io, format!("cannot read the {what} {name}: {e}")))?;
    if v.len() as u64 > max {
        return Err(err(
            ErrorKind::TooLarge,
            format!("the {what} {name} is larger than {max} bytes"),
        ));
    }
    Ok(v)
}

fn blob(dir: &Path, d: &Descriptor, max: u64, what: &str) -> Result<Vec<u8>, Error> {
    if d.size > max {
        return Err(err(
            ErrorKind::TooLarge,
            format!(
                "the {what} {} is {} bytes, more than the {max}-byte cap",
                d.digest, d.size
            ),
        ));
    }
    // The digest was checked to be sha256:<64 hex>, so this path stays inside `blobs/`.
    let hex = &d.digest["sha256:".len()..];
    let bytes = read_bounded(&dir.join("blobs/sha256").join(hex), max, what)?;
    verify_blob(&bytes, d, what)?;
    Ok(bytes)
}

/// Fetch and verify the artifact a layout source names.
pub fn fetch(source: &Source, max_layer: u64) -> Result<Artifact, Error> {
    let Source::Layout { dir, tag, digest } = source else {
        return Err(err(ErrorKind::Invalid, "not a layout source"));
    };
    let marker = read_bounded(&dir.join("oci-layout"), 4096, "layout marker")?;
    if json(&marker, "oci-layout file")?["imageLayoutVersion"]
        .as_str()
        .is_none()
    {
        return Err(err(
            ErrorKind::Invalid,
            format!(
                "{}/oci-layout has no imageLayoutVersion: not an OCI image layout",
                dir.display()
            ),
        ));
    }
    let index = json(
        &read_bounded(&dir.join("index.json"), MAX_MANIFEST, "index")?,
        "index.json",
    )?;
    let entries = index["manifests"]
        .as_array()
        .ok_or_else(|| err(ErrorKind::Invalid, "index.json has no manifests"))?;
    let chosen: Vec<&Value> = entries
        .iter()
        .filter(|m| match (tag, digest) {
            (Some(t), _) => m["annotations"][REF_NAME].as_str() == Some(t),
            (None, Some(d)) => m["digest"].as_str() == Some(d),
            (None, None) => true,
        })
        .collect();
    let entry = match chosen.as_slice() {
        [one] => *one,
        [] => {
            let tags: Vec<&str> = entries
                .iter()
                .filter_map(|m| m["annotations"][REF_NAME].as_str())
                .collect();
            return Err(err(
                ErrorKind::NotFound,
                format!(
                    "no manifest {} in the layout (tags: {})",
                    tag.as_ref()
                        .map(|t| format!("tagged {t}"))
                        .or(digest.clone())
                        .unwrap_or_default(),
                    if tags.is_empty() {
                        "none".into()
                    } else {
                        tags.join(", ")
                    }
                ),
            ));
        }
        many => {
            return Err(err(
                ErrorKind::Invalid,
                format!(
                    "the layout holds {} manifests: name one with :TAG or @sha256:...",
                    many.len()
                ),
            ));
        }
    };
    let mut d = crate::descriptor(entry, "manifest")?;
    let mut bytes = blob(dir, &d, MAX_MANIFEST, "manifest")?;
    let mut manifest = json(&bytes, "manifest")?;
    if is_index(&manifest, &d.media_type) {
        d = pick_from_index(&manifest)?;
        bytes = blob(dir, &d, MAX_MANIFEST, "manifest")?;
        manifest = json(&bytes, "manifest")?;
    }
    let parsed = parse_manifest(&manifest, &d.media_type)?;
    let config_bytes = blob(dir, &parsed.config, MAX_CONFIG, "config")?;
    let config = json(&config_bytes, "config")?;
    let wasm = blob(dir, &parsed.layer, max_layer, "layer")?;
    Ok(Artifact::new(
        source.display(),
        sha256(&bytes),
        parsed,
        config,
        wasm,
    ))
}

/// What to put in a layout: the config and layers with their media types, and the tag.
pub struct Write<'a> {
    pub tag: &'a str,
    pub config_media_type: &'a str,
    pub config: &'a [u8],
    pub layers: &'a [(&'a str, &'a [u8])],
}

/// Write (or add to) an OCI image layout. Returns the manifest digest.
pub fn write(dir: &Path, w: &Write<'_>) -> std::io::Result<String> {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs)?;
    let put = |bytes: &[u8]| -> std::io::Result<String> {
        let d = sha256(bytes);
        std::fs::write(blobs.join(&d["sha256:".len()..]), bytes)?;
        Ok(d)
    };
    let config_digest = put(w.config)?;
    let mut layers = Vec::new();
    for (mt, bytes) in w.layers {
        layers.push(json!({ "mediaType": mt, "digest": put(bytes)?, "size": bytes.len() }));
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": w.config_media_type, "digest": config_digest, "size": w.config.len() },
        "layers": layers,
    });
    let mbytes = serde_json::to_vec(&manifest)?;
    let mdigest = put(&mbytes)?;
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let index_path = dir.join("index.json");
    let mut index: Value = std::fs::read(&index_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({ "schemaVersion": 2, "manifests": [] }));
    let list = index["manifests"].as_array_mut().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: `manifests` is not an array", index_path.display()),
        )
    })?;
    list.retain(|m| m["annotations"][REF_NAME].as_str() != Some(w.tag));
    list.push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": mdigest,
        "size": mbytes.len(),
        "annotations": { REF_NAME: w.tag },
    }));
    std::fs::write(&index_path, serde_json::to_vec_pretty(&index)?)?;
    Ok(mdigest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_to(dir: &Path, tag: &str) -> std::io::Result<String> {
        write(
            dir,
            &Write {
                tag,
                config_media_type: "application/vnd.wasm.config.v0+json",
                config: b"{}",
                layers: &[("application/wasm", b"\0asm\x01\0\0\0")],
            },
        )
    }

    /// A FIFO, a symlink out of the layout and a directory where a blob should be: each is
    /// refused at once with the file's name (reading a FIFO with no writer used to hang).
    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = write_to(dir.path(), "v1").unwrap();
        let manifest = dir.path().join("blobs/sha256").join(&d["sha256:".len()..]);
        let source = Source::Layout {
            dir: dir.path().into(),
            tag: Some("v1".into()),
            digest: None,
        };
        assert!(fetch(&source, 1 << 20).is_ok());

        std::fs::remove_file(&manifest).unwrap();
        let o = std::process::Command::new("mkfifo")
            .arg(&manifest)
            .output()
            .unwrap();
        assert!(o.status.success());
        let t = std::time::Instant::now();
        let e = fetch(&source, 1 << 20).unwrap_err().message;
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        assert!(
            e.contains(&manifest.display().to_string()) && e.contains("is a FIFO"),
            "{e}"
        );

        std::fs::remove_file(&manifest).unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::os::unix::fs::symlink(outside.path(), &manifest).unwrap();
        let e = fetch(&source, 1 << 20).unwrap_err().message;
        assert!(
            e.contains(&manifest.display().to_string()) && e.contains("symbolic link"),
            "{e}"
        );

        std::fs::remove_file(&manifest).unwrap();
        std::fs::create_dir(&manifest).unwrap();
        let e = fetch(&source, 1 << 20).unwrap_err().message;
        assert!(e.contains("is a directory"), "{e}");

        // index.json and the oci-layout marker are read the same way.
        std::fs::remove_file(dir.path().join("index.json")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("index.json")).unwrap();
        let e = fetch(&source, 1 << 20).unwrap_err().message;
        assert!(e.contains("index.json is a symbolic link"), "{e}");
    }

    #[test]
    fn write_adds_tags_and_refuses_a_foreign_index() {
        let dir = tempfile::tempdir().unwrap();
        let d1 = write_to(dir.path(), "v1").unwrap();
        let d2 = write_to(dir.path(), "v2").unwrap();
        assert_eq!(d1, d2, "same content, same manifest");
        let index: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        assert_eq!(index["manifests"].as_array().unwrap().len(), 2);

        std::fs::write(dir.path().join("index.json"), br#"{"manifests": {}}"#).unwrap();
        let e = write_to(dir.path(), "v3").unwrap_err().to_string();
        assert!(
            e.contains("index.json") && e.contains("not an array"),
            "{e}"
        );
    }
}
