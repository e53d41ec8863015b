//! The `Analysis` data model: what `wasmcert analyze --format json` prints and what policies read.
//!
//! Every collection is either in binary (declaration) order or sorted, so the same input always
//! serialises to byte-identical JSON. The schema is documented in `docs/analysis-schema.md`;
//! bump [`SCHEMA_VERSION`] on any change that removes or renames a field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the JSON document below. Additive changes keep the number.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything wasmcert learned about one input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub schema_version: u32,
    pub tool: Tool,
    pub subject: Subject,
    /// Whether every function body was validated (`false` with `--no-validate`).
    pub validated: bool,
    /// Capability classes granted by the imports (and, for handlers, the exports) of every unit.
    pub capabilities: Vec<Capability>,
    /// Toolchain ABIs recognised from the import shapes, e.g. `wasi-preview1`, `emscripten`.
    pub abis: Vec<String>,
    /// Union of the features used by every unit, kebab-case (`threads`, `simd`, ...).
    pub features: Vec<String>,
    /// The root module or component first, then every nested module/component, depth first.
    pub units: Vec<Unit>,
    pub findings: Vec<Finding>,
    /// Set when the input was an OCI artifact (`oci://...`, `oci-layout:...`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub oci: Option<OciInfo>,
}

/// Where an analysed binary came from when it was an OCI artifact; every digest was verified
/// against the bytes before analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciInfo {
    /// The reference as given (`oci://registry/repo:tag`, `oci-layout:dir:tag`).
    pub reference: String,
    /// `sha256:...` of the manifest: the artifact's immutable identity.
    pub manifest_digest: String,
    pub manifest_media_type: String,
    pub config_digest: String,
    pub config_media_type: String,
    pub layer_digest: String,
    pub layer_media_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// The path as given on the command line (`-` for stdin).
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub kind: Kind,
    /// Module or component name from the name section, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    CoreModule,
    Component,
    /// A `.o` produced by LLVM for the linker: has a `linking` section.
    RelocatableObject,
    /// A shared library for dynamic linking: has a `dylink.0` (or legacy `dylink`) section.
    DylinkLibrary,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CoreModule => "core-module",
            Kind::Component => "component",
            Kind::RelocatableObject => "relocatable-object",
            Kind::DylinkLibrary => "dylink-library",
        }
    }
}

/// One module or component inside the file (the root is a unit too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// `/` for the root; nested units are `/module[0]`, `/component[1]/module[0]`, ...
    /// numbered by their position among the module (or component) sections of their parent.
    pub path: String,
    pub kind: Kind,
    /// Byte offset of the unit's header in the file and its length.
    pub offset: u64,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    pub imports: Vec<Import>,
    pub exports: Vec<Export>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub memories: Vec<Memory>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tables: Vec<Table>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub globals: Vec<Global>,
    /// Core modules: defined functions (not counting imports).
    pub functions: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub start_function: Option<u32>,
    pub data_segments: u32,
    pub element_segments: u32,
    pub tags: u32,
    pub features: Vec<String>,
    /// From the `target_features` custom section: `+simd128`, `-atomics`, ...
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub target_features: Vec<String>,
    pub custom_sections: Vec<CustomSection>,
    /// `producers` section: field (`language`, `processed-by`, `sdk`) → tool → version.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub producers: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Metadata::is_empty", default)]
    pub metadata: Metadata,
    /// cargo-auditable `.dep-v0` dependency list.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dependencies: Option<Vec<Dependency>>,
    #[serde(skip_serializing_if = "DebugInfo::is_empty", default)]
    pub debug: DebugInfo,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dylink: Option<Dylink>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub linking_version: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub signatures: Vec<Signature>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub claims: Vec<Claims>,
    /// Worlds embedded by wit-bindgen/wit-component in `component-type*` custom sections.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub worlds: Vec<World>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Import {
    /// Core modules: the import module (`wasi_snapshot_preview1`). Absent for components.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub module: Option<String>,
    pub name: String,
    /// `func`, `table`, `memory`, `global`, `tag`, or for components `instance`, `component`,
    /// `module`, `type`, `value`.
    pub kind: String,
    /// The type in text-format notation, e.g. `(func (param i32) (result i32))`; for component
    /// instances the names the instance type exports.
    pub ty: String,
    /// For a core module inside a component: what satisfies the import, traced through the
    /// component's instance graph (`internal` wiring, or the component-level `host` import it
    /// reaches). Absent when it cannot be traced (then it counts as a host import).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resolution: Option<Resolution>,
    /// For a component-level import: the core imports (`unit module#name`) that reach it.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub reached_by: Vec<String>,
}

/// What satisfies a core import inside a component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "kebab-case")]
pub enum Resolution {
    /// Another core instance of the component, or a canonical built-in: no host access.
    Internal { from: String },
    /// A component-level import (`name`, or `instance#function`): the host.
    Host { from: String },
}

