#!/usr/bin/env bash
# Resolves the Java client (kafka-clients, kafka-streams) with Maven into ~/.m2
# and writes its classpath into a cache outside the repo:
#   ${KAFKA_JAVA_CLIENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-bun/java-client}/
#     classpath.txt  the runtime classpath (jars in ~/.m2)
#     stamp          hash of pom.xml the classpath was resolved from
# Client.java runs as a single-file source program, so it needs a JDK (javac's
# jdk.compiler module), not only a JRE. Idempotent: when the stamp matches and
# every jar is there it only checks. Bounded (KAFKA_JAVA_CLIENT_TIMEOUT
# seconds, default 600); on failure one line on stderr and exit 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/pom.xml"
cache="${KAFKA_JAVA_CLIENT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-bun/java-client}"
limit="${KAFKA_JAVA_CLIENT_TIMEOUT:-600}"

fail() {
  echo "java-client install: $*" >&2
  exit 1
}

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then java="$JAVA_HOME/bin/java"; else java="$(command -v java || true)"; fi
[ -n "$java" ] || fail "no java on PATH (apt-get install openjdk-17-jdk-headless)"
command -v mvn >/dev/null 2>&1 || fail "no mvn on PATH (apt-get install maven)"
"$java" --list-modules 2>/dev/null | grep -q '^jdk.compiler@' || fail "$java has no jdk.compiler module: single-file source programs need a JDK (apt-get install openjdk-17-jdk-headless)"

stamp="$(sha256sum "$pom" | cut -d' ' -f1)"
mkdir -p "$cache"

up_to_date() {
  [ -f "$cache/classpath.txt" ] && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ] || return 1
  local jar
  while IFS= read -r jar; do [ -f "$jar" ] || return 1; done < <(tr ':' '\n' <"$cache/classpath.txt")
}

if up_to_date; then
  echo "java-client: up to date ($cache)"
  exit 0
fi

version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
echo "java-client: resolving kafka-clients and kafka-streams $version with Maven (up to ${limit}s) ..."
start=$SECONDS
rm -f "$cache/stamp"
if ! timeout "$limit" mvn -B -q -f "$pom" dependency:build-classpath \
  -Dmdep.outputFile="$cache/classpath.tmp" -Dmdep.includeScope=runtime >"$cache/mvn.log" 2>&1; then
  fail "mvn could not resolve kafka-clients $version within ${limit}s: $(grep -m1 -E 'ERROR|error' "$cache/mvn.log" || tail -n1 "$cache/mvn.log") (log: $cache/mvn.log)"
fi
[ -s "$cache/classpath.tmp" ] || fail "mvn wrote no classpath (log: $cache/mvn.log)"
mv "$cache/classpath.tmp" "$cache/classpath.txt"
echo "$stamp" >"$cache/stamp"
size="$(tr ':' '\n' <"$cache/classpath.txt" | xargs du -cb | tail -n1 | cut -f1)"
echo "java-client: kafka-clients $version resolved in $((SECONDS - start))s, $(( size / 1048576 )) MiB of jars ($cache)"
