//! SBOMs of an analysis: CycloneDX 1.6 JSON and SPDX 2.3 JSON.
//!
//! Both describe the module (name, version, digest, licenses, source), the toolchain from the
//! `producers` section, and the crates of a cargo-auditable `.dep-v0` section of any unit, with
//! their dependency edges. Output is deterministic: identifiers derive from the module digest,
//! and the only time field (SPDX `created`, which the spec requires) comes from
//! `SOURCE_DATE_EPOCH` when set.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wasmcert_analyzer::{Analysis, Dependency};

/// All `.dep-v0` packages of all units, deduplicated by (name, version, source), with edges
/// remapped to the merged list.
fn crates(a: &Analysis) -> (Vec<Dependency>, Vec<Vec<usize>>) {
    let mut index: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut list: Vec<Dependency> = Vec::new();
    let mut edges: Vec<Vec<usize>> = Vec::new();
    for u in &a.units {
        let Some(deps) = &u.dependencies else {
            continue;
        };
        let mut local = Vec::with_capacity(deps.len());
        for d in deps {
            let key = (d.name.clone(), d.version.clone(), d.source.clone());
            let i = *index.entry(key).or_insert_with(|| {
                list.push(d.clone());
                edges.push(Vec::new());
                list.len() - 1
            });
            local.push(i);
        }
        for (li, d) in deps.iter().enumerate() {
            for &to in &d.dependencies {
                if let Some(&t) = local.get(to) {
                    edges[local[li]].push(t);
                }
            }
        }
    }
    for e in &mut edges {
        e.sort();
        e.dedup();
    }
    (list, edges)
}

fn purl(d: &Dependency) -> String {
    format!("pkg:cargo/{}@{}", d.name, d.version)
}

fn subject_name(a: &Analysis) -> String {
    if let Some(n) = &a.subject.name {
        return n.clone();
    }
    let p = a.subject.path.rsplit('/').next().unwrap_or(&a.subject.path);
    if p.is_empty() || p == "-" {
        "stdin".into()
    } else {
        p.to_string()
    }
}

