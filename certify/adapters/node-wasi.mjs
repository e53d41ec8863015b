// Launcher for wasmcert's `node` adapter: runs a WASI preview1 command with node:wasi.
// Usage: node node-wasi.mjs [--dir HOST::GUEST]... [--env K=V]... -- MODULE [ARGS...]
// Exit: the guest's status; 134 after a trap; 1 with "refused: ..." when instantiation fails.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import process from 'node:process';

const argv = process.argv.slice(2);
const preopens = {};
const env = {};
let i = 0;
for (; i < argv.length && argv[i] !== '--'; i++) {
  if (argv[i] === '--dir') {
    const [host, guest] = argv[++i].split('::');
    preopens[guest] = host;
  } else if (argv[i] === '--env') {
    const s = argv[++i];
    const eq = s.indexOf('=');
    env[s.slice(0, eq)] = s.slice(eq + 1);
  }
}
const [module, ...args] = argv.slice(i + 1);
const wasi = new WASI({ version: 'preview1', args: ['module.wasm', ...args], env, preopens, returnOnExit: true });
let instance;
try {
  const wasm = await WebAssembly.compile(await readFile(module));
  instance = await WebAssembly.instantiate(wasm, wasi.getImportObject());
} catch (e) {
  process.stderr.write(`refused: ${e && e.message}\n`);
  process.exit(1);
}
try {
  const code = wasi.start(instance);
  process.exitCode = code ?? 0;
} catch (e) {
  process.stderr.write(`trap: ${e && e.message}\n`);
  process.exit(134);
}
