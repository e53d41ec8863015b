//! The capability vocabulary and the tables that map imports to it.
//!
//! A capability is a stable kebab-case id. Every function of `wasi_snapshot_preview1` and
//! `wasi_unstable`, every `wasi:*` interface of WASI 0.2.x/0.3.x and wasi-threads maps to one or
//! more ids. Toolchain ABIs are recognised by import shape; anything else is reported as
//! `unknown-host-import` rather than guessed. `docs/capabilities.md` lists the same table.

use crate::model::Risk;

/// Every capability id wasmcert can report, with its risk and one-line description.
/// Sorted by id; `tests` assert the order and uniqueness.
pub const CAPABILITIES: &[(&str, Risk, &str)] = &[
    ("args", Risk::Low, "reads the command-line arguments"),
    (
        "blobstore",
        Risk::Medium,
        "reads and writes a host blob store",
    ),
    (
        "clock-monotonic",
        Risk::Low,
        "reads a monotonic clock (timing side channels)",
    ),
    (
        "clock-wall",
        Risk::Low,
        "reads the wall clock or the time zone",
    ),
    (
        "config",
        Risk::Low,
        "reads host-provided runtime configuration",
    ),
    (
        "env",
        Risk::Medium,
        "reads environment variables or the initial working directory",
    ),
    (
        "fd-manage",
        Risk::None,
        "manages descriptors it already holds (close, seek, renumber, flags)",
    ),
    (
        "fs-metadata",
        Risk::Low,
        "reads file metadata (stat) in granted directories",
    ),
    (
        "fs-preopens",
        Risk::Medium,
        "discovers the directories the host preopened",
    ),
    (
        "fs-read",
        Risk::Medium,
        "opens and reads files or directories in granted directories",
    ),
    (
        "fs-write",
        Risk::High,
        "creates, writes, renames, links or deletes files in granted directories",
    ),
    (
        "http-incoming",
        Risk::Medium,
        "serves incoming HTTP requests",
    ),
    ("http-outgoing", Risk::High, "sends outgoing HTTP requests"),
    (
        "http-types",
        Risk::None,
        "uses the HTTP request/response types (no I/O by itself)",
    ),
    (
        "keyvalue",
        Risk::Medium,
        "reads and writes a host key-value store",
    ),
    ("logging", Risk::Low, "writes to the host log"),
    (
        "messaging",
        Risk::Medium,
        "sends and receives messages through the host",
    ),
    (
        "net-connect",
        Risk::High,
        "opens outgoing network connections or sends datagrams",
    ),
    ("net-dns", Risk::Medium, "resolves host names"),
    ("net-io", Risk::Medium, "uses network sockets it was given"),
    (
        "net-listen",
        Risk::High,
        "binds, listens on or accepts network sockets",
    ),
    ("nn", Risk::Medium, "runs host machine-learning inference"),
    ("poll", Risk::Low, "waits on timers and descriptors"),
    ("proc-exit", Risk::None, "exits the process with a status"),
    (
        "proc-raise",
        Risk::Low,
        "raises a signal in the host process",
    ),
    ("random", Risk::None, "reads random bytes from the host"),
    ("sched-yield", Risk::None, "yields the CPU"),
    ("stdio", Risk::Low, "reads stdin or writes stdout/stderr"),
    (
        "threads",
        Risk::Medium,
        "spawns threads or shares memory between threads",
    ),
    (
        "toolchain-runtime",
        Risk::Medium,
        "calls a toolchain's host glue (emscripten, wasm-bindgen, Go, napi): what it can do depends on that glue",
    ),
    (
        "unknown-host-import",
        Risk::High,
        "imports a host function wasmcert cannot classify",
    ),
    (
        "wasi-io",
        Risk::None,
        "uses WASI streams, polling and errors (no access by itself)",
    ),
];

pub fn lookup(id: &str) -> Option<(Risk, &'static str)> {
    CAPABILITIES
        .binary_search_by(|(k, _, _)| k.cmp(&id))
        .ok()
        .map(|i| (CAPABILITIES[i].1, CAPABILITIES[i].2))
}

