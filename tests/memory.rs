//! Peak memory on a 100 MB module with DWARF: the analyzer reads the file once and never copies
//! section payloads, so peak RSS must stay within file size + 64 MiB. Kept in its own test
//! binary so `RUSAGE_CHILDREN` sees only the child started here.
#![allow(unsafe_code)]

mod common;

use wasm_encoder::{
    CodeSection, Encode, ExportKind, ExportSection, Function, FunctionSection, Instruction, Module,
    TypeSection,
};

/// The code part of the module; the DWARF section is streamed to disk by the caller so this
/// process never holds 100 MB (its peak RSS would be charged to the child it spawns: Linux
/// records the parent's high-water mark when a vforked child execs).
fn code_module(functions: u32) -> Vec<u8> {
    let mut m = Module::new();
    let mut types = TypeSection::new();
    types
        .ty()
        .function([wasm_encoder::ValType::I32], [wasm_encoder::ValType::I32]);
    m.section(&types);
    let mut funcs = FunctionSection::new();
    for _ in 0..functions {
        funcs.function(0);
    }
    m.section(&funcs);
    let mut exports = ExportSection::new();
    exports.export("f0", ExportKind::Func, 0);
    m.section(&exports);
    let mut code = CodeSection::new();
    for _ in 0..functions {
        let mut f = Function::new([(1, wasm_encoder::ValType::I32)]);
        for i in 0..20 {
            f.instruction(&Instruction::LocalGet(0));
            f.instruction(&Instruction::I32Const(i));
            f.instruction(&Instruction::I32Add);
            f.instruction(&Instruction::LocalSet(1));
        }
        f.instruction(&Instruction::LocalGet(1));
        f.instruction(&Instruction::End);
        code.function(&f);
    }
    m.section(&code);
    m.finish()
}

fn write_big_module(path: &std::path::Path, dwarf_bytes: usize, functions: u32) -> u64 {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(&code_module(functions)).unwrap();
    // Custom section header: id 0, size, name; then the payload in 1 MiB chunks.
    let mut header = Vec::new();
    let name = ".debug_info";
    let size = (1 + name.len() + dwarf_bytes) as u32;
    header.push(0u8);
    size.encode(&mut header);
    name.encode(&mut header);
    f.write_all(&header).unwrap();
    let chunk = vec![0x5au8; 1 << 20];
    let mut left = dwarf_bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        f.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    f.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

fn children_peak_rss_bytes() -> u64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the zeroed struct we own.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    assert_eq!(rc, 0);
    ru.ru_maxrss as u64 * 1024
}

#[test]
fn hundred_megabyte_module_with_dwarf_stays_within_file_size_plus_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.wasm");
    let size = write_big_module(&path, 100 << 20, 20_000);
    let o = common::bin()
        .args(["analyze", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"debug-info-present") && codes.contains(&"custom-section-large"),
        "{codes:?}"
    );
    assert_eq!(v["units"][0]["functions"], 20_000);
    let peak = children_peak_rss_bytes();
    assert!(
        peak <= size + (64 << 20),
        "peak RSS {peak} bytes for a {size}-byte file"
    );
}
