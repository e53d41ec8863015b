;; Grows by 16 pages (1 MiB) until memory.grow fails, then by 1 page until it fails again,
;; writing a byte at the end of memory after every successful grow. At most 4096 + 16 tries.
;; Prints "pages=<n>" and "grow=-1" (or "grow never failed").
;; It prints "start" first: a component made from it with the preview1 command adapter
;; (`certify --world p2`) sets up the adapter's state (2 pages of this memory) on the first
;; write, and must not need them once the memory is at the cap.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "pages=\00")
  (data (i32.const 96) "grow=-1\n\00")
  (data (i32.const 128) "grow never failed\n\00")
  (data (i32.const 224) "start\n\00")
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
  ;; grow by $step until failure or $tries attempts; returns 1 if a grow failed
  (func $grow_until_fail (param $step i32) (param $tries i32) (result i32)
    (loop $grow
      (if (i32.eq (memory.grow (local.get $step)) (i32.const -1)) (then (return (i32.const 1))))
      (i32.store8 (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 1)) (i32.const 1))
      (local.set $tries (i32.sub (local.get $tries) (i32.const 1)))
      (br_if $grow (local.get $tries)))
    (i32.const 0))
  (func (export "_start")
    (local $failed i32)
    (call $puts (i32.const 224))
    (drop (call $grow_until_fail (i32.const 16) (i32.const 4095)))
    (local.set $failed (call $grow_until_fail (i32.const 1) (i32.const 16)))
    (call $report (i32.const 64) (memory.size))
    (if (local.get $failed) (then (call $puts (i32.const 96))) (else (call $puts (i32.const 128)))))
)
