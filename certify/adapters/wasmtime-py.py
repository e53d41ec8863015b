"""Launcher for wasmcert's `wasmtime-py` adapter: runs a WASI preview1 command with the
wasmtime Python embedding (PyPI `wasmtime`), run by the python of the venv holding it.

Usage: python wasmtime-py.py [--dir HOST::GUEST[::ro]]... [--env K=V]... [--max-memory BYTES]
           [--max-table N] [--fuel N] [--timeout-ms N] [--ro-mode MODE] -- MODULE [ARGS...]

Exit: the guest's proc_exit status (0 when _start returns); 134 with "trap: ..." on stderr
after a trap (including fuel exhaustion and the deadline); 1 with "refused: ..." on stderr
when the module cannot be compiled, linked or instantiated.

Works with the wasmtime-py API of 33.0.0 (`preopen_dir(path, guest, DirPerms, FilePerms)`)
and of the later releases whose C API takes one `fs_mutable` flag instead: differences are
feature-detected, not keyed on version numbers.

`::ro` preopens are read-only: DirPerms::READ + FilePerms::READ (33.x), fs_mutable=False (later).
`--ro-mode files-only` is for reproducing wasmtime advisories GHSA-2r75-cxrj-cmph and
GHSA-4ch3-9j33-3pmj only, never for certification: it maps `::ro` to DirPerms::READ_WRITE +
FilePerms::READ_ONLY (read-only files in a mutable directory), the one configuration those
advisories affect. Versions whose API lost that combination (wasmtime#14010) refuse it.
"""

import inspect
import os
import sys
import threading

USAGE = ("usage: wasmtime-py.py [--dir H::G[::ro]] [--env K=V] [--max-memory B] [--max-table N]"
         " [--fuel N] [--timeout-ms N] [--ro-mode read-only|files-only] -- MODULE [ARGS...]")


