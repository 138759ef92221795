#!/usr/bin/env bash
# Runs every fuzz target in the module for a fixed number of inputs each
# (FUZZTIME, default 5000x). A count, not a duration: with -fuzztime 5s the
# fuzzer sometimes fails with "context deadline exceeded" when time runs out
# in the middle of a slow input, which is not a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZTIME:-5000x}
# Each input that reaches new code is minimized first, for up to a minute by
# default, while the run shows 0 execs/s; a count bounds that too, so the
# smoke run's length does not depend on how many new inputs it finds.
minimize=${FUZZMINIMIZETIME:-200x}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz $pkg $f ($secs)"
    go test -run '^$' -fuzz "^$f\$" -fuzztime "$secs" -fuzzminimizetime "$minimize" "$pkg"
  done
done