/// `wasi_snapshot_preview1` (and `wasi_unstable`, same names) function → capabilities.
/// Sorted by name for binary search.
const PREVIEW1: &[(&str, &[&str])] = &[
    ("args_get", &["args"]),
    ("args_sizes_get", &["args"]),
    ("clock_res_get", &["clock-monotonic", "clock-wall"]),
    ("clock_time_get", &["clock-monotonic", "clock-wall"]),
    ("environ_get", &["env"]),
    ("environ_sizes_get", &["env"]),
    ("fd_advise", &["fs-read"]),
    ("fd_allocate", &["fs-write"]),
    ("fd_close", &["fd-manage"]),
    ("fd_datasync", &["fs-write"]),
    ("fd_fdstat_get", &["fd-manage"]),
    ("fd_fdstat_set_flags", &["fd-manage"]),
    ("fd_fdstat_set_rights", &["fd-manage"]),
    ("fd_filestat_get", &["fs-metadata"]),
    ("fd_filestat_set_size", &["fs-write"]),
    ("fd_filestat_set_times", &["fs-write"]),
    ("fd_pread", &["fs-read"]),
    ("fd_prestat_dir_name", &["fs-preopens"]),
    ("fd_prestat_get", &["fs-preopens"]),
    ("fd_pwrite", &["fs-write"]),
    ("fd_read", &["fs-read", "stdio"]),
    ("fd_readdir", &["fs-read"]),
    ("fd_renumber", &["fd-manage"]),
    ("fd_seek", &["fd-manage"]),
    ("fd_sync", &["fs-write"]),
    ("fd_tell", &["fd-manage"]),
    ("fd_write", &["fs-write", "stdio"]),
    ("path_create_directory", &["fs-write"]),
    ("path_filestat_get", &["fs-metadata"]),
    ("path_filestat_set_times", &["fs-write"]),
    ("path_link", &["fs-write"]),
    ("path_open", &["fs-read", "fs-write"]),
    ("path_readlink", &["fs-read"]),
    ("path_remove_directory", &["fs-write"]),
    ("path_rename", &["fs-write"]),
    ("path_symlink", &["fs-write"]),
    ("path_unlink_file", &["fs-write"]),
    ("poll_oneoff", &["poll"]),
    ("proc_exit", &["proc-exit"]),
    ("proc_raise", &["proc-raise"]),
    ("random_get", &["random"]),
    ("sched_yield", &["sched-yield"]),
    ("sock_accept", &["net-listen"]),
    ("sock_recv", &["net-io"]),
    ("sock_send", &["net-io"]),
    ("sock_shutdown", &["net-io"]),
];

/// Capabilities of one `wasi_snapshot_preview1`/`wasi_unstable` function, `None` if unknown.
pub fn preview1(name: &str) -> Option<&'static [&'static str]> {
    PREVIEW1
        .binary_search_by(|(k, _)| k.cmp(&name))
        .ok()
        .map(|i| PREVIEW1[i].1)
}

/// A parsed WIT interface name `ns:pkg/iface@version` (also `ns:pkg/iface` without version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceName<'a> {
    pub namespace: &'a str,
    pub package: &'a str,
    pub interface: &'a str,
    pub version: Option<semver::Version>,
}

pub fn parse_interface(name: &str) -> Option<InterfaceName<'_>> {
    let (ns, rest) = name.split_once(':')?;
    let (path, version) = match rest.split_once('@') {
        Some((p, v)) => (p, Some(semver::Version::parse(v).ok()?)),
        None => (rest, None),
    };
    let (package, interface) = path.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !ok(ns) || !ok(package) || !ok(interface) {
        return None;
    }
    Some(InterfaceName {
        namespace: ns,
        package,
        interface,
        version,
    })
}

/// Packages versioned with the WASI releases (0.2.x, 0.3.x). Proposals such as
/// `wasi:keyvalue` carry versions of their own and say nothing about the WASI generation.
pub fn is_wasi_release_package(package: &str) -> bool {
    matches!(
        package,
        "cli" | "clocks" | "filesystem" | "io" | "random" | "sockets" | "http"
    )
}

/// The WASI generation an interface version belongs to: `wasi-0.2`, `wasi-0.3`, ...
pub fn wasi_generation(v: &Option<semver::Version>) -> Option<String> {
    v.as_ref().map(|v| {
        if v.major == 0 {
            format!("wasi-0.{}", v.minor)
        } else {
            format!("wasi-{}", v.major)
        }
    })
}

