;; CRC-32C, slicing-by-8, as a WebAssembly candidate for bench/crc32c.ts.
;; Memory: the eight 256-entry tables at 0..8191, the data from 8192.
(module
  (memory (export "mem") 64)
  ;; tables at 0..8192 (8 x 256 x i32), data from 8192
  (func (export "crc") (param $p i32) (param $n i32) (result i32)
    (local $c i32) (local $end8 i32) (local $end i32) (local $a i32)
    (local.set $c (i32.const -1))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (local.set $end8 (i32.sub (local.get $end) (i32.and (local.get $n) (i32.const 7))))
    (block $done8 (loop $l8
      (br_if $done8 (i32.ge_u (local.get $p) (local.get $end8)))
      (local.set $a (i32.xor (local.get $c) (i32.load (local.get $p))))
      (local.set $c
        (i32.xor
          (i32.xor
            (i32.xor
              (i32.load offset=7168 (i32.shl (i32.and (local.get $a) (i32.const 255)) (i32.const 2)))
              (i32.load offset=6144 (i32.shl (i32.and (i32.shr_u (local.get $a) (i32.const 8)) (i32.const 255)) (i32.const 2))))
            (i32.xor
              (i32.load offset=5120 (i32.shl (i32.and (i32.shr_u (local.get $a) (i32.const 16)) (i32.const 255)) (i32.const 2)))
              (i32.load offset=4096 (i32.shl (i32.shr_u (local.get $a) (i32.const 24)) (i32.const 2)))))
          (i32.xor
            (i32.xor
              (i32.load offset=3072 (i32.shl (i32.load8_u offset=4 (local.get $p)) (i32.const 2)))
              (i32.load offset=2048 (i32.shl (i32.load8_u offset=5 (local.get $p)) (i32.const 2))))
            (i32.xor
              (i32.load offset=1024 (i32.shl (i32.load8_u offset=6 (local.get $p)) (i32.const 2)))
              (i32.load (i32.shl (i32.load8_u offset=7 (local.get $p)) (i32.const 2)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (br $l8)))
    (block $done (loop $l1
      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
      (local.set $c (i32.xor
        (i32.load (i32.shl (i32.and (i32.xor (local.get $c) (i32.load8_u (local.get $p))) (i32.const 255)) (i32.const 2)))
        (i32.shr_u (local.get $c) (i32.const 8))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l1)))
    (i32.xor (local.get $c) (i32.const -1)))
)
