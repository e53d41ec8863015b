#!/usr/bin/env python3
"""gen-large-wasm.py: write a large, valid core WebAssembly module for benchmarks.

The module looks like a compiled WASI command: a few wasi_snapshot_preview1 imports,
a memory, a funcref table with an element segment, globals (a stack pointer and
friends), data segments, exports, and many functions with realistic bodies (locals,
loads/stores, integer and float arithmetic, if/else, blocks, loops with br_if,
direct calls, call_indirect, WASI calls). The encoding is written by hand here
(LEB128, sections); stdlib only, deterministic for a given --seed.

To keep generation fast, a pool of distinct random bodies is generated once and the
code section cycles through it until it reaches the requested size.

    scripts/gen-large-wasm.py --size-mb 32 --out big.wasm [--seed 1]
    scripts/gen-large-wasm.py --size-mb 8 --dwarf-mb 92 --out dwarf.wasm

--size-mb is the size of everything but the DWARF (at least 1024 functions, so never
below ~0.7 MB); --dwarf-mb N appends a `.debug_info`
custom section of N MB (so the file is about size-mb + dwarf-mb MB).
Check the result with: .ci/tools/bin/wasm-tools validate FILE
"""
import argparse
import random
import struct
import sys

MB = 1 << 20
I32, I64, F64 = 0x7F, 0x7E, 0x7C


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def name(s):
    b = s.encode()
    return uleb(len(b)) + b


def vec(items):
    return uleb(len(items)) + b"".join(items)


def section(sid, payload):
    return bytes([sid]) + uleb(len(payload)) + payload


def functype(params, results):
    return b"\x60" + vec([bytes([p]) for p in params]) + vec([bytes([r]) for r in results])


# Types. Defined function i has type DEF_TYPES[i % len(DEF_TYPES)].
TYPES = [
    ([I32, I32], [I32]),        # 0  binary helper
    ([I32], []),                # 1  consumer
    ([], []),                   # 2  void thunk (call_indirect target, _start)
    ([I32, I64], [I64]),        # 3  64-bit math
    ([F64, F64], [F64]),        # 4  float math
    ([I32, I32, I32, I32], [I32]),  # 5  fd_write-shaped
    ([I32, I64, I32], [I32]),   # 6  clock_time_get
]
DEF_TYPES = [0, 1, 2, 3, 4]
WASI = [  # (name, type index)
    ("fd_write", 5), ("proc_exit", 1), ("args_sizes_get", 0),
    ("clock_time_get", 6), ("random_get", 0),
]
NIMP = len(WASI)
MEM_PAGES = 32                    # 2 MiB; every generated address stays below 1 MiB
GLOBALS = [(I32, True, 1 << 20), (I32, True, 0), (I64, True, 0), (I32, False, 4096), (F64, True, 0)]
GLOBAL_OF = {I32: [0, 1, 3], I64: [2], F64: [4]}
MUT_GLOBALS = [(0, I32), (1, I32), (2, I64), (4, F64)]
LOAD = {I32: (0x28, 2), I64: (0x29, 3), F64: (0x2B, 3)}
STORE = {I32: (0x36, 2), I64: (0x37, 3), F64: (0x39, 3)}
CONST = {I32: 0x41, I64: 0x42, F64: 0x44}
BINOPS = {I32: [0x6A, 0x6B, 0x6C, 0x71, 0x72, 0x73, 0x74, 0x76],  # add sub mul and or xor shl shr_u
          I64: [0x7C, 0x7D, 0x7E, 0x83, 0x84, 0x85, 0x86, 0x88],
          F64: [0xA0, 0xA1, 0xA2, 0xA4, 0xA5]}                     # add sub mul min max
CMPS = {I32: [0x46, 0x47, 0x48, 0x4B, 0x4C], I64: [0x51, 0x52, 0x53, 0x56], F64: [0x61, 0x63, 0x64]}


