;; path_open(preopen, "created.txt", creat|trunc, read|write|seek|tell) -> write 21 bytes,
;; seek to 0, read them back and print; then path_create_directory("newdir").
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "path_open\00")
  (data (i32.const 96) "created.txt\00")     ;; 11 bytes
  (data (i32.const 128) "written by the guest\n\00")   ;; 21 bytes
  (data (i32.const 160) "fd_write\00")
  (data (i32.const 192) "fd_seek\00")
  (data (i32.const 224) "fd_read\00")
  (data (i32.const 256) "nwritten=\00")
  (data (i32.const 288) "read back: \00")
  (data (i32.const 320) "newdir\00")          ;; 6 bytes
  (data (i32.const 352) "path_create_directory\00")
  (data (i32.const 384) "fd_close\00")
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
  ;; first preopened directory: scan fds from 3 (prestat written at 40..47)
  (func $preopen (result i32)
    (local $fd i32)
    (local.set $fd (i32.const 3))
    (loop $next
      (if (i32.eqz (call $fd_prestat_get (local.get $fd) (i32.const 40)))
        (then (if (i32.eqz (i32.load8_u (i32.const 40))) (then (return (local.get $fd))))))
      (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $fd) (i32.const 64))))
    (unreachable))
  (func (export "_start")
    (local $fd i32)
    ;; rights: fd_read | fd_seek | fd_tell | fd_write | fd_filestat_get = 0x200066
    (call $must (i32.const 64)
      (call $path_open (call $preopen) (i32.const 0) (i32.const 96) (i32.const 11)
                       (i32.const 9) (i64.const 0x200066) (i64.const 0) (i32.const 0) (i32.const 1020)))
    (local.set $fd (i32.load (i32.const 1020)))
    ;; iovec at 1024, count at 1032
    (i32.store (i32.const 1024) (i32.const 128))
    (i32.store (i32.const 1028) (i32.const 21))
    (call $must (i32.const 160) (call $fd_write (local.get $fd) (i32.const 1024) (i32.const 1) (i32.const 1032)))
    (call $report (i32.const 256) (i32.load (i32.const 1032)))
    (call $must (i32.const 192) (call $fd_seek (local.get $fd) (i64.const 0) (i32.const 0) (i32.const 1040)))
    (i32.store (i32.const 1024) (i32.const 2048))
    (i32.store (i32.const 1028) (i32.const 1024))
    (call $must (i32.const 224) (call $fd_read (local.get $fd) (i32.const 1024) (i32.const 1) (i32.const 1032)))
    (call $puts (i32.const 288)) (call $print (i32.const 2048) (i32.load (i32.const 1032)))
    (call $must (i32.const 384) (call $fd_close (local.get $fd)))
    (call $must (i32.const 352) (call $path_create_directory (call $preopen) (i32.const 320) (i32.const 6))))
)