/// Capabilities granted by importing a `wasi:PKG/IFACE` interface (any 0.2.x/0.3.x version).
/// `funcs` are the function names the imported instance type exports, when known; they
/// narrow the grant for interfaces that mix read and write (filesystem, environment, sockets).
/// `None` means the interface is not one wasmcert knows.
pub fn wasi_interface(
    package: &str,
    interface: &str,
    funcs: &[String],
) -> Option<Vec<&'static str>> {
    let known = !funcs.is_empty();
    let has = |pred: &dyn Fn(&str) -> bool| funcs.iter().any(|f| pred(f.as_str()));
    let caps: Vec<&'static str> = match (package, interface) {
        ("cli", "environment") => {
            if !known {
                vec!["args", "env"]
            } else {
                let mut v = Vec::new();
                if has(&|f| f == "get-arguments") {
                    v.push("args");
                }
                if has(&|f| f == "get-environment" || f == "initial-cwd" || f == "get-initial-cwd")
                {
                    v.push("env");
                }
                v
            }
        }
        ("cli", "exit") => vec!["proc-exit"],
        ("cli", "stdin" | "stdout" | "stderr")
        | ("cli", "terminal-input" | "terminal-output")
        | ("cli", "terminal-stdin" | "terminal-stdout" | "terminal-stderr") => vec!["stdio"],
        ("cli", "run" | "command") => vec![],
        ("clocks", "wall-clock" | "system-clock" | "timezone") => vec!["clock-wall"],
        ("clocks", "monotonic-clock") => vec!["clock-monotonic"],
        ("filesystem", "preopens") => vec!["fs-preopens"],
        ("filesystem", "types") => {
            if !known {
                vec!["fs-metadata", "fs-read", "fs-write"]
            } else {
                let mut v: Vec<&'static str> = Vec::new();
                for f in funcs {
                    match filesystem_function(f) {
                        Some(caps) => v.extend_from_slice(caps),
                        // A function this table does not know: assume the worst.
                        None => v.extend_from_slice(&["fs-metadata", "fs-read", "fs-write"]),
                    }
                }
                v.sort();
                v.dedup();
                v
            }
        }
        ("io", "streams" | "poll" | "error") => vec!["wasi-io"],
        ("random", "random" | "insecure" | "insecure-seed") => vec!["random"],
        ("sockets", "ip-name-lookup") => vec!["net-dns"],
        ("sockets", "network" | "instance-network") => vec!["net-io"],
        ("sockets", "tcp" | "udp" | "types") => {
            if !known {
                vec!["net-connect", "net-listen"]
            } else {
                let mut v = Vec::new();
                if has(&|f| {
                    f.ends_with(".start-connect")
                        || f.ends_with(".connect")
                        || f.ends_with(".send")
                        || f.ends_with(".stream")
                }) {
                    v.push("net-connect");
                }
                if has(&|f| {
                    f.ends_with(".start-bind")
                        || f.ends_with(".bind")
                        || f.ends_with(".start-listen")
                        || f.ends_with(".listen")
                        || f.ends_with(".accept")
                        || f.ends_with(".receive")
                }) {
                    v.push("net-listen");
                }
                if v.is_empty() {
                    v.push("net-io");
                }
                v
            }
        }
        ("sockets", "tcp-create-socket" | "udp-create-socket") => vec!["net-io"],
        ("http", "outgoing-handler" | "client") => vec!["http-outgoing"],
        ("http", "handler") => vec!["http-outgoing"],
        ("http", "incoming-handler") => vec!["http-incoming"],
        ("http", "types") => vec!["http-types"],
        ("keyvalue", _) => vec!["keyvalue"],
        ("config", _) => vec!["config"],
        ("logging", _) => vec!["logging"],
        ("blobstore", _) => vec!["blobstore"],
        ("messaging", _) => vec!["messaging"],
        ("nn", _) => vec!["nn"],
        ("threads", _) => vec!["threads"],
        _ => return None,
    };
    Some(caps)
}

