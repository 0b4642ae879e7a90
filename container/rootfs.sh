#!/bin/sh
# Lays out the whole root filesystem the broker needs, and nothing else:
#   container/rootfs.sh ./kafka /path/to/rootfs
# The Dockerfile's runtime stage is FROM scratch plus this tree, and
# test/container.test.ts runs ./kafka chrooted into the same tree, so what the
# test proves is what the image holds. What is in it, and why:
#   /kafka                      the executable (bun build --compile)
#   the libraries `ldd` lists   libc, libm, libpthread, libdl, and the loader
#   /tmp (1777)                 bun:ffi's TinyCC writes its headers and our
#                               crc32c.c there; without it CRC-32C uses the table
#   /usr/lib/libc.so -> libc.so.6
#                               TinyCC links the SSE4.2 CRC-32C against -lc and
#                               looks for libc.so; without it: table fallback
#   /data (65532:65532)         the log dir (a VOLUME), writable by the non-root user
# Not in it because the broker does not need them: /etc (no passwd entry needed
# for a numeric user; no TLS, no name lookups of its own), /dev (randomness
# comes from getrandom(2)), HOME. /proc is needed (Bun aborts at start-up
# without /proc/self/maps) but every container runtime mounts it.
set -eu
bin=$1
root=$2
mkdir -p "$root"
chmod 755 "$root"
cp "$bin" "$root/kafka"
chmod 755 "$root/kafka"
# ldd prints "name => /path (addr)" and "/loader (addr)"; the vdso has no path
for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
libc=$(ldd "$bin" | grep -o '/[^ ]*/libc\.so\.6')
mkdir -p "$root/usr/lib" "$root/tmp" "$root/data" "$root/proc"
ln -sf "$libc" "$root/usr/lib/libc.so"
chmod 1777 "$root/tmp"
chown 65532:65532 "$root/data"
