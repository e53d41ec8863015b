;; memory.grow(-1 as u32 = 0xffffffff pages) and memory.grow(65536) on a 1-page memory;
;; prints both results and whether memory.size is what it was before them. Compared, not
;; printed: a component made with the preview1 command adapter (`certify --world p2`) starts
;; with pages the adapter grew for its stack and state.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "grow(0xffffffff)=\00")
  (data (i32.const 96) "grow(65536)=\00")
  (data (i32.const 128) "size unchanged\n\00")
  (data (i32.const 160) "size changed\n\00")
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
  (func (export "_start")
    (local $huge i32) (local $past i32) (local $size i32) (local $before i32)
    (local.set $before (memory.size))
    (local.set $huge (memory.grow (i32.const 0xffffffff)))
    (local.set $past (memory.grow (i32.const 65536)))
    (local.set $size (memory.size))
    (call $report (i32.const 64) (local.get $huge))
    (call $report (i32.const 96) (local.get $past))
    (if (i32.eq (local.get $size) (local.get $before))
      (then (call $puts (i32.const 128))) (else (call $puts (i32.const 160)))))
)
