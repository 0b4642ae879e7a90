/* CRC-32C with the SSE4.2 crc32 instruction, compiled at start-up by Bun's
 * built-in TinyCC (bun:ffi cc). TinyCC's assembler does not know the SSE4.2
 * mnemonics, so the instructions are spelled as bytes:
 *   f2 48 0f 38 f1 01   crc32q (%rcx), %rax
 *   f2 0f 38 f0 01      crc32b (%rcx), %eax
 * No #include: the compiled executable has no system headers to offer. */
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define CRC64(c, p) __asm__ __volatile__(".byte 0xf2, 0x48, 0x0f, 0x38, 0xf1, 0x01" : "+a"(c) : "c"(p) : "memory")
#define CRC8(c, p) __asm__ __volatile__(".byte 0xf2, 0x0f, 0x38, 0xf0, 0x01" : "+a"(c) : "c"(p) : "memory")

u32 crc32c_sse42(const u8 *p, u32 n) {
  u64 c = 0xffffffffu;
  const u8 *end32 = p + (n & ~31u);
  while (p < end32) {
    CRC64(c, p);
    CRC64(c, p + 8);
    CRC64(c, p + 16);
    CRC64(c, p + 24);
    p += 32;
  }
  n &= 31;
  while (n >= 8) {
    CRC64(c, p);
    p += 8;
    n -= 8;
  }
  while (n--) {
    CRC8(c, p);
    p++;
  }
  return (u32)c ^ 0xffffffffu;
}
