//! Write an OCI image layout holding one Wasm artifact (CNCF layout), for
//! `scripts/bench-webhook.sh`: `write_layout DIR TAG`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(tag)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: write_layout DIR TAG");
        std::process::exit(2);
    };
    let wasm = wat::parse_str(
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
             (memory (export "memory") 1 1) (func (export "_start")))"#,
    )
    .expect("valid text");
    let config = br#"{"architecture":"wasm","os":"wasip1"}"#;
    wasmcert_oci::layout::write(
        std::path::Path::new(dir),
        &wasmcert_oci::layout::Write {
            tag,
            config_media_type: "application/vnd.wasm.config.v0+json",
            config,
            layers: &[("application/wasm", &wasm)],
        },
    )
    .expect("the layout is written");
}
