// Launcher for wasmcert's `wasi-js` adapter: runs a WASI preview1 command with npm wasi-js
// (CoWasm's pure-JavaScript WASI, a fork of @wasmer/wasi 0.12) on node, bound to the host
// filesystem through its node bindings (`wasi-js/dist/bindings/node`: node's `fs`), the way its
// README shows. Preopens are `{ guest: host }`.
// Usage: node wasi-js.mjs [--dir HOST::GUEST]... [--env K=V]... -- MODULE [ARGS...]
// Exit contract and package lookup: see js-wasi-common.mjs.
//
// Stdio are the process's own fds 0, 1, 2 (no sendStdout/getStdin hooks). The bindings' `exit`
// calls process.exit() from inside proc_exit; the launcher's throws instead, so that the exit
// status is reported the same way as every other launcher's.
import process from 'node:process';
import * as common from './js-wasi-common.mjs';

const opts = common.parseArgs();
// Both are CommonJS modules with `exports.default`.
const cjsDefault = (m) => m.default?.default ?? m.default;
const WASI = cjsDefault(await common.importPackage('wasi-js'));
const nodeBindings = cjsDefault(await common.importPackage('wasi-js/dist/bindings/node'));

class ProcExit {
  constructor(code) {
    this.code = code;
  }
}
let wasi;
try {
  wasi = new WASI({
    args: ['module.wasm', ...opts.args],
    env: opts.env,
    preopens: Object.fromEntries(opts.dirs.map((d) => [d.guest, d.host])),
    // Without a `sleep` hook wasi-js busy-waits in poll_oneoff and prints "(100% cpu burning
    // waiting for stdin: please define a way to sleep!)" to stdout; its README asks the embedder
    // for one. Atomics.wait is node's synchronous sleep.
    sleep: (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, Number(ms))),
    bindings: {
      ...nodeBindings,
      exit: (code) => {
        throw new ProcExit(code);
      },
    },
  });
} catch (e) {
  common.refuse(`setting up WASI: ${e && e.message}`);
}
const module = await common.compile(opts.module);
let instance;
try {
  instance = await WebAssembly.instantiate(module, wasi.getImports(module));
} catch (e) {
  common.refuse(e && e.message);
}
let code = 0;
try {
  wasi.start(instance);
} catch (e) {
  if (!(e instanceof ProcExit)) common.trap(e);
  code = e.code;
}
process.exit(code >>> 0 > 255 ? code & 0xff : code);
