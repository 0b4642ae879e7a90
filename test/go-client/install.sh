#!/usr/bin/env bash
# Builds the franz-go client of test/clients-go.test.ts into a cache outside
# the repo (the modules come from the Go module proxy into go's module cache,
# pinned by go.mod/go.sum):
#   ${KAFKA_GO_CLIENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-bun/go-client}/
#     client  the binary
#     stamp   sha256 of go.mod, go.sum and main.go it was built from
# Idempotent: when the stamp matches it only checks. Bounded
# (KAFKA_GO_CLIENT_TIMEOUT seconds, default 600: the first build compiles
# franz-go and its compression libraries); on failure one line on stderr and exit 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${KAFKA_GO_CLIENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-bun/go-client}"
limit="${KAFKA_GO_CLIENT_TIMEOUT:-600}"

fail() {
  echo "go-client install: $*" >&2
  exit 1
}

stamp="$(cd "$here" && cat go.mod go.sum main.go | sha256sum | cut -d' ' -f1)"
if [ -x "$cache/client" ] && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "go-client: up to date ($cache)"
  exit 0
fi
# franz-go v1.22 needs Go 1.26 (go.mod); go.dev's toolchain lives in /usr/local/go, which a bare PATH may lack
go="$(command -v go || true)"
[ -n "$go" ] || { [ -x /usr/local/go/bin/go ] && go=/usr/local/go/bin/go; } || fail "no go on PATH (franz-go needs Go $(sed -n 's/^go //p' "$here/go.mod")+)"
mkdir -p "$cache"
rm -f "$cache/stamp"
echo "go-client: building franz-go $(sed -n 's:^\s*github.com/twmb/franz-go \(v[^ ]*\)$:\1:p' "$here/go.mod") with $("$go" env GOVERSION) (up to ${limit}s) ..."
start=$SECONDS
if ! (cd "$here" && timeout "$limit" "$go" build -mod=readonly -buildvcs=false -trimpath -o "$cache/client.tmp" .) >"$cache/build.log" 2>&1; then
  fail "go build did not finish within ${limit}s: $(grep -m1 -v '^#' "$cache/build.log" || echo 'timeout') (log: $cache/build.log)"
fi
mv "$cache/client.tmp" "$cache/client"
echo "$stamp" >"$cache/stamp"
echo "go-client: built in $((SECONDS - start))s ($cache/client)"
