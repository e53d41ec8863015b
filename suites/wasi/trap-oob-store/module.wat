;; Stores 4 bytes 2 bytes before the end of memory (65534 for the one page this module
;; declares): the last two fall past it. Measured after the write, so the pages a preview1
;; adapter adds when it runs as a component (`--world p2`) are counted.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "before trap\n")
  (func $say (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 12))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (call $say)
    (i32.store (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 2)) (i32.const 7)))
)
