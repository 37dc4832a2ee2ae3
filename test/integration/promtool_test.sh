#!/usr/bin/env bash
# /metrics of a live 3-node dev cluster, after some traffic, passes `promtool check
# metrics` (HELP on every family, valid names, types and samples) on every node.
# Usage: promtool_test.sh SHOAL_CLI. Exits 77 (skipped) without promtool.
set -euo pipefail
shoal="$1"
command -v promtool >/dev/null || { echo "promtool missing (scripts/deps installs prometheus): skipped"; exit 77; }
dir="$(mktemp -d /tmp/shoal-promtool-XXXXXX)"
base=$((26000 + $$ % 20 * 40))  # 26000..26793: below the bench smoke test (27100)
cleanup() { "$shoal" --dir "$dir" dev down >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
"$shoal" --dir "$dir" dev up 3 --base-port "$base" >"$dir/cli.log" 2>&1
for i in $(seq 1 20); do "$shoal" --dir "$dir" put "k$i" "v$i" >/dev/null; done
"$shoal" --dir "$dir" get k1 >/dev/null
failed=0
for n in 1 2 3; do
  port=$((base + 10 * n + 3))
  curl -sf --max-time 5 --cacert "$dir/tls/ca.crt" "https://127.0.0.1:$port/metrics" >"$dir/metrics.$n"
  families=$(grep -c '^# TYPE' "$dir/metrics.$n")
  if out=$(promtool check metrics <"$dir/metrics.$n" 2>&1); then
    echo "node $n: $families families, promtool check metrics passed"
  else
    echo "node $n: promtool check metrics failed:"; echo "$out" | head -20; failed=1
  fi
done
exit $failed