class Body:
    """Random, well-typed function body for a defined function of type `t`."""

    def __init__(self, rng, t, callees):
        self.r, self.callees = rng, callees
        params, self.results = TYPES[t]
        extra = [rng.choice([I32, I32, I32, I64, F64]) for _ in range(rng.randint(2, 8))]
        self.locals = list(params) + extra
        self.extra = extra
        self.out = bytearray()
        self.depth = 0

    def locals_of(self, ty):
        return [i for i, l in enumerate(self.locals) if l == ty]

    def const(self, ty):
        o = self.out
        o.append(CONST[ty])
        if ty == F64:
            o += struct.pack("<d", self.r.uniform(-1e6, 1e6))
        else:
            o += sleb(self.r.randint(-5000, 70000))

    def addr(self):
        # (i32.and <i32 expr> 0xFFFF0) keeps addresses inside the first MiB, aligned.
        self.expr(I32, 1)
        self.out += b"\x41" + sleb(0xFFFF0) + b"\x71"

    def call(self, t):
        params, _ = TYPES[t]
        for p in params:
            self.expr(p, 2)
        self.out += b"\x10" + uleb(NIMP + self.r.choice(self.callees[t]))

    def expr(self, ty, depth):
        r, o = self.r, self.out
        leaf = depth >= 3 or r.random() < 0.25 + 0.2 * depth  # keep trees compiler-sized
        k = r.randrange(2) if leaf else r.randrange(2, 10)
        locs = self.locals_of(ty)
        if k == 0 or (k == 1 and not locs):
            self.const(ty)
        elif k == 1:
            o += b"\x20" + uleb(r.choice(locs))
        elif k in (2, 3, 4):
            self.expr(ty, depth + 1)
            self.expr(ty, depth + 1)
            o.append(r.choice(BINOPS[ty]))
        elif k == 5:
            self.addr()
            op, align = LOAD[ty]
            o += bytes([op]) + uleb(align) + uleb(r.randrange(0, 4096, 8))
        elif k == 6:
            o += b"\x23" + uleb(r.choice(GLOBAL_OF[ty]))
        elif k == 7 and ty == I32:
            cty = r.choice([I32, I64, F64])
            self.expr(cty, depth + 1)
            self.expr(cty, depth + 1)
            o.append(r.choice(CMPS[cty]))
        elif k == 7:  # conversions into i64 / f64
            self.expr(I32, depth + 1)
            o.append(0xAD if ty == I64 else 0xB7)  # i64.extend_i32_u / f64.convert_i32_s
        elif k == 8:
            t = {I32: 0, I64: 3, F64: 4}[ty]
            self.call(t)
        else:  # select
            self.expr(ty, depth + 1)
            self.expr(ty, depth + 1)
            self.expr(I32, depth + 1)
            o.append(0x1B)

    def stmt(self):
        r, o = self.r, self.out
        k = r.randrange(12) if self.depth < 2 else r.randrange(6)
        if k in (0, 1):  # local.set
            i = r.randrange(len(self.locals))
            self.expr(self.locals[i], 0)
            o += b"\x21" + uleb(i)
        elif k == 2:  # store
            ty = r.choice([I32, I32, I64, F64])
            self.addr()
            self.expr(ty, 1)
            op, align = STORE[ty]
            o += bytes([op]) + uleb(align) + uleb(r.randrange(0, 4096, 8))
        elif k == 3:  # global.set
            g, ty = r.choice(MUT_GLOBALS)
            self.expr(ty, 1)
            o += b"\x24" + uleb(g)
        elif k == 4:  # call a void function, or drop a result
            t = r.choice([1, 2, 0, 3])
            self.call(t)
            if TYPES[t][1]:
                o.append(0x1A)
        elif k == 5:  # call_indirect () -> () through the table
            self.expr(I32, 2)
            o += b"\x41" + sleb(1023) + b"\x71"  # index & 1023 (the table has >= 1024 slots)
            o += b"\x11" + uleb(2) + b"\x00"
        elif k in (6, 7):  # if / else
            self.expr(I32, 1)
            o += b"\x04\x40"
            self.block(1, 4)
            if r.random() < 0.6:
                o.append(0x05)
                self.block(1, 3)
            o.append(0x0B)
        elif k == 8:  # block with an early exit
            o += b"\x02\x40"
            self.block(1, 3)
            self.expr(I32, 1)
            o += b"\x0D\x00"  # br_if 0
            self.block(1, 3)
            o.append(0x0B)
        elif k in (9, 10):  # counted loop over an i32 local
            c = r.choice(self.locals_of(I32) or [None])
            if c is None:
                return self.stmt()
            o += b"\x41" + sleb(r.randint(4, 256)) + b"\x21" + uleb(c)
            o += b"\x03\x40"
            self.block(2, 5)
            o += b"\x20" + uleb(c) + b"\x41\x01\x6B\x22" + uleb(c)  # local.tee (c - 1)
            o += b"\x0D\x00\x0B"  # br_if 0; end
        else:  # WASI: fd_write(1, iov, 1, nwritten) or random_get(buf, len)
            if r.random() < 0.5:
                o += b"\x41\x01\x41" + sleb(r.randrange(0, 4096, 8)) + b"\x41\x01\x41" + sleb(64)
                o += b"\x10" + uleb(0)
            else:
                o += b"\x41" + sleb(r.randrange(0, 4096, 8)) + b"\x41" + sleb(32) + b"\x10" + uleb(4)
            o.append(0x1A)

    def block(self, lo, hi):
        self.depth += 1
        for _ in range(self.r.randint(lo, hi)):
            self.stmt()
        self.depth -= 1

    def encode(self, nstmts):
        for _ in range(nstmts):
            self.stmt()
        for ty in self.results:
            self.expr(ty, 0)
        self.out.append(0x0B)
        # Locals: group consecutive equal types, as compilers do.
        groups = []
        for ty in self.extra:
            if groups and groups[-1][1] == ty:
                groups[-1][0] += 1
            else:
                groups.append([1, ty])
        code = vec([uleb(n) + bytes([ty]) for n, ty in groups]) + bytes(self.out)
        return uleb(len(code)) + code


