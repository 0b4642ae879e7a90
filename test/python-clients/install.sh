#!/usr/bin/env bash
# Installs the Python clients of test/clients-python.test.ts (confluent-kafka,
# whose wheel carries librdkafka, and aiokafka) with pip into a virtual
# environment outside the repo:
#   ${KAFKA_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-bun/venv}
# Idempotent: when the venv has exactly requirements.txt (stamp) and both
# import, it only checks. Bounded (KAFKA_PY_TIMEOUT seconds, default 300); on
# failure one line on stderr and exit 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
req="$here/requirements.txt"
venv="${KAFKA_PY_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-bun/venv}"
limit="${KAFKA_PY_TIMEOUT:-300}"
py="${KAFKA_PY_PYTHON:-python3}"

fail() {
  echo "python-clients install: $*" >&2
  exit 1
}

check='import confluent_kafka, aiokafka; print("confluent-kafka", confluent_kafka.__version__, "librdkafka", confluent_kafka.libversion()[0], "aiokafka", aiokafka.__version__)'
stamp="$(sha256sum "$req" | cut -d' ' -f1)"
if [ "$(cat "$venv/kafka-bun.stamp" 2>/dev/null)" = "$stamp" ] && got="$("$venv/bin/python" -c "$check" 2>/dev/null)"; then
  echo "python-clients: up to date ($got, $venv)"
  exit 0
fi

command -v "$py" >/dev/null 2>&1 || fail "no $py on PATH"
start=$SECONDS
rm -f "$venv/kafka-bun.stamp"
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p "$(dirname "$venv")"
  out="$(timeout 120 "$py" -m venv "$venv" 2>&1)" || fail "$py -m venv $venv failed (Debian: apt-get install python3-venv): $(echo "$out" | tail -n1)"
fi
log="$venv/pip.log"
if ! timeout "$limit" "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req" >"$log" 2>&1; then
  fail "pip could not install $(grep -v '^#' "$req" | tr '\n' ' ')within ${limit}s: $(grep -m1 -E 'ERROR|error' "$log" || tail -n1 "$log") (log: $log)"
fi
got="$("$venv/bin/python" -c "$check" 2>&1)" || fail "the installed clients do not import: $(echo "$got" | tail -n1)"
echo "$stamp" >"$venv/kafka-bun.stamp"
echo "python-clients: $got installed in $((SECONDS - start))s ($venv)"
