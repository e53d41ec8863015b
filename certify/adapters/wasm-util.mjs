// Launcher for wasmcert's `wasm-util` adapter: runs a WASI preview1 command with the WASI
// polyfill of npm @tybys/wasm-util (the one behind napi-rs / emnapi) on node, bound to the host
// filesystem through node's `fs`, the way its README shows (`preopens: { guest: host }, fs`).
// Usage: node wasm-util.mjs [--dir HOST::GUEST]... [--env K=V]... -- MODULE [ARGS...]
// Exit contract and package lookup: see js-wasi-common.mjs.
//
// Stdin is the process's fd 0 (the polyfill's default stdio [0, 1, 2]); stdout and stderr go
// through the polyfill's `print` / `printErr` hooks, which it calls once per complete line
// (decoded as UTF-8, without the newline): the launcher writes each line back with its newline.
// A last line without a newline stays in the polyfill's buffer and is never printed; that is
// the polyfill's behaviour and is left visible.
import fs from 'node:fs';
import process from 'node:process';
import * as common from './js-wasi-common.mjs';

const opts = common.parseArgs();
const { WASI } = await common.importPackage('@tybys/wasm-util');

const line = (fd) => (s) => common.writeAll(fd, Buffer.from(`${s}\n`));
let wasi;
try {
  wasi = new WASI({
    version: 'preview1',
    args: ['module.wasm', ...opts.args],
    env: opts.env,
    preopens: Object.fromEntries(opts.dirs.map((d) => [d.guest, d.host])),
    fs,
    returnOnExit: true,
    print: line(1),
    printErr: line(2),
  });
} catch (e) {
  common.refuse(`setting up WASI: ${e && e.message}`);
}
const module = await common.compile(opts.module);
let instance;
try {
  instance = await WebAssembly.instantiate(module, wasi.getImportObject());
} catch (e) {
  common.refuse(e && e.message);
}
let code;
try {
  code = wasi.start(instance);
} catch (e) {
  common.trap(e);
}
process.exit(code >>> 0 > 255 ? code & 0xff : code);
