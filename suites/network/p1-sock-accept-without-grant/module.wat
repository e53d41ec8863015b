;; Preview1's sock_accept with no socket granted: on every descriptor from 3 to 31 it must fail
;; (EBADF for a closed descriptor, ENOTSOCK for a preopened directory, ...). Prints "no socket"
;; when all did, else "accepted on fd N" for the first that succeeded. argv[1] is the runner's TCP canary port, unused
;; by the guest: no preview1 call can connect, and the canary proves nothing reached it.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "accepted on fd \00")
  (data (i32.const 96) "recv on fd \00")
  (data (i32.const 128) "send on fd \00")
  (data (i32.const 160) "no socket\0a\00")
  (data (i32.const 224) "wasmcert-canary")

  ;; ------------------------------------------------------------------ helpers
  ;; Memory 0..63: iovec at 0, nwritten at 8, digits built backwards in 16..39.
  ;; 48: "\n". 256..287: the result area of canonical-ABI calls. 512..: argv.
  (data (i32.const 48) "\n")
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $puts (param $s i32)
    (local $n i32)
    (block $end
      (loop $scan
        (br_if $end (i32.eqz (i32.load8_u (i32.add (local.get $s) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $scan)))
    (call $print (local.get $s) (local.get $n)))
  (func $print_u32 (param $v i32)
    (local $p i32)
    (local.set $p (i32.const 40))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digit (i32.ne (local.get $v) (i32.const 0))))
    (call $print (local.get $p) (i32.sub (i32.const 40) (local.get $p))))
  ;; "<label><code>\n"
  (func $say (param $label i32) (param $code i32)
    (call $puts (local.get $label)) (call $print_u32 (local.get $code))
    (call $print (i32.const 48) (i32.const 1)))
  ;; argv[1] as a decimal number (the canary's port), 0 if absent or not a number
  (func $port_arg (result i32)
    (local $argv i32) (local $p i32) (local $c i32) (local $v i32)
    (if (call $args_sizes_get (i32.const 496) (i32.const 500)) (then (return (i32.const 0))))
    (if (i32.lt_u (i32.load (i32.const 496)) (i32.const 2)) (then (return (i32.const 0))))
    (if (i32.gt_u (i32.load (i32.const 500)) (i32.const 4096)) (then (return (i32.const 0))))
    (if (i32.gt_u (i32.load (i32.const 496)) (i32.const 64)) (then (return (i32.const 0))))
    (if (call $args_get (i32.const 512) (i32.const 1024)) (then (return (i32.const 0))))
    (local.set $p (i32.load (i32.const 516)))
    (block $end
      (loop $digit
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $end (i32.lt_u (local.get $c) (i32.const 48)))
        (br_if $end (i32.gt_u (local.get $c) (i32.const 57)))
        (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $digit)))
    (local.get $v))

  (func (export "_start")
    (local $fd i32)
    ;; iovec at 320: 15 bytes at 224 (send), 16 bytes at 400 (recv).
    (i32.store (i32.const 320) (i32.const 224))
    (i32.store (i32.const 324) (i32.const 15))
    (i32.store (i32.const 328) (i32.const 400))
    (i32.store (i32.const 332) (i32.const 16))
    (local.set $fd (i32.const 3))
    (loop $next
      (if (i32.eqz (call $sock_accept (local.get $fd) (i32.const 0) (i32.const 340)))
        (then (call $say (i32.const 64) (local.get $fd)) (return)))
      (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $fd) (i32.const 32))))
    (call $puts (i32.const 160)))
)
