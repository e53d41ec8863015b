;; Divides 1 by 0 (the divisor from a global, so no engine folds it).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "before trap\n")
  (global $zero (mut i32) (i32.const 0))
  (func $say (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 12))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (call $say)
    (drop (i32.div_u (i32.const 1) (global.get $zero))))
)
