;; Attack: very long paths. "../" repeated 40 and 4000 times before proc/self/environ or
;; outside/secret.txt (a runtime that normalises lexically and clamps at "/" would open the
;; host's /proc/self/environ, which holds WASMCERT_HOST_SECRET), sub/ x 1000 followed by
;; one '..' more than that, "./" x 40000 and "a/../" x 40000 before inside.txt (far over
;; PATH_MAX but inside), a 300-byte name, a 5000-level mkdir, and finally a path whose
;; bytes run past the end of linear memory. The runtime must neither escape nor crash
;; (answering nametoolong, fault or even trapping on the last one is fine).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_create_directory" (func $path_create_directory (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  (memory (export "memory") 8)

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
  (global $s_bytes i32 (i32.const 1192)) (data (i32.const 1192) "\07\00\00\00 bytes ")
  (global $s_op_mkdir i32 (i32.const 1204)) (data (i32.const 1204) "\15\00\00\00path_create_directory")
  (global $p_inside_txt i32 (i32.const 1232)) (data (i32.const 1232) "\0a\00\00\00inside.txt")
  (global $p_dd__x_40_proc_self_environ i32 (i32.const 1248)) (data (i32.const 1248) "\1c\00\00\00../ x 40 + proc/self/environ")
  (global $p_dd i32 (i32.const 1280)) (data (i32.const 1280) "\03\00\00\00../")
  (global $p_root i32 (i32.const 1288)) (data (i32.const 1288) "\00\00\00\00")
  (global $p_proc_self_environ i32 (i32.const 1292)) (data (i32.const 1292) "\11\00\00\00proc/self/environ")
  (global $p_dd__x_4000_proc_self_environ i32 (i32.const 1316)) (data (i32.const 1316) "\1e\00\00\00../ x 4000 + proc/self/environ")
  (global $p_dd__x_4000_outside_secret_txt i32 (i32.const 1352)) (data (i32.const 1352) "\1f\00\00\00../ x 4000 + outside/secret.txt")
  (global $p_outside_secret_txt i32 (i32.const 1388)) (data (i32.const 1388) "\12\00\00\00outside/secret.txt")
  (global $p_sub__dd__x_2000_proc_self_environ i32 (i32.const 1412)) (data (i32.const 1412) "\25\00\00\00sub/ + ../ x 2000 + proc/self/environ")
  (global $p_sub i32 (i32.const 1456)) (data (i32.const 1456) "\04\00\00\00sub/")
  (global $p_sub__x_1000_dd__x_1001_outside_secret_tx i32 (i32.const 1464)) (data (i32.const 1464) "\2d\00\00\00sub/ x 1000 + ../ x 1001 + outside/secret.txt")
  (global $p_a__x_20_dd__x_21_outside_secret_txt i32 (i32.const 1516)) (data (i32.const 1516) "\27\00\00\00a/ x 20 + ../ x 21 + outside/secret.txt")
  (global $p_a i32 (i32.const 1560)) (data (i32.const 1560) "\02\00\00\00a/")
  (global $p_x_40000_inside_txt i32 (i32.const 1568)) (data (i32.const 1568) "\17\00\00\00./ x 40000 + inside.txt")
  (global $p_root_2 i32 (i32.const 1596)) (data (i32.const 1596) "\02\00\00\00./")
  (global $p_a_dd__x_40000_inside_txt i32 (i32.const 1604)) (data (i32.const 1604) "\1a\00\00\00a/../ x 40000 + inside.txt")
  (global $p_a_dd i32 (i32.const 1636)) (data (i32.const 1636) "\05\00\00\00a/../")
  (global $p_a_x_300 i32 (i32.const 1648)) (data (i32.const 1648) "\07\00\00\00a x 300")
  (global $p_a_2 i32 (i32.const 1660)) (data (i32.const 1660) "\01\00\00\00a")
  (global $p_x__x_5000_y i32 (i32.const 1668)) (data (i32.const 1668) "\0d\00\00\00x/ x 5000 + y")
  (global $p_x i32 (i32.const 1688)) (data (i32.const 1688) "\02\00\00\00x/")
  (global $p_y i32 (i32.const 1696)) (data (i32.const 1696) "\01\00\00\00y")
  (global $op_open_path_past_end_of_memory i32 (i32.const 1704)) (data (i32.const 1704) "\1d\00\00\00open(path past end of memory)")
  (global $p_ptr_520000_len_10000 i32 (i32.const 1740)) (data (i32.const 1740) "\17\00\00\00(ptr 520000, len 10000)")

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

  ;; Write string $s $count times at $dst; return the end address.
  (func $repeat (param $dst i32) (param $s i32) (param $count i32) (result i32)
    (block $done (loop $again
      (br_if $done (i32.eqz (local.get $count)))
      (memory.copy (local.get $dst) (i32.add (local.get $s) (i32.const 4)) (i32.load (local.get $s)))
      (local.set $dst (i32.add (local.get $dst) (i32.load (local.get $s))))
      (local.set $count (i32.sub (local.get $count) (i32.const 1)))
      (br $again)))
    (local.get $dst))

  ;; Build at 65536: $p1 x $n1, then $p2 x $n2, then $tail; try to read it (without
  ;; and with SYMLINK_FOLLOW). The report shows $label instead of the huge path.
  (func $long_read (param $label i32) (param $p1 i32) (param $n1 i32) (param $p2 i32) (param $n2 i32)
                   (param $tail i32) (param $must_fail i32)
    (local $end i32) (local $len i32) (local $err i32) (local $fd i32) (local $follow i32)
    (local.set $end (call $repeat (i32.const 65536) (local.get $p1) (local.get $n1)))
    (local.set $end (call $repeat (local.get $end) (local.get $p2) (local.get $n2)))
    (local.set $end (call $repeat (local.get $end) (local.get $tail) (i32.const 1)))
    (local.set $len (i32.sub (local.get $end) (i32.const 65536)))
    (loop $twice
      (local.set $err (call $path_open (i32.const 3) (local.get $follow) (i32.const 65536) (local.get $len)
        (i32.const 0) (global.get $read_rights) (i64.const 0) (i32.const 0) (i32.const 12)))
      (local.set $fd (i32.load (i32.const 12)))
      (call $outcome (select (global.get $s_op_open_follow) (global.get $s_op_open) (local.get $follow))
        (i32.add (local.get $label) (i32.const 4)) (i32.load (local.get $label)) (local.get $err) (local.get $must_fail))
      (call $print_s (global.get $s_bytes))
      (call $print_num (local.get $len))
      (if (i32.eqz (local.get $err)) (then
        (call $print_s (global.get $s_colon))
        (call $dump_fd (local.get $fd))
        (drop (call $fd_close (local.get $fd)))))
      (call $print_s (global.get $s_nl))
      (local.set $follow (i32.add (local.get $follow) (i32.const 1)))
      (br_if $twice (i32.lt_u (local.get $follow) (i32.const 2)))))

  ;; $prefix x $count, then $tail, as a path_create_directory (must_fail = 0: refused or
  ;; created inside).
  (func $long_mkdir (param $label i32) (param $prefix i32) (param $count i32) (param $tail i32)
    (local $end i32)
    (local.set $end (call $repeat (i32.const 65536) (local.get $prefix) (local.get $count)))
    (local.set $end (call $repeat (local.get $end) (local.get $tail) (i32.const 1)))
    (call $report (global.get $s_op_mkdir) (local.get $label)
      (call $path_create_directory (i32.const 3) (i32.const 65536) (i32.sub (local.get $end) (i32.const 65536)))
      (i32.const 0)))

  ;; ---------------------------------------------------------------- the attack
  (func (export "_start")
    (drop (call $try_read (i32.const 3) (i32.const 0) (global.get $p_inside_txt) (i32.const 0)))  ;; "inside.txt"
    ;; '..' far beyond any real depth: a runtime that clamps at the host root would land
    ;; in / and read /proc/self/environ (which holds WASMCERT_HOST_SECRET).
    (call $long_read (global.get $p_dd__x_40_proc_self_environ) (global.get $p_dd) (i32.const 40) (global.get $p_root) (i32.const 0) (global.get $p_proc_self_environ) (i32.const 1))
    (call $long_read (global.get $p_dd__x_4000_proc_self_environ) (global.get $p_dd) (i32.const 4000) (global.get $p_root) (i32.const 0) (global.get $p_proc_self_environ) (i32.const 1))
    (call $long_read (global.get $p_dd__x_4000_outside_secret_txt) (global.get $p_dd) (i32.const 4000) (global.get $p_root) (i32.const 0) (global.get $p_outside_secret_txt) (i32.const 1))
    (call $long_read (global.get $p_sub__dd__x_2000_proc_self_environ) (global.get $p_sub) (i32.const 1) (global.get $p_dd) (i32.const 2000) (global.get $p_proc_self_environ) (i32.const 1))
    ;; Down 1000 levels (the names need not exist) and up one level more than that.
    (call $long_read (global.get $p_sub__x_1000_dd__x_1001_outside_secret_tx) (global.get $p_sub) (i32.const 1000) (global.get $p_dd) (i32.const 1001) (global.get $p_outside_secret_txt) (i32.const 1))
    (call $long_read (global.get $p_a__x_20_dd__x_21_outside_secret_txt) (global.get $p_a) (i32.const 20) (global.get $p_dd) (i32.const 21) (global.get $p_outside_secret_txt) (i32.const 1))
    ;; Over PATH_MAX (4096) but inside: './' x 40000 and 'a/../' x 40000 + inside.txt
    ;; (refused with nametoolong or resolved inside: both fine).
    (call $long_read (global.get $p_x_40000_inside_txt) (global.get $p_root_2) (i32.const 40000) (global.get $p_root) (i32.const 0) (global.get $p_inside_txt) (i32.const 0))
    (call $long_read (global.get $p_a_dd__x_40000_inside_txt) (global.get $p_a_dd) (i32.const 40000) (global.get $p_root) (i32.const 0) (global.get $p_inside_txt) (i32.const 0))
    ;; A 300-byte name (over NAME_MAX) and a 5000-level directory path.
    (call $long_mkdir (global.get $p_a_x_300) (global.get $p_a_2) (i32.const 300) (global.get $p_root))
    (call $long_mkdir (global.get $p_x__x_5000_y) (global.get $p_x) (i32.const 5000) (global.get $p_y))
    ;; Last: a path that runs past the end of linear memory (EFAULT or a trap).
    (call $report (global.get $op_open_path_past_end_of_memory) (global.get $p_ptr_520000_len_10000)  ;; open(path past end of memory) "(ptr 520000, len 10000)"
      (call $path_open (i32.const 3) (i32.const 0) (i32.const 520000) (i32.const 10000) (i32.const 0) (global.get $read_rights) (i64.const 0) (i32.const 0) (i32.const 12))
      (i32.const 1))
    (call $print_s (global.get $s_done))
    (call $proc_exit (i32.const 0))))
