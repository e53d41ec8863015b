;; fd_write(1, iovs, n, 1016) with iovs = 65532 (n=1), 65536 (n=1), 0xfffffff0 (n=1),
;; 0xfffffff8 (n=2) on a 1-page (65536-byte) memory; prints each errno.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "start\n\00")
  (data (i32.const 128) "iovs=65532 errno=\00")
  (data (i32.const 192) "iovs=65536 errno=\00")
  (data (i32.const 256) "iovs=0xfffffff0 errno=\00")
  (data (i32.const 320) "iovs=0xfffffff8 n=2 errno=\00")
  (data (i32.const 384) "done\n\00")
  ;; ------------------------------------------------------------------ helpers
  ;; Memory 0..63 is the helpers' scratch: iovec at 0, nwritten at 8, decimal
  ;; digits built backwards in 16..39, prestat at 40..47, "\n" at 48,
  ;; " errno=" at 50.
  (data (i32.const 48) "\n\00 errno=\00")
  ;; write len bytes at ptr to stdout (fd 1)
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  ;; write a NUL-terminated string
  (func $puts (param $s i32)
    (local $n i32)
    (block $end
      (loop $scan
        (br_if $end (i32.eqz (i32.load8_u (i32.add (local.get $s) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $scan)))
    (call $print (local.get $s) (local.get $n)))
  (func $nl (call $print (i32.const 48) (i32.const 1)))
  ;; write a signed 64-bit integer in decimal
  (func $print_i64 (param $v i64)
    (local $p i32) (local $u i64)
    (local.set $p (i32.const 40))
    (local.set $u (select (i64.sub (i64.const 0) (local.get $v)) (local.get $v)
                          (i64.lt_s (local.get $v) (i64.const 0))))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $u) (i64.const 10)))))
      (local.set $u (i64.div_u (local.get $u) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $u) (i64.const 0))))
    (if (i64.lt_s (local.get $v) (i64.const 0))
      (then (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (i32.store8 (local.get $p) (i32.const 45))))
    (call $print (local.get $p) (i32.sub (i32.const 40) (local.get $p))))
  ;; write a signed 32-bit integer in decimal
  (func $print_i32 (param $v i32) (call $print_i64 (i64.extend_i32_s (local.get $v))))
  ;; write <label><value>"\n"
  (func $report (param $label i32) (param $v i32)
    (call $puts (local.get $label)) (call $print_i32 (local.get $v)) (call $nl))
  ;; if errno != 0: write "<label> errno=<errno>\n" and trap
  (func $must (param $label i32) (param $errno i32)
    (if (local.get $errno)
      (then (call $puts (local.get $label)) (call $puts (i32.const 50))
            (call $print_i32 (local.get $errno)) (call $nl) (unreachable))))
  (func $try (param $label i32) (param $iovs i32) (param $n i32)
    (call $puts (local.get $label))
    (call $print_i32 (call $fd_write (i32.const 1) (local.get $iovs) (local.get $n) (i32.const 1016)))
    (call $nl))
  (func (export "_start")
    (call $puts (i32.const 64))
    (call $try (i32.const 128) (i32.const 65532) (i32.const 1))
    (call $try (i32.const 192) (i32.const 65536) (i32.const 1))
    (call $try (i32.const 256) (i32.const 0xfffffff0) (i32.const 1))
    (call $try (i32.const 320) (i32.const 0xfffffff8) (i32.const 2))
    (call $puts (i32.const 384)))
)
