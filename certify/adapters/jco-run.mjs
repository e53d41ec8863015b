// wasmcert's launcher for jco (npm @bytecodealliance/jco): runs a WASI 0.2 command component on
// Node the way `jco run` does — transpile it with jco, then import the generated ES module with
// @bytecodealliance/preview2-shim as its WASI host — but with the shim configured to grant only
// what the case grants, as jco's own `run --sandbox` setup does (jco 1.35 dist/cmd/run.js
// getSandboxSetup): no preopens but the given ones, no environment but the given variables, no
// network unless --net.
//
//   node jco-run.mjs [--v8=OPTION]... [--dir HOST::GUEST]... [--env K=V]... [--net] -- COMPONENT [ARGS...]
//
// Two processes, as `jco run` has: this one transpiles (jco's transpiler is itself wasm, so V8's
// memory and table caps must not apply to it), then runs a node child with the `--v8=` options
// (the case's caps, for the guest only) that configures the shim and runs the component. The
// runner kills the whole process group.
//   exit: the guest's status (wasi:cli/exit: 0, 1 for exit(err), or exit-with-code); 1 when
//   `wasi:cli/run#run` returns an error (as `jco run` exits); 134 with a last stderr line
//   "trap: <message>" after a trap or a host error; 1 with stderr exactly one line
//   "refused: <message>" when transpiling or instantiating fails.
//
// The jco tree is looked up in the `node_modules/` beside the `bin/` holding the node being run
// (`process.argv0`, .ci/tools/jco/bin/node; scripts/install-runtimes.sh). The generated code is
// written beside the component, in the case's work dir, which the runner removes.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { createRequire } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { writeAll, refuse, trap, prefix, parseArgs } from './js-wasi-common.mjs';

function parse(argv) {
  const v8 = [];
  let net = false;
  let child = null;
  // The shared parser (--dir HOST::GUEST, --env K=V, --, the component, its arguments) with
  // this launcher's own value-less options.
  const { dirs, env, module: component, args } = parseArgs(argv, (f) => {
    if (f === '--net') return (net = true);
    if (f.startsWith('--v8=')) return v8.push(f.slice(5)) > 0;
    if (f.startsWith('--child=')) return (child = f.slice(8)) !== null;
    return false;
  });
  return {
    dirs: dirs.map((d) => [d.guest, path.resolve(d.host)]),
    env,
    v8,
    net,
    child,
    component,
    args,
    argv,
  };
}

// jco's generated module instantiates its core modules in promises of its own: a rejection
// before the guest runs (V8 refusing a module under the memory or table cap) is a refusal,
// one after it a trap — never the launcher's own failure (status 70).
let started = false;
process.on('unhandledRejection', (e) => (started ? trap(e) : refuse(e && e.message)));

const opts = parse(process.argv.slice(2));
const root = prefix();
const requireHere = createRequire(path.join(root, 'package.json'));
let jcoApi;
let shimDir;
try {
  jcoApi = requireHere.resolve('@bytecodealliance/jco');
} catch {
  refuse(`@bytecodealliance/jco not found under ${root}/node_modules: run scripts/install-runtimes.sh and pass --runtime-path .ci/tools/jco/bin/node`);
}
try {
  // The shim jco itself resolves (`jco run` links the same one into its output).
  const requireFromJco = createRequire(jcoApi);
  shimDir = fs.realpathSync(path.dirname(path.dirname(path.dirname(requireFromJco.resolve('@bytecodealliance/preview2-shim')))));
} catch (e) {
  refuse(`@bytecodealliance/preview2-shim not found beside jco: ${e && e.message}`);
}

// Beside the component (`bin/module.jco/`): the runner counts `bin/module.*` as its own
// artifacts, not as host state the guest changed.
const out = opts.child ?? path.join(path.dirname(path.resolve(opts.component)),
  `${path.basename(opts.component).replace(/\.wasm$/, '')}.jco`);
const name = 'component';

if (opts.child === null) {
  const { transpile } = await import(pathToFileURL(jcoApi).href);
  try {
    const { files } = await transpile(fs.readFileSync(opts.component), {
      name,
      quiet: true,
      noTypescript: true,
      wasiShim: true,
    });
    for (const [file, bytes] of Object.entries(files)) {
      const dest = path.join(out, file);
      if (!dest.startsWith(out + path.sep)) refuse(`jco wrote outside its output: ${file}`);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, bytes);
    }
    fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify({ type: 'module' }));
    fs.mkdirSync(path.join(out, 'node_modules', '@bytecodealliance'), { recursive: true });
    fs.symlinkSync(shimDir, path.join(out, 'node_modules', '@bytecodealliance', 'preview2-shim'), 'dir');
  } catch (e) {
    refuse(`jco transpile: ${e && e.message}`);
  }
  // The guest's process: the same arguments, its V8 options, and where the code is.
  const rest = opts.argv.filter((a) => !a.startsWith('--v8='));
  // Through the same `bin/node` (a symlink beside node_modules/), so the child finds jco too.
  const node = process.argv0.includes('/') ? process.argv0 : process.execPath;
  const child = spawn(node, ['--no-warnings', ...opts.v8, fileURLToPath(import.meta.url), `--child=${out}`, ...rest], {
    stdio: 'inherit',
  });
  child.on('error', (e) => refuse(`starting node: ${e.message}`));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  // The same module instances the generated code imports (Node resolves the symlink above to
  // `shimDir`), configured before the component is instantiated.
  const shim = (m) => import(pathToFileURL(path.join(shimDir, 'dist', 'nodejs', `${m}.js`)).href);
  const cli = await shim('cli');
  const filesystem = await shim('filesystem');
  const sockets = await shim('sockets');
  cli._setEnv(opts.env);
  cli._setArgs([path.basename(opts.component), ...opts.args]);
  cli._setCwd(undefined);
  filesystem._setPreopens({});
  for (const [guest, host] of opts.dirs) filesystem._addPreopen(guest, host);
  if (!opts.net) {
    sockets._denyDnsLookup();
    sockets._denyTcp();
    sockets._denyUdp();
  }

  let mod;
  try {
    mod = await import(pathToFileURL(path.join(out, `${name}.js`)).href);
  } catch (e) {
    // Compiling or instantiating the core modules, or linking the shim, before the guest runs.
    refuse(e && e.message);
  }
  if (!mod.run || !mod.run.run) refuse('not a wasi:cli/command component (no wasi:cli/run export)');
  started = true;
  try {
    await mod.run.run();
  } catch (e) {
    // `wasi:cli/run#run` returned `err`: jco's ComponentError, status 1 as `jco run` exits.
    if (e && e.name === 'ComponentError') {
      process.exit(1);
    }
    trap(e);
  }
  // Let the shim's stdout and stderr drain (as `jco run` does), then exit 0.
  await new Promise((resolve) => setTimeout(resolve));
  writeAll(1, Buffer.alloc(0));
  process.exit(0);
}
