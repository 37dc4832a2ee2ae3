#!/usr/bin/env bash
# express-session with connect-redis and node-redis (npm, installed by scripts/deps into
# test/integration/node_session/node_modules) keeping an app's sessions in Shoal: created,
# read, touched, destroyed and expired through a node's Redis port, with another node
# SIGKILLed in the middle (node_session/session_app.js). Usage: node_session_test.sh
# SHOAL_CLI. Exits 77 (skipped) without node or the npm packages.
set -euo pipefail
shoal="$1"
here="$(cd "$(dirname "$0")" && pwd)"
command -v node >/dev/null && [ -d "$here/node_session/node_modules/express-session" ] ||
  { echo "node or the npm packages missing (scripts/deps installs them): skipped"; exit 77; }
dir="$(mktemp -d /tmp/shoal-nodesess-XXXXXX)"
base=$((26000 + ($$ + 11) % 20 * 40))  # 26000..26793, as the other shell tests
cleanup() { "$shoal" --dir "$dir" dev down >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
"$shoal" --dir "$dir" dev up 3 --base-port "$base" >"$dir/cli.log" 2>&1
"$shoal" --dir "$dir" ns create sessions --conflict lww >>"$dir/cli.log"
for n in 1 2 3; do
  echo "resp_databases = default,sessions" >>"$dir/n$n.conf"
  "$shoal" --dir "$dir" dev restart "$n" >>"$dir/cli.log" 2>&1
done
for n in 1 2 3; do  # until gossip has brought the namespace to every node
  for _ in $(seq 1 50); do
    curl -sf --max-time 1 --cacert "$dir/tls/ca.crt" "https://127.0.0.1:$((base + 10 * n + 3))/ns/sessions" >/dev/null && break
    sleep 0.1
  done
done
timeout 90 node "$here/node_session/session_app.js" "$shoal" "$dir" "$((base + 14))" "$((base + 39))" 1