def one_line(e):
    """An error chain on one line, its root cause (wasmtime's last line) first."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    if not lines:
        return type(e).__name__
    if len(lines) == 1:
        return lines[0]
    return f"{lines[-1]} [{' | '.join(lines[:-1])}]"


def die(kind, msg, code):
    sys.stderr.write(f"{kind}: {msg}\n")
    sys.stderr.flush()
    os._exit(code)


def parse(argv):
    opts = {"dirs": [], "env": [], "max_memory": None, "max_table": None, "fuel": None,
            "timeout_ms": None, "ro_mode": "read-only"}
    i = 0
    while i < len(argv) and argv[i] != "--":
        flag = argv[i]
        if i + 1 >= len(argv):
            die("refused", f"{flag} needs a value; {USAGE}", 2)
        value = argv[i + 1]
        i += 2
        if flag == "--dir":
            parts = value.split("::")
            if len(parts) == 2:
                parts.append("rw")
            if len(parts) != 3 or parts[2] not in ("ro", "rw", "ro-files"):
                die("refused", f"bad --dir {value!r} (HOST::GUEST[::ro|::ro-files])", 2)
            opts["dirs"].append((parts[0], parts[1], parts[2]))
        elif flag == "--env":
            key, eq, val = value.partition("=")
            if not eq:
                die("refused", f"bad --env {value!r} (K=V)", 2)
            opts["env"].append((key, val))
        elif flag == "--ro-mode":
            if value not in ("read-only", "files-only"):
                die("refused", f"bad --ro-mode {value!r} (read-only | files-only)", 2)
            opts["ro_mode"] = value
        elif flag in ("--max-memory", "--max-table", "--fuel", "--timeout-ms"):
            try:
                opts[flag[2:].replace("-", "_")] = int(value)
            except ValueError:
                die("refused", f"{flag} takes an integer, got {value!r}", 2)
        else:
            die("refused", f"unknown option {flag!r}; {USAGE}", 2)
    if i >= len(argv) or i + 1 >= len(argv):
        die("refused", f"no module given; {USAGE}", 2)
    return opts, argv[i + 1], argv[i + 2:]


def preopen(wasmtime, wasi, host, guest, read_only, ro_mode):
    """Preopen `host` as `guest`, read-only when asked, in whichever form this version has."""
    params = inspect.signature(wasi.preopen_dir).parameters
    if read_only and ro_mode == "files-only":
        # The advisories' configuration (see the module docstring); not a read-only preopen.
        if "dir_perms" not in params or not hasattr(wasmtime, "DirPerms"):
            die("refused", "--ro-mode files-only: this wasmtime-py has no DirPerms/FilePerms", 1)
        wasi.preopen_dir(host, guest, wasmtime.DirPerms.READ_WRITE, wasmtime.FilePerms.READ_ONLY)
    elif "fs_mutable" in params:
        # Later C API: one flag; fs_mutable=False is DirPerms::READ + FilePerms::READ.
        wasi.preopen_dir(host, guest, fs_mutable=not read_only)
    elif "dir_perms" in params and hasattr(wasmtime, "DirPerms"):
        # 33.x: DirPerms / FilePerms bit sets (READ = 1, WRITE = 2).
        if read_only:
            wasi.preopen_dir(host, guest, wasmtime.DirPerms.READ_ONLY, wasmtime.FilePerms.READ_ONLY)
        else:
            wasi.preopen_dir(host, guest, wasmtime.DirPerms.READ_WRITE, wasmtime.FilePerms.READ_WRITE)
    elif not read_only:
        wasi.preopen_dir(host, guest)
    else:
        # Never fall back to a writable preopen for a read-only request.
        die("refused", "this wasmtime-py cannot express a read-only preopen", 1)


def main():
    opts, module_path, args = parse(sys.argv[1:])
    try:
        import wasmtime
    except Exception as e:  # the venv lacks the package or its native library
        die("refused", f"cannot import wasmtime: {e}", 1)

    # Engine: fuel and epoch interruption when asked for (and available).
    config = wasmtime.Config()
    if opts["fuel"] is not None:
        config.consume_fuel = True
    use_epoch = opts["timeout_ms"] is not None and hasattr(wasmtime.Engine, "increment_epoch")
    if use_epoch:
        config.epoch_interruption = True
    engine = wasmtime.Engine(config)

    try:
        module = wasmtime.Module.from_file(engine, module_path)
    except Exception as e:
        die("refused", f"compiling {module_path}: {one_line(e)}", 1)

    store = wasmtime.Store(engine)
    limits = {}
    if opts["max_memory"] is not None:
        limits["memory_size"] = opts["max_memory"]
    if opts["max_table"] is not None:
        limits["table_elements"] = opts["max_table"]
    if limits:
        if not hasattr(store, "set_limits"):
            die("refused", "this wasmtime-py has no Store.set_limits", 1)
        store.set_limits(**limits)
    if opts["fuel"] is not None:
        if hasattr(store, "set_fuel"):
            store.set_fuel(opts["fuel"])
        else:  # wasmtime-py < 16
            store.add_fuel(opts["fuel"])
    if use_epoch:
        store.set_epoch_deadline(1)

    try:
        wasi = wasmtime.WasiConfig()
        wasi.argv = [os.path.basename(module_path)] + args
        wasi.env = opts["env"]
        wasi.inherit_stdin()
        wasi.inherit_stdout()
        wasi.inherit_stderr()
        for host, guest, mode in opts["dirs"]:
            # `::ro-files` (suite mode "ro-files"): read-only files in a writable directory.
            ro_mode = "files-only" if mode == "ro-files" else opts["ro_mode"]
            preopen(wasmtime, wasi, host, guest, mode != "rw", ro_mode)
        store.set_wasi(wasi)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
    except Exception as e:
        die("refused", f"setting up WASI: {one_line(e)}", 1)

    # The deadline: an epoch tick traps running wasm code; a guest blocked in a host call
    # (a long poll_oneoff sleep) is not interrupted by it, so a second, hard deadline shortly
    # after ends the process as a trap.
    if opts["timeout_ms"] is not None:
        secs = opts["timeout_ms"] / 1000.0

        def hard_deadline():
            die("trap", f"deadline of {opts['timeout_ms']} ms exceeded (guest blocked in a host call)", 134)

        for delay, fn in ((secs, engine.increment_epoch if use_epoch else hard_deadline),
                          (secs + 0.5, hard_deadline)):
            t = threading.Timer(delay, fn)
            t.daemon = True
            t.start()

    exit_trap = getattr(wasmtime, "ExitTrap", ())  # proc_exit; absent from very old releases

    def finish(e):
        code = getattr(e, "code", None)
        if exit_trap and isinstance(e, exit_trap) and isinstance(code, int):
            sys.stderr.flush()
            os._exit(code)
        die("trap", one_line(e), 134)

    try:
        instance = linker.instantiate(store, module)
    except exit_trap as e:  # proc_exit from a start function
        finish(e)
    except wasmtime.Trap as e:  # a start function trapped
        finish(e)
    except Exception as e:
        die("refused", f"instantiating: {one_line(e)}", 1)

    start = instance.exports(store).get("_start")
    if start is None or not isinstance(start, wasmtime.Func):
        die("refused", "the module exports no `_start` function", 1)
    try:
        start(store)
    except (wasmtime.Trap, wasmtime.WasmtimeError) as e:
        finish(e)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
