;; WASI 0.2's filesystem, called directly (world `fs-client` of suites/wit/guests.wit), not
;; through the preview1 adapter: open-at on the first preopen with `symlink-follow`, for a
;; control path inside and for paths that lead out ("..", a planted relative or absolute
;; symlink to the outside, ".." after a subdirectory, an absolute path). For each it prints
;;   ok open "inside.txt": <content>         (the control)
;;   denied open "<path>" (error N)           (N: the wasi:filesystem error-code number)
;;   BREACH open "<path>": <first bytes>     (opened and read: must not happen)
;; Canonical ABI: get-directories returns list<tuple<descriptor, string>> (12-byte elements);
;; open-at's result<descriptor, error-code> and read's result<tuple<list<u8>, bool>,
;; error-code> are written at 256; lists the host returns are allocated by cabi_realloc below.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi:filesystem/preopens@0.2.12" "get-directories" (func $get_directories (param i32)))
  (import "wasi:filesystem/types@0.2.12" "[method]descriptor.open-at"
    (func $open_at (param i32 i32 i32 i32 i32 i32 i32)))
  (import "wasi:filesystem/types@0.2.12" "[method]descriptor.read"
    (func $read (param i32 i64 i64 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 8192))
  (data (i32.const 64) "ok open \"\00")
  (data (i32.const 80) "denied open \"\00")
  (data (i32.const 96) "BREACH open \"\00")
  (data (i32.const 112) "\": \00")
  (data (i32.const 120) "\" (error \00")
  (data (i32.const 136) ")\0a\00")
  (data (i32.const 144) "no preopen\0a\00")
  (data (i32.const 1100) "inside.txt")
  (data (i32.const 1114) "../outside/secret.txt")
  (data (i32.const 1139) "up/secret.txt")
  (data (i32.const 1156) "absup/secret.txt")
  (data (i32.const 1176) "sub/../../outside/secret.txt")
  (data (i32.const 1208) "/etc/passwd")
  (data (i32.const 1223) "./../outside/dir")
  ;; (ptr, len) of each path, in order
  (data (i32.const 1024) "\4c\04\00\00\0a\00\00\00\5a\04\00\00\15\00\00\00\73\04\00\00\0d\00\00\00\84\04\00\00\10\00\00\00\98\04\00\00\1c\00\00\00\b8\04\00\00\0b\00\00\00\c7\04\00\00\10\00\00\00")
  ;; ------------------------------------------------------------------ helpers
  ;; Memory 0..63: iovec at 0, nwritten at 8, digits built backwards in 16..39.
  ;; 48: "\n". 256..287: the result area of canonical-ABI calls. 8192..: cabi_realloc's heap.
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

  ;; A bump allocator for what the host returns (lists, strings); never frees.
  (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get $align))))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (if (i32.gt_u (global.get $heap) (i32.shl (memory.size) (i32.const 16)))
      (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $heap) (i32.shl (memory.size) (i32.const 16))) (i32.const 16)) (i32.const 1))) (i32.const -1))
        (then unreachable))))
    (local.get $p))
  (func (export "_start")
    (local $dir i32) (local $i i32) (local $path i32) (local $len i32) (local $fd i32)
    (call $get_directories (i32.const 256))
    (if (i32.eqz (i32.load (i32.const 260))) (then (call $puts (i32.const 144)) (return)))
    (local.set $dir (i32.load (i32.load (i32.const 256))))
    (loop $next
      (local.set $path (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 3)))))
      (local.set $len (i32.load (i32.add (i32.const 1028) (i32.shl (local.get $i) (i32.const 3)))))
      ;; path-flags symlink-follow (1), no open-flags, descriptor-flags read (1)
      (call $open_at (local.get $dir) (i32.const 1) (local.get $path) (local.get $len)
        (i32.const 0) (i32.const 1) (i32.const 256))
      (if (i32.load8_u (i32.const 256))
        (then
          (call $puts (i32.const 80)) (call $print (local.get $path) (local.get $len))
          (call $puts (i32.const 120)) (call $print_u32 (i32.load8_u (i32.const 260)))
          (call $puts (i32.const 136)))
        (else
          (local.set $fd (i32.load (i32.const 260)))
          (if (local.get $i) (then (call $puts (i32.const 96))) (else (call $puts (i32.const 64))))
          (call $print (local.get $path) (local.get $len)) (call $puts (i32.const 112))
          (call $read (local.get $fd) (i64.const 64) (i64.const 0) (i32.const 256))
          (if (i32.eqz (i32.load8_u (i32.const 256)))
            (then (call $print (i32.load (i32.const 260)) (i32.load (i32.const 264)))))
          (call $print (i32.const 48) (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 7)))))
)
