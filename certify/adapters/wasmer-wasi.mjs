// Launcher for wasmcert's `wasmer-wasi` adapter: runs a WASI preview1 command with npm
// @wasmer/wasi 1.x (wasmer's Rust WASI compiled to wasm with wasm-bindgen, guest run by V8) on
// node. Its filesystem is an in-memory `MemFS`; it has no host filesystem.
// Usage: node wasmer-wasi.mjs [--dir HOST::GUEST]... [--env K=V]... -- MODULE [ARGS...]
// Exit contract and package lookup: see js-wasi-common.mjs.
//
// Each preopened host directory is read into the MemFS at its guest path before the run
// (`createDir` / `open(..., { write, create })`) and preopened as `{ guest: guest }`; after the
// run, whatever the guest did, the MemFS tree under that path is written back onto the host
// directory. Symbolic links are not imported (MemFS has none; see js-wasi-common.mjs). Stdin is
// the runner's stdin, given whole (`setStdinBuffer`). The package buffers stdout and stderr in
// memory: the launcher writes them out when `start` returns or throws, so a guest that never
// ends shows no output.
import process from 'node:process';
import * as common from './js-wasi-common.mjs';

const opts = common.parseArgs();
const pkg = await common.importPackage('@wasmer/wasi');
const { init, WASI, MemFS } = pkg.init ? pkg : pkg.default;
try {
  await init();
} catch (e) {
  // The package's own wasm did not instantiate (e.g. under a V8 memory cap).
  common.refuse(`initialising @wasmer/wasi: ${e && e.message}`);
}

const memfs = new MemFS();
const join = (dir, name) => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);
const mkdirs = (p) => {
  let cur = '';
  for (const part of p.split('/').filter(Boolean)) {
    cur += `/${part}`;
    try {
      memfs.createDir(cur);
    } catch {}
  }
};
const load = (dir, tree) => {
  for (const [name, node] of tree.entries) {
    const p = join(dir, name);
    if (node.kind === 'dir') {
      memfs.createDir(p);
      load(p, node);
    } else {
      const f = memfs.open(p, { read: true, write: true, create: true, truncate: true });
      f.write(node.data);
      f.flush();
    }
  }
};
const save = (dir) => {
  const entries = new Map();
  for (const { path: p, metadata } of wasi.fs.readDir(dir)) {
    const name = p.slice(p.lastIndexOf('/') + 1);
    if (metadata.filetype.dir) {
      entries.set(name, { kind: 'dir', ...save(p) });
    } else if (metadata.filetype.file) {
      // MemFS has no hard links: every name is its own file.
      const data = wasi.fs.open(p, { read: true }).read();
      entries.set(name, { kind: 'file', data, id: {} });
    }
  }
  return { entries };
};

const preopens = opts.dirs.map((d) => {
  const before = common.importTree(d.host);
  mkdirs(d.guest);
  load(d.guest, before.tree);
  return { d, before };
});
const writeBack = () => {
  const linked = new Map();
  for (const { d, before } of preopens) common.writeBack(d.host, before, save(d.guest), linked);
};

let wasi;
try {
  wasi = new WASI({
    args: ['module.wasm', ...opts.args],
    env: opts.env,
    preopens: Object.fromEntries(opts.dirs.map((d) => [d.guest, d.guest])),
    fs: memfs,
  });
  wasi.setStdinBuffer(common.readStdin());
} catch (e) {
  common.refuse(`setting up WASI: ${e && e.message}`);
}
const module = await common.compile(opts.module);
let instance;
try {
  instance = wasi.instantiate(module, {});
} catch (e) {
  common.refuse(e && e.message);
}
const flush = () => {
  common.writeAll(1, wasi.getStdoutBuffer());
  common.writeAll(2, wasi.getStderrBuffer());
};
let code;
try {
  code = wasi.start(instance);
} catch (e) {
  flush();
  writeBack();
  common.trap(e);
}
flush();
writeBack();
process.exit(code >>> 0 > 255 ? code & 0xff : code);
