"""Launcher for wasmcert's `wasmer-sdk` adapter: runs a WASI preview1 command in a sandbox of the
Wasmer SDK for Python (PyPI `wasmer-sdk`), run by the python of the venv holding it
(scripts/install-runtimes.sh: .ci/tools/wasmer-sdk-py/).

Usage: python wasmer-sdk.py [--env K=V]... [--timeout-ms N] -- MODULE [ARGS...]

Drives the package the way its README does for a raw WASI module:
`Wasmer(cache_root=...)`, `packages.load(module bytes)`, `sandboxes.create(packages=[pkg],
env=...)`, `sandbox.command(pkg, args).spawn(stdin="pipe", timeout=...)`. The sandbox
has its own in-memory filesystem (files may only be placed under `/workspace`) and gives every
command the preopens `/`, `.` and `/`: a host directory cannot be preopened, at any guest path,
so the adapter declares no `dir` and every case with a preopen is not-supported. The package
cache is a fresh temporary directory per run (the runner clears HOME).

Exit: the guest's exit status (Output.exit_code, reason "exited"); 134 with "trap: ..." as the
last line of stderr when the command fails with the SDK's "command execution failed: ..." error
(a wasm trap), or ends by the SDK's own timeout (reason "timeout"); 1 with stderr exactly one
line "refused: ..." when the package cannot be made from the module, the sandbox cannot be
created or the instance cannot be linked ("unable to spawn the command: Failed to create the
instance"). Stdout and stderr are the command's, streamed as it writes them (`spawn`, not `run`,
which drops the output written before a trap).
"""

import asyncio
import os
import shutil
import sys
import tempfile

# The launchers are materialised together in one directory: never import one of them (or
# anything else there) instead of the package.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

USAGE = "usage: wasmer-sdk.py [--env K=V] [--timeout-ms N] -- MODULE [ARGS...]"


def one_line(e):
    text = " | ".join(line.strip() for line in str(e).splitlines() if line.strip())
    return text or type(e).__name__


def write(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def die(kind, msg, code, cache=None):
    write(2, f"{kind}: {msg}\n".encode())
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
    os._exit(code)


def parse(argv):
    env, timeout_ms = {}, None
    i = 0
    while i < len(argv) and argv[i] != "--":
        if i + 1 >= len(argv):
            die("refused", f"{argv[i]} needs a value; {USAGE}", 2)
        flag, value = argv[i], argv[i + 1]
        i += 2
        if flag == "--env":
            key, eq, val = value.partition("=")
            if not eq:
                die("refused", f"bad --env {value!r} (K=V)", 2)
            env[key] = val
        elif flag == "--timeout-ms":
            try:
                timeout_ms = int(value)
            except ValueError:
                die("refused", f"--timeout-ms takes an integer, got {value!r}", 2)
        else:
            die("refused", f"unknown option {flag!r}; {USAGE}", 2)
    if i + 1 >= len(argv):
        die("refused", f"no module given; {USAGE}", 2)
    return env, timeout_ms, argv[i + 1], argv[i + 2:]


async def run(env, timeout_ms, module_path, args, stdin, cache):
    from wasmer_sdk import ExitReason, Wasmer, WasmerError

    async with Wasmer(cache_root=cache) as wasmer:
        try:
            with open(module_path, "rb") as f:
                pkg = await wasmer.packages.load(f.read())
            sandbox = await wasmer.sandboxes.create(packages=[pkg], env=env)
        except WasmerError as e:
            die("refused", f"{e.code}: {one_line(e)}", 1, cache)
        async with sandbox:
            timeout = None if timeout_ms is None else timeout_ms / 1000.0
            try:
                # spawn, not run: run() loses the output written before a trap.
                proc = await sandbox.command(pkg, args).spawn(stdin="pipe", timeout=timeout)
            except WasmerError as e:
                fail(e, cache)

            async def feed():
                # A guest that exits without reading its stdin breaks the pipe: not an error.
                try:
                    if stdin:
                        await proc.stdin.write(stdin)
                    await proc.stdin.close()
                except WasmerError:
                    pass

            async def drain(stream, fd):
                async for chunk in stream:
                    write(fd, chunk)

            feeder = asyncio.ensure_future(feed())
            drains = asyncio.gather(
                drain(proc.stdout, 1), drain(proc.stderr, 2), return_exceptions=True
            )
            error = None
            try:
                out = await proc.wait()
            except WasmerError as e:
                error = e
            # The streams end with the command; after the SDK's timeout they may never end (the
            # guest still runs): keep what arrived within a second.
            try:
                results = await asyncio.wait_for(asyncio.shield(drains), 1.0)
            except asyncio.TimeoutError:
                results = []
            feeder.cancel()
            for r in results:
                if isinstance(r, WasmerError) and error is None:
                    error = r
                elif isinstance(r, BaseException) and not isinstance(r, WasmerError):
                    raise r
            if error is not None:
                fail(error, cache)
    if out.reason is ExitReason.TIMEOUT:
        # The sandbox and the client are closed by now, as an embedder would close them. The
        # SDK reports the timeout but does not interrupt running wasm code: a guest in a loop
        # keeps running on a background thread. Exit only once no thread is runnable, so that
        # such a guest is seen for what it is (the runner's deadline kills it: `timeout`),
        # while a guest that stopped (or sleeps in a host call) is a trap at the SDK's deadline.
        wait_until_idle()
        die("trap", f"process timed out after {timeout_ms} ms (the SDK's timeout)", 134, cache)
    if out.reason is not ExitReason.EXITED:
        die("trap", f"the command ended without an exit status ({out.reason.value})", 134, cache)
    return out.exit_code


def wait_until_idle(samples=6, every=0.05):
    """Return once no other thread of this process has been runnable for `samples` samples in
    a row. A guest still executing is a thread in state R (running or runnable, even when the
    machine is busy); idle runtime threads sleep (S). Linux /proc only."""
    import threading
    import time

    me = str(threading.get_native_id())
    quiet = 0
    while quiet < samples:
        busy = False
        try:
            tasks = os.listdir("/proc/self/task")
        except OSError:
            return
        for tid in tasks:
            if tid == me:
                continue
            try:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    # "tid (comm) S ...": the state follows the last ')'.
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            busy = busy or state == "R"
        quiet = 0 if busy else quiet + 1
        time.sleep(every)


def fail(e, cache):
    """The SDK failed the command: a link failure before the guest ran is a refusal ("command
    execution failed: unable to spawn the command: Failed to create the instance - Error while
    importing ..."), anything else ("command execution failed: RuntimeError: unreachable ...")
    a trap. These are the SDK's exception messages, never guest output."""
    msg = one_line(e)
    if "unable to spawn the command: Failed to create the instance" in msg:
        die("refused", f"{e.code}: {msg}", 1, cache)
    die("trap", f"{e.code}: {msg}", 134, cache)


def main():
    env, timeout_ms, module_path, args = parse(sys.argv[1:])
    try:
        import wasmer_sdk  # noqa: F401
    except Exception as e:
        die("refused", f"cannot import wasmer_sdk: {one_line(e)}", 1)
    try:
        stdin = sys.stdin.buffer.read()
    except Exception:
        stdin = b""
    cache = tempfile.mkdtemp(prefix="wasmer-sdk-cache-")
    code = asyncio.run(run(env, timeout_ms, module_path, args, stdin, cache))
    shutil.rmtree(cache, ignore_errors=True)
    os._exit(code & 0xFF)


if __name__ == "__main__":
    main()