def build(size, dwarf, seed, pool):
    rng = random.Random(seed)
    code_target = max(size - 64 * 1024, 4096)
    # Pool of distinct bodies; defined function i uses pool[i % pool]. Calls only target
    # the first `pool` defined functions, which always exist.
    pool = max(len(DEF_TYPES), pool - pool % len(DEF_TYPES))
    callees = {t: [i for i in range(pool) if DEF_TYPES[i % len(DEF_TYPES)] == t] for t in DEF_TYPES}
    bodies = [Body(rng, DEF_TYPES[i % len(DEF_TYPES)], callees).encode(rng.randint(3, 14))
              for i in range(pool)]
    chunks, total, n = [], 0, 0
    while total < code_target or n < max(pool, 1024):
        b = bodies[n % pool]
        chunks.append(b)
        total += len(b)
        n += 1

    types = section(1, vec([functype(p, r) for p, r in TYPES]))
    imports = section(2, vec([name("wasi_snapshot_preview1") + name(f) + b"\x00" + uleb(t)
                              for f, t in WASI]))
    funcs = section(3, uleb(n) + b"".join(uleb(DEF_TYPES[i % len(DEF_TYPES)]) for i in range(n)))
    nelem = min(n, 4096)
    table = section(4, vec([b"\x70\x01" + uleb(nelem) + uleb(nelem)]))
    memory = section(5, vec([b"\x01" + uleb(MEM_PAGES) + uleb(MEM_PAGES * 4)]))
    glob = []
    for ty, mut, init in GLOBALS:
        ini = struct.pack("<d", float(init)) if ty == F64 else sleb(init)
        glob.append(bytes([ty, int(mut), CONST[ty]]) + ini + b"\x0B")
    globals_ = section(6, vec(glob))
    start_idx = NIMP + 2  # defined function 2 has type () -> ()
    exports = section(7, vec([name("memory") + b"\x02\x00", name("_start") + b"\x00" + uleb(start_idx),
                              name("__stack_pointer") + b"\x03\x00"]))
    # Element segment: table[1..nelem) = defined functions 0..nelem-1 (slot 0 stays null).
    elems = section(9, vec([b"\x00\x41\x01\x0B" + vec([uleb(NIMP + i) for i in range(nelem - 1)])]))
    code = section(10, uleb(n) + b"".join(chunks))
    segs = []
    for i in range(8):
        text = (f"wasmcert benchmark data segment {i}: " * 40).encode()
        blob = text + bytes(rng.getrandbits(8) for _ in range(2048))
        segs.append(b"\x00\x41" + sleb(4096 + i * 8192) + b"\x0B" + vec([bytes([c]) for c in blob]))
    data = section(11, vec(segs))
    producers = section(0, name("producers") + vec([
        name("language") + vec([name("Rust") + name("")]),
        name("processed-by") + vec([name("rustc") + name("1.80.0"), name("gen-large-wasm.py") + name("1")]),
    ]))
    out = [b"\x00asm\x01\x00\x00\x00", types, imports, funcs, table, memory, globals_, exports,
           elems, code, data, producers]
    if dwarf:
        # A DWARF-looking .debug_info: a compile-unit header then pseudo-DIE bytes.
        unit = b"\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x04" + bytes(rng.getrandbits(8) for _ in range(4085))
        payload = (unit * (dwarf // len(unit) + 1))[:dwarf]
        nm = name(".debug_info")
        out.append(b"\x00" + uleb(len(nm) + len(payload)) + nm + payload)
    return b"".join(out), n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=float, required=True, help="size of the module without DWARF")
    ap.add_argument("--dwarf-mb", type=float, default=0, help="append a .debug_info section of N MB")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pool", type=int, default=2000, help="distinct function bodies (default 2000)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    wasm, n = build(int(a.size_mb * MB), int(a.dwarf_mb * MB), a.seed, a.pool)
    with open(a.out, "wb") as f:
        f.write(wasm)
    print(f"{a.out}: {len(wasm)} bytes, {n} functions", file=sys.stderr)


if __name__ == "__main__":
    main()