/// `wasi:filesystem/types` functions (0.2.x and 0.3.x names) → capabilities. Resources,
/// destructors and pure helpers (`filesystem-error-code`, `is-same-object`) grant nothing.
fn filesystem_function(f: &str) -> Option<&'static [&'static str]> {
    let method = f.rsplit('.').next().unwrap_or(f);
    if f.starts_with("[resource-drop]") || f == "filesystem-error-code" {
        return Some(&[]);
    }
    Some(match method {
        "read"
        | "read-via-stream"
        | "read-directory"
        | "read-directory-entry"
        | "readlink-at"
        | "advise" => &["fs-read"],
        // open-at can create and truncate with the right flags.
        "open-at" => &["fs-read", "fs-write"],
        "write"
        | "write-via-stream"
        | "append-via-stream"
        | "set-size"
        | "set-times"
        | "set-times-at"
        | "sync"
        | "sync-data"
        | "create-directory-at"
        | "link-at"
        | "remove-directory-at"
        | "rename-at"
        | "symlink-at"
        | "unlink-file-at" => &["fs-write"],
        "stat" | "stat-at" | "metadata-hash" | "metadata-hash-at" | "get-type" | "get-flags" => {
            &["fs-metadata"]
        }
        "is-same-object" => &[],
        _ => return None,
    })
}

/// Capabilities granted by *exporting* a WASI interface (a handler the host calls into).
pub fn wasi_export(package: &str, interface: &str) -> Option<&'static str> {
    match (package, interface) {
        ("http", "incoming-handler" | "handler") => Some("http-incoming"),
        _ => None,
    }
}

/// Toolchain ABI of a non-WASI core import, and the capabilities it maps to when the import is
/// one of the well-known host functions of that ABI.
pub struct AbiMatch {
    pub abi: &'static str,
    pub caps: Vec<&'static str>,
}

/// Classify a core import that is not from a WASI module. `minified_emscripten` is true when the
/// module imports only from a module named `a` with short names, the shape of `emcc -O3` output.
pub fn toolchain_import(module: &str, name: &str, minified_emscripten: bool) -> Option<AbiMatch> {
    let m = |abi, caps: &[&'static str]| {
        Some(AbiMatch {
            abi,
            caps: if caps.is_empty() {
                vec!["toolchain-runtime"]
            } else {
                caps.to_vec()
            },
        })
    };
    if name.starts_with("__wbindgen_")
        || name.starts_with("__wbg_")
        || module == "__wbindgen_placeholder__"
        || module == "__wbindgen_externref_xform__"
    {
        return m("wasm-bindgen", &[]);
    }
    if module == "gojs" || module == "go" || name.starts_with("syscall/js.") {
        return m("go-js", &[]);
    }
    if module == "napi" || name.starts_with("napi_") {
        return m("napi", &[]);
    }
    if module == "emnapi" || name.starts_with("emnapi_") || name.starts_with("_emnapi_") {
        return m("emnapi", &[]);
    }
    if module == "env" {
        if let Some(sys) = name.strip_prefix("__syscall_") {
            return m("emscripten", emscripten_syscall(sys));
        }
        if name.starts_with("emscripten_")
            || name.starts_with("_emscripten_")
            || name.starts_with("invoke_")
            || name.starts_with("_embind_")
            || name.starts_with("_emval_")
            || name.starts_with("__cxa_")
            || matches!(
                name,
                "__assert_fail"
                    | "abort"
                    | "_abort_js"
                    | "_tzset_js"
                    | "_localtime_js"
                    | "_mktime_js"
                    | "_gmtime_js"
                    | "_mmap_js"
                    | "_munmap_js"
                    | "__call_sighandler"
                    | "exit"
                    | "getentropy"
                    | "_setitimer_js"
                    | "segfault"
                    | "alignfault"
            )
        {
            let caps: &[&'static str] = match name {
                "emscripten_date_now"
                | "_tzset_js"
                | "_localtime_js"
                | "_mktime_js"
                | "_gmtime_js" => &["clock-wall"],
                "emscripten_get_now" | "_emscripten_get_now_is_monotonic" => &["clock-monotonic"],
                "getentropy" => &["random"],
                "exit" | "_emscripten_exit" => &["proc-exit"],
                _ => &[],
            };
            return m("emscripten", caps);
        }
    }
    if module == "a" && minified_emscripten {
        return m("emscripten-minified", &[]);
    }
    None
}

