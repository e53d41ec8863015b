// Shared by wasmcert's launchers for WASI implementations written in JavaScript
// (browser-wasi-shim.mjs, wasm-util.mjs, wasi-js.mjs, wasmer-wasi.mjs): argument parsing, finding
// the package, reporting, and mapping a preopened host directory into an in-memory filesystem
// and back.
//
// Every launcher takes the same arguments and keeps the same exit contract as node-wasi.mjs:
//   node LAUNCHER [--dir HOST::GUEST[::ro-files]]... [--env K=V]... -- MODULE [ARGS...]
//   exit: the guest's status; 134 with a last stderr line "trap: <message>" after a trap; 1 with
//   stderr exactly one line "refused: <message>" when compilation or instantiation fails.
//
// The package is looked up in the `node_modules/` beside the `bin/` that holds the node being
// run (`process.argv0`), the way a venv's `bin/python` finds its packages: the adapters run
// `--runtime-path .ci/tools/<name>/bin/node` (a symlink to node; scripts/install-runtimes.sh).
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

// A failure of the launcher itself (not of the guest): one line, status 70, never the minified
// source line node prints for an uncaught error (450 kB for @wasmer/wasi).
process.on('uncaughtException', (e) => {
  writeAll(2, Buffer.from(`launcher error: ${firstLine(e && e.message)}\n`));
  process.exit(70);
});

/** Write bytes to a host fd, synchronously and completely. */
export function writeAll(fd, bytes) {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += fs.writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') return;
    }
  }
}

export function refuse(msg) {
  writeAll(2, Buffer.from(`refused: ${oneLine(msg)}\n`));
  process.exit(1);
}

/** A trap: the runtime's message as the last stderr line, exit 134. */
export function trap(e) {
  const msg = e && typeof e === 'object' && 'message' in e ? `${e.message}` : `${e}`;
  writeAll(2, Buffer.from(`trap: ${firstLine(msg)}\n`));
  process.exit(134);
}

/** The first line of a message (wasm-bindgen errors carry the JS stack after it). */
function firstLine(s) {
  return `${s}`.split('\n')[0].trim();
}

function oneLine(s) {
  return `${s}`.replace(/\s*\n\s*/g, ' | ').trim();
}

// `own(name)`: a launcher's own value-less options (`--net`, `--v8=...`); true when it took
// the option.
export function parseArgs(argv = process.argv.slice(2), own = () => false) {
  const dirs = [];
  const env = {};
  let i = 0;
  for (; i < argv.length && argv[i] !== '--'; i++) {
    if (own(argv[i])) continue;
    const flag = argv[i];
    const value = argv[++i];
    if (value === undefined) refuse(`${flag} needs a value`);
    if (flag === '--dir') {
      const parts = value.split('::');
      const [host, guest, mode = 'rw'] = parts;
      if (parts.length < 2 || parts.length > 3 || !['rw', 'ro-files'].includes(mode)) {
        refuse(`bad --dir ${JSON.stringify(value)} (HOST::GUEST[::ro-files])`);
      }
      dirs.push({ host, guest, mode });
    } else if (flag === '--env') {
      const eq = value.indexOf('=');
      if (eq < 0) refuse(`bad --env ${JSON.stringify(value)} (K=V)`);
      env[value.slice(0, eq)] = value.slice(eq + 1);
    } else {
      refuse(`unknown option ${JSON.stringify(flag)}`);
    }
  }
  const [module, ...args] = argv.slice(i + 1);
  if (!module) refuse('no module given');
  return { dirs, env, module, args };
}

/** The install prefix: `<prefix>/bin/node` is what runs this launcher. */
export function prefix() {
  return path.dirname(path.dirname(process.argv0));
}

/** Import `name` from `<prefix>/node_modules`, or refuse with how to install it. */
export async function importPackage(name) {
  const require = createRequire(path.join(prefix(), 'package.json'));
  let resolved;
  try {
    resolved = require.resolve(name);
  } catch {
    refuse(`package ${name} not found under ${prefix()}/node_modules: run scripts/install-runtimes.sh and pass --runtime-path .ci/tools/<name>/bin/node`);
  }
  return import(pathToFileURL(resolved).href);
}

/** The runner's stdin (a pipe, or /dev/null), whole. */
export function readStdin() {
  try {
    return new Uint8Array(fs.readFileSync(0));
  } catch {
    return new Uint8Array(0);
  }
}

