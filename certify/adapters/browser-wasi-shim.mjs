// Launcher for wasmcert's `browser-wasi-shim` adapter: runs a WASI preview1 command with npm
// @bjorn3/browser_wasi_shim (a pure-JavaScript WASI with an in-memory filesystem) on node.
// Usage: node browser-wasi-shim.mjs [--dir HOST::GUEST[::ro-files]]... [--env K=V]... -- MODULE [ARGS...]
// Exit contract and package lookup: see js-wasi-common.mjs.
//
// The shim has no host filesystem: each preopened host directory is read into its in-memory
// model before the run (`File` / `Directory`; `::ro-files` makes the imported files
// `File(data, { readonly: true })`, the shim's one permission, in a writable directory) and the
// model is written back onto the host directory after the run, whatever the guest did: exit,
// trap. Symbolic links are not imported (the model has none; see js-wasi-common.mjs). Stdin is
// the runner's stdin, read whole before the run; stdout and stderr are written through as the
// guest writes them.
import process from 'node:process';
import * as common from './js-wasi-common.mjs';

const opts = common.parseArgs();
const shim = await common.importPackage('@bjorn3/browser_wasi_shim');
const { WASI, File, Directory, OpenFile, PreopenDirectory, ConsoleStdout } = shim;

// Host tree -> shim model, per preopen.
const toModel = (tree, readonly) => {
  const contents = new Map();
  for (const [name, node] of tree.entries) {
    contents.set(
      name,
      node.kind === 'dir' ? new Directory(toModel(node, readonly)) : new File(node.data, { readonly }),
    );
  }
  return contents;
};
// Shim model -> tree (File objects are the inode identity).
const fromModel = (contents) => {
  const entries = new Map();
  for (const [name, inode] of contents) {
    if (inode instanceof Directory) entries.set(name, { kind: 'dir', ...fromModel(inode.contents) });
    else if (inode instanceof File) entries.set(name, { kind: 'file', data: inode.data, id: inode });
  }
  return { entries };
};

const preopens = opts.dirs.map((d) => {
  const before = common.importTree(d.host);
  const dir = new PreopenDirectory(d.guest, toModel(before.tree, d.mode === 'ro-files'));
  return { d, before, dir };
});
const writeBack = () => {
  const linked = new Map();
  for (const { d, before, dir } of preopens) {
    common.writeBack(d.host, before, fromModel(dir.dir.contents), linked);
  }
};

const fds = [
  new OpenFile(new File(common.readStdin())),
  new ConsoleStdout((b) => common.writeAll(1, b)),
  new ConsoleStdout((b) => common.writeAll(2, b)),
  ...preopens.map((p) => p.dir),
];
const env = Object.entries(opts.env).map(([k, v]) => `${k}=${v}`);
// `debug: false`: the shim's constructor turns its console.log tracing on unless told otherwise
// (`debug.enable(undefined)` enables it), which would mix "wasi: ..." lines into stdout.
const wasi = new WASI(['module.wasm', ...opts.args], env, fds, { debug: false });

const module = await common.compile(opts.module);
let instance;
try {
  instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
} catch (e) {
  common.refuse(e && e.message);
}
let code;
try {
  code = wasi.start(instance);
} catch (e) {
  writeBack();
  common.trap(e);
}
writeBack();
process.exit(code >>> 0 > 255 ? code & 0xff : code);