impl Import {
    /// `module#name` for core imports, `name` for component imports: the form policies match on.
    pub fn display_name(&self) -> String {
        match &self.module {
            Some(m) => format!("{m}#{}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    pub name: String,
    pub kind: String,
    pub index: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ty: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memory {
    pub index: u32,
    pub imported: bool,
    pub initial_pages: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub maximum_pages: Option<u64>,
    pub shared: bool,
    pub memory64: bool,
    pub page_size: u64,
    /// An imported memory that another core instance of the same component defines: where
    /// (findings about the memory belong to the definition).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub defined_in: Option<String>,
}

impl Memory {
    /// Initial size in bytes, saturating (a 64-bit memory can declare more than fits).
    pub fn initial_bytes(&self) -> u64 {
        self.initial_pages.saturating_mul(self.page_size)
    }
    pub fn maximum_bytes(&self) -> Option<u64> {
        self.maximum_pages.map(|m| m.saturating_mul(self.page_size))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub index: u32,
    pub imported: bool,
    pub element_type: String,
    pub initial: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub maximum: Option<u64>,
    pub table64: bool,
    /// An imported table that another core instance of the same component defines.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub defined_in: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Global {
    pub index: u32,
    pub imported: bool,
    pub ty: String,
    pub mutable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomSection {
    pub name: String,
    /// Offset of the section payload in the file.
    pub offset: u64,
    pub size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub authors: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub licenses: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub homepage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
}

impl Metadata {
    pub fn is_empty(&self) -> bool {
        *self == Metadata::default()
    }
}

/// One package from a cargo-auditable `.dep-v0` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    /// `crates.io`, `git`, `local`, `registry` or `builtin`.
    pub source: String,
    /// `runtime` or `build`.
    pub kind: String,
    pub root: bool,
    /// Indices into the same list.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub dependencies: Vec<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebugInfo {
    /// `.debug_*` DWARF sections present.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub dwarf_sections: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_mapping_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub external_debug_info: Option<String>,
    /// A `name` section is present (function names survive).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub names: bool,
}

impl DebugInfo {
    pub fn is_empty(&self) -> bool {
        *self == DebugInfo::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dylink {
    pub memory_size: u32,
    pub memory_alignment: u32,
    pub table_size: u32,
    pub table_alignment: u32,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub needed: Vec<String>,
}

/// An embedded wasmsign2 signature (`signature` custom section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub offset: u64,
    pub spec_version: u8,
    pub content_type: u8,
    pub hash_function: u8,
    pub signed_hash_sets: Vec<SignedHashSet>,
    /// SHA-256 of the content from the first section after the signature up to each delimiter
    /// (and to the end when the last section is not a delimiter), recomputed by wasmcert.
    pub computed_hashes: Vec<String>,
    /// `full`: the signature is the unit's first section and a signed hash covers every
    /// section after it; `partial`: a signed hash matches a delimiter but sections follow it
    /// unsigned; `mismatch`: no signed hash matches the content, which was changed after
    /// signing; `not-first`: sections precede the signature, so it covers nothing (wasmsign2).
    pub coverage: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHashSet {
    pub hashes: Vec<String>,
    pub signatures: Vec<SignatureEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureEntry {
    /// Hex of the key identifier (empty when none).
    pub key_id: String,
    pub algorithm: u8,
    pub length: u32,
    /// Hex of the signature bytes (Ed25519 for algorithm 1), so a policy can verify it with a
    /// public key without the module bytes.
    #[serde(default)]
    pub signature: String,
}

/// wasmCloud claims: a JWT in a `jwt` or `wasmcloud_jwt` custom section (not verified here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub section: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub issued_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expires: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// Module hash the claims were issued for (upper-case hex SHA-256).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub module_hash: Option<String>,
    /// SHA-256 of the module with the claims sections removed, as wascap computes it.
    pub computed_hash: String,
    pub capabilities: Vec<String>,
    pub tags: Vec<String>,
}

/// A WIT world embedded in a `component-type*` custom section, against what is really imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct World {
    pub section: String,
    pub declared_imports: Vec<String>,
    pub declared_exports: Vec<String>,
    /// Declared but not imported by the unit: the capability is not actually used.
    pub declared_not_imported: Vec<String>,
    /// Imported by the unit without being declared by the world.
    pub imported_not_declared: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capability {
    /// Stable kebab-case id, see `docs/capabilities.md`.
    pub id: String,
    pub risk: Risk,
    pub description: String,
    /// The imports (or exports, for handlers) that grant it, as `unit: module#name`.
    pub granted_by: Vec<Grant>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    pub unit: String,
    /// `module#name` for core imports, the interface name for component imports.
    pub import: String,
    /// True when the grant comes from an export (e.g. `wasi:http/incoming-handler`).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub export: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Risk {
    None,
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable kebab-case code, documented in `docs/findings/<code>.md`.
    pub code: crate::findings::FindingCode,
    pub severity: Severity,
    /// The unit path (`/`, `/module[0]`, ...).
    pub unit: String,
    pub message: String,
    /// Byte offset in the file the finding points at, when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub offset: Option<u64>,
}
