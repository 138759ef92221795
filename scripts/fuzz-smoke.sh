#!/usr/bin/env bash
# Runs every fuzz target in the module for a few seconds each.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZTIME:-5s}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    echo "fuzz $pkg $f ($secs)"
    go test -run '^$' -fuzz "^$f\$" -fuzztime "$secs" "$pkg"
  done
done