export async function compile(file) {
  try {
    return await WebAssembly.compile(fs.readFileSync(file));
  } catch (e) {
    refuse(e && e.message);
  }
}

// --- In-memory filesystems -------------------------------------------------------------------
//
// A tree is { kind: 'dir', entries: Map<name, node> } with file nodes
// { kind: 'file', data: Uint8Array, id } (`id`: the implementation's inode object, so that hard
// links made by the guest are written back as hard links).
//
// What is imported: regular files and directories below the preopen, read without following
// any link. Symbolic links and special files are NOT imported: the in-memory models have no
// symbolic links, and following one while importing would copy the file it names (possibly
// outside the preopen) into the guest's view, an escape made by the launcher. So a planted link
// is simply absent from the guest's view.

/** Read `root` (a real directory) into a tree. `hostIds` maps each imported file node to its
 *  host (dev, ino) and content, for the write-back. */
export function importTree(root) {
  const hostIds = new Map();
  const walk = (dir) => {
    const entries = new Map();
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      const st = fs.lstatSync(p);
      if (st.isDirectory()) {
        entries.set(name, walk(p));
      } else if (st.isFile()) {
        const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
        let data;
        try {
          data = new Uint8Array(fs.readFileSync(fd));
        } finally {
          fs.closeSync(fd);
        }
        const node = { kind: 'file', data };
        hostIds.set(node, { key: `${st.dev}:${st.ino}`, data: data.slice() });
        entries.set(name, node);
      }
    }
    return { kind: 'dir', entries };
  };
  const st = fs.lstatSync(root);
  if (!st.isDirectory()) refuse(`preopen ${root} is not a directory`);
  return { tree: walk(root), hostIds };
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Make `p` a real directory (never following a link there). */
function ensureDir(p) {
  let st = null;
  try {
    st = fs.lstatSync(p);
  } catch {}
  if (st && st.isDirectory()) return;
  if (st) fs.rmSync(p, { force: true });
  fs.mkdirSync(p);
}

/** Write the guest's final view `after` back onto the host directory `root`, which held
 *  `before` when imported (`importTree`). Entries the guest removed are removed; files whose
 *  content changed are rewritten in place (O_NOFOLLOW: a planted link at that name is replaced,
 *  never written through); new entries are created; a file the guest linked under several names
 *  becomes one host inode with several links. Entries that were never imported (links, special
 *  files) are left alone unless the guest created something under the same name. `linked` is
 *  shared between the preopens of one run (links can cross preopens). */
export function writeBack(root, before, after, linked = new Map()) {
  const sync = (dir, b, a) => {
    for (const [name, old] of b.entries) {
      if (!a.entries.has(name)) {
        const p = path.join(dir, name);
        let st = null;
        try {
          st = fs.lstatSync(p);
        } catch {}
        if (st && ((old.kind === 'dir' && st.isDirectory()) || (old.kind === 'file' && st.isFile()))) {
          fs.rmSync(p, { recursive: true, force: true });
        }
      }
    }
    for (const [name, node] of a.entries) {
      const p = path.join(dir, name);
      if (node.kind === 'dir') {
        const prev = b.entries.get(name);
        ensureDir(p);
        sync(p, prev && prev.kind === 'dir' ? prev : { entries: new Map() }, node);
        continue;
      }
      let st = null;
      try {
        st = fs.lstatSync(p);
      } catch {}
      const first = linked.get(node.id);
      if (first !== undefined) {
        // Another name of an inode already written: a hard link.
        const fst = fs.lstatSync(first);
        if (st && st.isFile() && st.ino === fst.ino && st.dev === fst.dev) continue;
        if (st) fs.rmSync(p, { recursive: true, force: true });
        fs.linkSync(first, p);
        continue;
      }
      linked.set(node.id, p);
      const prev = b.entries.get(name);
      const orig = prev && prev.kind === 'file' ? before.hostIds.get(prev) : undefined;
      if (orig && st && st.isFile() && `${st.dev}:${st.ino}` === orig.key && sameBytes(orig.data, node.data)) {
        continue; // unchanged
      }
      if (st && !st.isFile()) fs.rmSync(p, { recursive: true, force: true });
      const fd = fs.openSync(
        p,
        fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW,
        0o644,
      );
      try {
        writeAll(fd, node.data);
      } finally {
        fs.closeSync(fd);
      }
    }
  };
  sync(root, before.tree, after);
}
