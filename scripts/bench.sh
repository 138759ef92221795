#!/usr/bin/env bash
# make bench: Go benchmarks with -count for benchstat, plus the load
# generator's maximum rate side by side with vegeta. Outputs go to bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${BENCHCOUNT:-10}
mkdir -p bench
BENCHSTAT="go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"

echo "== reference server: booking over HTTP vs raw SQLite commit (count $count)"
go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-2s}" -count "$count" \
  ./reference-server/ ./reference-server/sqlitestore/ | tee bench/server.txt

echo "== every engine and design: booking over HTTP vs the store's own transaction (count ${ENGINECOUNT:-5})"
# Starts (or finds) a throw-away PostgreSQL cluster and DynamoDB Local.
eval "export $(scripts/start-postgres.sh)"
eval "export $(scripts/start-dynamodb.sh)"
go test -run '^$' -bench '^BenchmarkEngines$' -benchtime "${ENGINEBENCHTIME:-3s}" -count "${ENGINECOUNT:-5}" -timeout 60m \
  ./reference-server/storeurl/ | tee bench/engines.txt
$BENCHSTAT -col /path bench/engines.txt || true
echo "== scenarios and simulator (count $count)"
go test -run '^$' -bench . -benchmem -count "$count" ./scenarios/ ./sim/ | tee bench/sim.txt
$BENCHSTAT bench/server.txt bench/sim.txt || true

echo "== the client through the v1 profile vs the hand-written v1 client it replaced (count $count)"
go test -run '^$' -bench '^BenchmarkClientDo$' -benchmem -count "$count" ./sim/ | tee bench/client.txt
$BENCHSTAT -col /impl bench/client.txt || true

echo "== load generator vs vegeta (one core each)"
./scripts/bench-generator.sh | tee bench/generator.txt
