#!/usr/bin/env bash
# Resolves Apache Kafka (the reference broker of the differential tests) with
# Maven into ~/.m2 and writes its classpath into a cache outside the repo:
#   ${KAFKA_REF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-bun/kafka-ref}/
#     classpath.txt     the runtime classpath (jars in ~/.m2)
#     log4j2.properties logs to ${kafka.logs.dir}/server.log, warnings only
#     stamp             hash of pom.xml the classpath was resolved from
# Idempotent: when the stamp matches and every jar is there it only checks.
# Bounded (KAFKA_REF_TIMEOUT seconds, default 600); on failure one line on
# stderr (the Maven log stays in the cache) and exit 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/pom.xml"
cache="${KAFKA_REF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-bun/kafka-ref}"
limit="${KAFKA_REF_TIMEOUT:-600}"

fail() {
  echo "kafka-ref install: $*" >&2
  exit 1
}

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then java="$JAVA_HOME/bin/java"; else java="$(command -v java || true)"; fi
[ -n "$java" ] || fail "no java on PATH (Kafka 4.x needs Java 17+: apt-get install openjdk-17-jre-headless)"
command -v mvn >/dev/null 2>&1 || fail "no mvn on PATH (apt-get install maven)"
jv="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
[ "${jv%%.*}" -ge 17 ] 2>/dev/null || fail "$java is Java ${jv:-?}; Kafka 4.x brokers need 17+"

stamp="$(sha256sum "$pom" | cut -d' ' -f1)"
mkdir -p "$cache"

up_to_date() {
  [ -f "$cache/classpath.txt" ] && [ -f "$cache/log4j2.properties" ] && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ] || return 1
  local jar
  while IFS= read -r jar; do [ -f "$jar" ] || return 1; done < <(tr ':' '\n' <"$cache/classpath.txt")
}

if up_to_date; then
  echo "kafka-ref: up to date ($cache)"
  exit 0
fi

version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
echo "kafka-ref: resolving Apache Kafka $version with Maven (up to ${limit}s) ..."
start=$SECONDS
rm -f "$cache/stamp"
if ! timeout "$limit" mvn -B -q -f "$pom" dependency:build-classpath \
  -Dmdep.outputFile="$cache/classpath.tmp" -Dmdep.includeScope=runtime >"$cache/mvn.log" 2>&1; then
  fail "mvn could not resolve Apache Kafka $version within ${limit}s: $(grep -m1 -E 'ERROR|error' "$cache/mvn.log" || tail -n1 "$cache/mvn.log") (log: $cache/mvn.log)"
fi
[ -s "$cache/classpath.tmp" ] || fail "mvn wrote no classpath (log: $cache/mvn.log)"

# the broker's main class must load on this Java
if ! got="$(timeout 60 "$java" -cp "$(cat "$cache/classpath.tmp")" kafka.Kafka --version 2>&1)"; then
  fail "kafka.Kafka --version failed on $java: $(echo "$got" | tail -n1)"
fi

cat >"$cache/log4j2.properties" <<'EOF'
# Apache Kafka as a test reference: warnings and the start/stop lines to a file
status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
EOF
mv "$cache/classpath.tmp" "$cache/classpath.txt"
echo "$stamp" >"$cache/stamp"
size="$(tr ':' '\n' <"$cache/classpath.txt" | xargs du -cb | tail -n1 | cut -f1)"
echo "kafka-ref: Apache Kafka $(echo "$got" | head -n1) resolved in $((SECONDS - start))s, $(( size / 1048576 )) MiB of jars ($cache)"
