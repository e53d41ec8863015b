"""Launcher for wasmcert's `pywasm` adapter: runs a WASI preview1 command with pywasm (PyPI
`pywasm`, a WebAssembly interpreter in pure Python, and its `pywasm.wasi.Preview1`), run by the
python of the venv holding it (scripts/install-runtimes.sh: .ci/tools/pywasm/).

Usage: python pywasm-wasi.py [--dir HOST::GUEST]... [--env K=V]... -- MODULE [ARGS...]

Drives the package the way its own `python -m pywasm --wasi preview1` and upstream
wasi-testsuite's `tools/run-pywasm` do: `Preview1(args, {guest: host}, envs)`, `bind(runtime)`,
`runtime.instance_from_file`, `wasi.main`. Stdio are the process's own fds 0, 1, 2.

Exit: the guest's proc_exit status (0 when _start returns); 134 with "trap: ..." as the last line
of stderr when `_start` raises anything else (pywasm reports wasm traps, and its own failures
inside a host call, as Python exceptions); 1 with stderr exactly one line "refused: ..." when the
module cannot be loaded, linked or instantiated.
"""

import os
import sys

# The launchers are materialised together in one directory: never import one of them (or
# anything else there) instead of the package.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

USAGE = "usage: pywasm-wasi.py [--dir HOST::GUEST] [--env K=V] -- MODULE [ARGS...]"


def one_line(e):
    text = " | ".join(line.strip() for line in str(e).splitlines() if line.strip())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def die(kind, msg, code):
    sys.stdout.flush()
    sys.stderr.write(f"{kind}: {msg}\n")
    sys.stderr.flush()
    os._exit(code)


def parse(argv):
    dirs, env = {}, {}
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
            dirs[guest] = host
        elif flag == "--env":
            key, eq, val = value.partition("=")
            if not eq:
                die("refused", f"bad --env {value!r} (K=V)", 2)
            env[key] = val
        else:
            die("refused", f"unknown option {flag!r}; {USAGE}", 2)
    if i + 1 >= len(argv):
        die("refused", f"no module given; {USAGE}", 2)
    return dirs, env, argv[i + 1], argv[i + 2:]


def main():
    dirs, env, module, args = parse(sys.argv[1:])
    try:
        import pywasm
        import pywasm.wasi
    except Exception as e:
        die("refused", f"cannot import pywasm: {one_line(e)}", 1)
    try:
        runtime = pywasm.core.Runtime()
        wasi = pywasm.wasi.Preview1([os.path.basename(module)] + args, dirs, env)
        wasi.bind(runtime)
    except Exception as e:
        die("refused", f"setting up WASI: {one_line(e)}", 1)
    try:
        instance = runtime.instance_from_file(module)
    except Exception as e:
        # Decoding, linking and the start function (a trap there is reported here too).
        die("refused", f"instantiating: {one_line(e)}", 1)
    try:
        code = wasi.main(runtime, instance)
    except BaseException as e:  # RecursionError, MemoryError, ... are traps of the guest too
        die("trap", one_line(e), 134)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code & 0xFF if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
