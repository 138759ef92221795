#!/usr/bin/env bash
# The load generator's maximum request rate on one core against a trivial
# local endpoint (GET /healthz of slotrush serve, on the other core), side by
# side with vegeta v12.13.0 under the same connection count. Repeats each
# REPEAT times alternating the two and prints the medians and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${CONNS:-32}
dur=${DUR:-5s}
repeat=${REPEAT:-5}
work=$(mktemp -d)
trap 'kill $srv 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/slotrush" ./cmd/slotrush
GOBIN="$work" go install github.com/tsenart/vegeta/v12@v12.13.0

port=$(( 20000 + RANDOM % 20000 ))
GOMAXPROCS=1 taskset -c 0 "$work/slotrush" serve --design monolithic --data "$work/data" --addr "127.0.0.1:$port" >/dev/null 2>&1 &
srv=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port/healthz"

ours=() ; theirs=()
for i in $(seq "$repeat"); do
  r=$(GOMAXPROCS=1 taskset -c 1 "$work/slotrush" attack --url "$url" --rate 0 --connections "$conns" --duration "$dur" | sed -n 's/^requests.* rate \([0-9.]*\)\/s.*/\1/p')
  ours+=("$r")
  v=$(echo "GET $url" | GOMAXPROCS=1 taskset -c 1 "$work/vegeta" attack -rate=0 -max-workers="$conns" -workers="$conns" -duration="$dur" | "$work/vegeta" report -type=json | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["rate"],1))')
  theirs+=("$v")
  echo "run $i: slotrush ${r}/s  vegeta ${v}/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2)? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mo=$(median "${ours[@]}"); mv=$(median "${theirs[@]}")
echo "median over $repeat runs, $conns connections, one core each: slotrush ${mo}/s, vegeta ${mv}/s, ratio $(python3 -c "print(round($mo/$mv,3))")"