fn emscripten_syscall(sys: &str) -> &'static [&'static str] {
    match sys {
        "socket" | "connect" | "sendto" | "sendmsg" => &["net-connect"],
        "bind" | "listen" | "accept4" | "recvfrom" | "recvmsg" => &["net-listen"],
        "getsockname" | "getpeername" | "getsockopt" | "setsockopt" | "shutdown" | "socketpair" => {
            &["net-io"]
        }
        "openat" | "open" => &["fs-read", "fs-write"],
        "stat64" | "lstat64" | "fstat64" | "newfstatat" | "statfs64" | "fstatfs64"
        | "faccessat" => &["fs-metadata"],
        "getdents64" | "readlinkat" | "getcwd" => &["fs-read"],
        "mkdirat" | "unlinkat" | "renameat" | "symlinkat" | "linkat" | "rmdir" | "ftruncate64"
        | "truncate64" | "fchmod" | "chmod" | "fchmodat" | "fchown32" | "fchownat"
        | "utimensat" | "fallocate" | "fdatasync" | "fsync" => &["fs-write"],
        "chdir" | "fchdir" => &["env"],
        "poll" | "_newselect" | "pselect6" => &["poll"],
        "getrandom" => &["random"],
        _ => &["toolchain-runtime"],
    }
}

/// True for import modules of the WASI preview1 ABI family.
pub fn is_preview1_module(module: &str) -> bool {
    matches!(module, "wasi_snapshot_preview1" | "wasi_unstable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        assert!(CAPABILITIES.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(PREVIEW1.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn every_mapped_capability_is_in_the_vocabulary() {
        for (f, caps) in PREVIEW1 {
            for c in *caps {
                assert!(lookup(c).is_some(), "{f} maps to unknown {c}");
            }
        }
        for (pkg, ifaces) in [
            (
                "cli",
                &[
                    "environment",
                    "exit",
                    "stdin",
                    "stdout",
                    "stderr",
                    "terminal-input",
                    "terminal-output",
                    "terminal-stdin",
                    "terminal-stdout",
                    "terminal-stderr",
                    "run",
                ][..],
            ),
            (
                "clocks",
                &["wall-clock", "monotonic-clock", "timezone", "system-clock"],
            ),
            ("filesystem", &["types", "preopens"]),
            ("io", &["streams", "poll", "error"]),
            ("random", &["random", "insecure", "insecure-seed"]),
            (
                "sockets",
                &[
                    "tcp",
                    "udp",
                    "types",
                    "ip-name-lookup",
                    "network",
                    "instance-network",
                    "tcp-create-socket",
                    "udp-create-socket",
                ],
            ),
            (
                "http",
                &[
                    "types",
                    "outgoing-handler",
                    "incoming-handler",
                    "handler",
                    "client",
                ],
            ),
        ] {
            for i in ifaces {
                let caps = wasi_interface(pkg, i, &[])
                    .unwrap_or_else(|| panic!("wasi:{pkg}/{i} unmapped"));
                for c in caps {
                    assert!(lookup(c).is_some(), "wasi:{pkg}/{i} maps to unknown {c}");
                }
            }
        }
    }

    #[test]
    fn the_full_preview1_function_list_is_mapped() {
        // The 46 functions of wasi_snapshot_preview1 as listed in witx/wasi_snapshot_preview1.witx.
        assert_eq!(PREVIEW1.len(), 46);
        assert_eq!(preview1("path_open"), Some(&["fs-read", "fs-write"][..]));
        assert_eq!(preview1("nonsense"), None);
    }

    #[test]
    fn interface_names_parse_any_patch_version() {
        let i = parse_interface("wasi:filesystem/types@0.2.3").unwrap();
        assert_eq!(
            (i.namespace, i.package, i.interface),
            ("wasi", "filesystem", "types")
        );
        assert_eq!(wasi_generation(&i.version).as_deref(), Some("wasi-0.2"));
        let i = parse_interface("wasi:http/handler@0.3.0-rc-2025-09-16").unwrap();
        assert_eq!(wasi_generation(&i.version).as_deref(), Some("wasi-0.3"));
        assert!(parse_interface("not an interface").is_none());
        assert!(parse_interface("wasi:cli/run@x").is_none());
    }

    #[test]
    fn function_lists_narrow_filesystem_grants() {
        let ro = vec![
            "[method]descriptor.read".to_string(),
            "[method]descriptor.stat".to_string(),
        ];
        assert_eq!(
            wasi_interface("filesystem", "types", &ro).unwrap(),
            vec!["fs-metadata", "fs-read"]
        );
        let rw = vec!["[method]descriptor.write".to_string()];
        assert_eq!(
            wasi_interface("filesystem", "types", &rw).unwrap(),
            vec!["fs-write"]
        );
    }
}