/// The producers of every unit as `(field, tool, version)`, deduplicated.
fn producers(a: &Analysis) -> Vec<(String, String, String)> {
    let mut v = Vec::new();
    for u in &a.units {
        for (field, tools) in &u.producers {
            for (tool, version) in tools {
                v.push((field.clone(), tool.clone(), version.clone()));
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

/// A UUID (version 5 layout) derived from everything that determines the document (module
/// digest, format, tool version, creation time): the same inputs give the same serial number,
/// a different document a different one.
fn uuid_from(seed: &str) -> String {
    let h = Sha256::digest(format!("wasmcert-sbom:{seed}"));
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// CycloneDX 1.6 JSON.
pub fn cyclonedx(a: &Analysis) -> Value {
    let (deps, edges) = crates(a);
    let main_ref = format!("wasm:sha256:{}", a.subject.sha256);
    let md = &a.units[0].metadata;
    let mut main = json!({
        "type": "application",
        "bom-ref": main_ref,
        "name": subject_name(a),
        "hashes": [{ "alg": "SHA-256", "content": a.subject.sha256 }],
        "properties": [
            { "name": "wasmcert:kind", "value": a.subject.kind.as_str() },
            { "name": "wasmcert:size", "value": a.subject.size.to_string() },
        ],
    });
    if let Some(v) = &md.version {
        main["version"] = json!(v);
    }
    if let Some(d) = &md.description {
        main["description"] = json!(d);
    }
    if let Some(l) = &md.licenses {
        main["licenses"] = json!([{ "expression": l }]);
    }
    if let Some(au) = &md.authors {
        main["authors"] = json!([{ "name": au }]);
    }
    let mut ext = Vec::new();
    if let Some(s) = &md.source {
        ext.push(json!({ "type": "vcs", "url": s }));
    }
    if let Some(h) = &md.homepage {
        ext.push(json!({ "type": "website", "url": h }));
    }
    if !ext.is_empty() {
        main["externalReferences"] = json!(ext);
    }
    {
        let props = main["properties"]
            .as_array_mut()
            .expect("properties is an array");
        for c in &a.capabilities {
            props.push(json!({ "name": "wasmcert:capability", "value": c.id }));
        }
        if let Some(r) = &md.revision {
            props.push(json!({ "name": "wasmcert:revision", "value": r }));
        }
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut refs = Vec::new();
    let mut components = Vec::new();
    for d in &deps {
        let base = purl(d);
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        let r = if *n == 1 {
            base.clone()
        } else {
            format!("{base}#{}", n)
        };
        refs.push(r.clone());
        let mut c = json!({
            "type": "library",
            "bom-ref": r,
            "name": d.name,
            "version": d.version,
            "scope": if d.kind == "build" { "excluded" } else { "required" },
            "properties": [{ "name": "wasmcert:source", "value": d.source }],
        });
        if d.source == "crates.io" {
            c["purl"] = json!(base);
        }
        components.push(c);
    }
    for (field, tool, version) in producers(a) {
        let r = format!("producer:{field}:{tool}@{version}");
        if seen.insert(r.clone(), 1).is_some() {
            continue;
        }
        components.push(json!({
            "type": "application",
            "bom-ref": r,
            "name": tool,
            "version": version,
            "scope": "excluded",
            "properties": [{ "name": "wasmcert:producers-field", "value": field }],
        }));
    }
    let mut dependencies = Vec::new();
    let roots: Vec<&String> = deps
        .iter()
        .enumerate()
        .filter(|(_, d)| d.root)
        .map(|(i, _)| &refs[i])
        .collect();
    dependencies.push(json!({ "ref": main_ref, "dependsOn": roots }));
    for (i, e) in edges.iter().enumerate() {
        let mut on: Vec<&String> = e.iter().map(|&t| &refs[t]).collect();
        on.dedup();
        dependencies.push(json!({ "ref": refs[i], "dependsOn": on }));
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid_from(&format!("cyclonedx:{}:{}", a.subject.sha256, a.tool.version))),
        "version": 1,
        "metadata": {
            "tools": { "components": [{
                "type": "application",
                "name": a.tool.name,
                "version": a.tool.version,
            }]},
            "component": main,
        },
        "components": components,
        "dependencies": dependencies,
    })
}

/// Creation time for SPDX: `SOURCE_DATE_EPOCH` (reproducible builds convention) or now.
pub fn creation_time() -> String {
    let t = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
        .unwrap_or_else(SystemTime::now);
    humantime::format_rfc3339_seconds(t).to_string()
}

fn spdx_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// SPDX 2.3 JSON. `created` is the caller's (see [`creation_time`]).
pub fn spdx(a: &Analysis, created: &str) -> Value {
    let (deps, edges) = crates(a);
    let md = &a.units[0].metadata;
    let main_id = "SPDXRef-Package-wasm";
    let mut main = json!({
        "SPDXID": main_id,
        "name": subject_name(a),
        "downloadLocation": md.source.clone().unwrap_or_else(|| "NOASSERTION".into()),
        "filesAnalyzed": false,
        "checksums": [{ "algorithm": "SHA256", "checksumValue": a.subject.sha256 }],
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": md.licenses.clone().unwrap_or_else(|| "NOASSERTION".into()),
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "APPLICATION",
        "comment": format!("WebAssembly {} analysed by wasmcert {}", a.subject.kind.as_str(), a.tool.version),
    });
    if let Some(v) = &md.version {
        main["versionInfo"] = json!(v);
    }
    if let Some(d) = &md.description {
        main["description"] = json!(d);
    }
    if let Some(h) = &md.homepage {
        main["homepage"] = json!(h);
    }
    if let Some(au) = &md.authors {
        main["supplier"] = json!(format!("Person: {au}"));
    }
    let mut packages = vec![main];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": main_id,
    })];
    let ids: Vec<String> = deps
        .iter()
        .enumerate()
        .map(|(i, d)| format!("SPDXRef-Package-crate-{i}-{}", spdx_id(&d.name)))
        .collect();
    for (i, d) in deps.iter().enumerate() {
        let mut p = json!({
            "SPDXID": ids[i],
            "name": d.name,
            "versionInfo": d.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "primaryPackagePurpose": "LIBRARY",
        });
        if d.source == "crates.io" {
            p["externalRefs"] = json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl(d),
            }]);
        }
        packages.push(p);
        if d.root {
            relationships.push(if d.kind == "build" {
                json!({ "spdxElementId": ids[i], "relationshipType": "BUILD_DEPENDENCY_OF", "relatedSpdxElement": main_id })
            } else {
                json!({ "spdxElementId": main_id, "relationshipType": "CONTAINS", "relatedSpdxElement": ids[i] })
            });
        }
        for &t in &edges[i] {
            relationships.push(if deps[t].kind == "build" {
                json!({ "spdxElementId": ids[t], "relationshipType": "BUILD_DEPENDENCY_OF", "relatedSpdxElement": ids[i] })
            } else {
                json!({ "spdxElementId": ids[i], "relationshipType": "DEPENDS_ON", "relatedSpdxElement": ids[t] })
            });
        }
    }
    for (k, (field, tool, version)) in producers(a).into_iter().enumerate() {
        let id = format!("SPDXRef-Producer-{k}-{}", spdx_id(&tool));
        packages.push(json!({
            "SPDXID": id,
            "name": tool,
            "versionInfo": version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "primaryPackagePurpose": "APPLICATION",
            "comment": format!("producers section, field `{field}`"),
        }));
        relationships.push(json!({
            "spdxElementId": id,
            "relationshipType": "BUILD_TOOL_OF",
            "relatedSpdxElement": main_id,
        }));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("wasmcert-sbom-{}", subject_name(a)),
        "documentNamespace": format!(
            "https://wasmcert.dev/spdx/{}-{}",
            a.subject.sha256,
            uuid_from(&format!("spdx:{}:{}:{created}", a.subject.sha256, a.tool.version))
        ),
        "creationInfo": {
            "created": created,
            "creators": [format!("Tool: wasmcert-{}", a.tool.version)],
        },
        "packages": packages,
        "relationships": relationships,
    })
}
