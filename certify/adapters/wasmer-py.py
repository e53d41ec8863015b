"""Launcher for wasmcert's `wasmer-py` adapter: runs a WASI preview1 command with the wasmer
Python embedding (PyPI `wasmer==1.1.0` + `wasmer-compiler-cranelift==1.1.0`, the last release,
wasmer 2.x inside), run by the python of the venv holding them (scripts/install-runtimes.sh:
.ci/tools/wasmer-py/, a Python 3.10 venv: the package has native wheels for CPython <= 3.10 only).

Usage: python wasmer-py.py [--dir HOST::GUEST]... [--env K=V]... -- MODULE [ARGS...]

Drives the package the way its documentation does: `Store(engine.Universal(Compiler))`,
`wasi.StateBuilder(name).argument(..).environment(k, v).map_directory(guest, host).finalize()`,
`generate_import_object(store, wasi.get_version(module, strict=False))`, `Instance`,
`exports._start()`. Stdio are the process's own (the package's default).

Exit: the guest's proc_exit status (0 when _start returns); 134 with "trap: ..." as the last line
of stderr after a trap; 1 with stderr exactly one line "refused: ..." when the module cannot be
compiled, linked or instantiated. The package reports proc_exit(N) as a RuntimeError whose
message is exactly "RuntimeError: WASI exited with code: N"; any other exception from _start is
a trap.
"""

import os
import re
import sys

# The launchers are materialised together in one directory: never import one of them (or
# anything else there) instead of the package.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

USAGE = "usage: wasmer-py.py [--dir HOST::GUEST] [--env K=V] -- MODULE [ARGS...]"
EXIT_RE = re.compile(r"\A(?:RuntimeError: )?WASI exited with code: (\d+)\Z")


def one_line(e):
    text = " | ".join(line.strip() for line in str(e).splitlines() if line.strip())
    return text or type(e).__name__


def die(kind, msg, code):
    sys.stdout.flush()
    sys.stderr.write(f"{kind}: {msg}\n")
    sys.stderr.flush()
    os._exit(code)


def parse(argv):
    dirs, env = [], []
    i = 0
    while i < len(argv) and argv[i] != "--":
        if i + 1 >= len(argv):
            die("refused", f"{argv[i]} needs a value; {USAGE}", 2)
        flag, value = argv[i], argv[i + 1]
        i += 2
        if flag == "--dir":
            host, sep, guest = value.partition("::")
            if not sep or "::" in guest:
                die("refused", f"bad --dir {value!r} (HOST::GUEST)", 2)
            dirs.append((host, guest))
        elif flag == "--env":
            key, eq, val = value.partition("=")
            if not eq:
                die("refused", f"bad --env {value!r} (K=V)", 2)
            env.append((key, val))
        else:
            die("refused", f"unknown option {flag!r}; {USAGE}", 2)
    if i + 1 >= len(argv):
        die("refused", f"no module given; {USAGE}", 2)
    return dirs, env, argv[i + 1], argv[i + 2:]


def main():
    dirs, env, module_path, args = parse(sys.argv[1:])
    try:
        from wasmer import Instance, Module, Store, engine, wasi
        from wasmer_compiler_cranelift import Compiler
    except Exception as e:
        die("refused", f"cannot import wasmer: {one_line(e)}", 1)
    try:
        store = Store(engine.Universal(Compiler))
        with open(module_path, "rb") as f:
            module = Module(store, f.read())
    except Exception as e:
        die("refused", f"compiling {module_path}: {one_line(e)}", 1)
    try:
        builder = wasi.StateBuilder(os.path.basename(module_path))
        for a in args:
            builder = builder.argument(a)
        for k, v in env:
            builder = builder.environment(k, v)
        for host, guest in dirs:
            builder = builder.map_directory(guest, host)
        wasi_env = builder.finalize()
        version = wasi.get_version(module, strict=False)
        if version is None:
            die("refused", "the module imports no WASI namespace", 1)
        imports = wasi_env.generate_import_object(store, version)
        instance = Instance(module, imports)
    except Exception as e:
        m = EXIT_RE.match(str(e).strip())
        if m:  # proc_exit from a start function
            sys.stdout.flush()
            os._exit(int(m.group(1)) & 0xFF)
        die("refused", f"instantiating: {one_line(e)}", 1)
    start = getattr(instance.exports, "_start", None)
    if start is None:
        die("refused", "the module exports no `_start` function", 1)
    try:
        start()
    except BaseException as e:
        m = EXIT_RE.match(str(e).strip())
        if m:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(int(m.group(1)) & 0xFF)
        die("trap", one_line(e), 134)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
