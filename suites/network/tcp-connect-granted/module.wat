;; A WASI 0.2 TCP client, as a core module importing wasi:sockets itself (world `tcp-client` of
;; suites/wit/guests.wit), its stdout through the preview1 command adapter. It connects to
;; 127.0.0.1:<argv[1]> (the runner's TCP canary) and sends "wasmcert-canary". It prints
;; "connected" and "sent", or "denied: <step> <error-code>" at the first step that fails (the
;; wasi:sockets error-code number: 1 access-denied, 8 would-block, 14 connection-refused, ...).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi:sockets/instance-network@0.2.12" "instance-network" (func $instance_network (result i32)))
  (import "wasi:sockets/tcp-create-socket@0.2.12" "create-tcp-socket" (func $create (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.12" "[method]tcp-socket.start-connect"
    (func $start_connect (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:sockets/tcp@0.2.12" "[method]tcp-socket.finish-connect" (func $finish_connect (param i32 i32)))
  (import "wasi:sockets/tcp@0.2.12" "[method]tcp-socket.subscribe" (func $subscribe (param i32) (result i32)))
  (import "wasi:io/poll@0.2.12" "[method]pollable.block" (func $block (param i32)))
  (import "wasi:io/streams@0.2.12" "[method]output-stream.blocking-write-and-flush"
    (func $write (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "denied: create-tcp-socket \00")
  (data (i32.const 96) "denied: start-connect \00")
  (data (i32.const 128) "denied: finish-connect \00")
  (data (i32.const 160) "connected\0a\00")
  (data (i32.const 176) "sent\0a\00")
  (data (i32.const 192) "denied: write \00")
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
    (local $net i32) (local $sock i32) (local $port i32) (local $poll i32) (local $i i32)
    (local.set $port (call $port_arg))
    (local.set $net (call $instance_network))
    (call $create (i32.const 0) (i32.const 256))
    (if (i32.load8_u (i32.const 256))
      (then (call $say (i32.const 64) (i32.load8_u (i32.const 260))) (return)))
    (local.set $sock (i32.load (i32.const 260)))
    (call $start_connect (local.get $sock) (local.get $net) (i32.const 0) (local.get $port) (i32.const 127) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 256))
    (if (i32.load8_u (i32.const 256))
      (then (call $say (i32.const 96) (i32.load8_u (i32.const 260))) (return)))
    (local.set $poll (call $subscribe (local.get $sock)))
    ;; finish-connect says would-block (8) until the connection is made: wait on the socket's
    ;; pollable and ask again (bounded: the runner's deadline ends a runtime that never answers).
    (loop $again
      (call $finish_connect (local.get $sock) (i32.const 256))
      (if (i32.and (i32.load8_u (i32.const 256)) (i32.eq (i32.load8_u (i32.const 260)) (i32.const 8)))
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (if (i32.lt_u (local.get $i) (i32.const 1000))
            (then (call $block (local.get $poll)) (br $again))))))
    (if (i32.load8_u (i32.const 256))
      (then (call $say (i32.const 128) (i32.load8_u (i32.const 260))) (return)))
    (call $puts (i32.const 160))
    (call $write (i32.load (i32.const 264)) (i32.const 224) (i32.const 15) (i32.const 256))
    (if (i32.load8_u (i32.const 256))
      (then (call $say (i32.const 192) (i32.load8_u (i32.const 260))) (return)))
    (call $puts (i32.const 176)))
)
