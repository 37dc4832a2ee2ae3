#!/usr/bin/env bash
# express-session with connect-redis and node-redis (npm, installed by scripts/deps into
# test/integration/node_session/node_modules) keeping an app's sessions in Shoal: created,
# read, touched, destroyed and expired through a node's Redis port, with another node
# SIGKILLed in the middle (node_session/session_app.js). Usage: node_session_test.sh
# SHOAL_CLI. Exits 77 (skipped) without node or the npm packages.
set -euo pipefail
. "$(dirname "$0")/sessions_db.sh"
shoal="$1"
here="$(cd "$(dirname "$0")" && pwd)"
command -v node >/dev/null && [ -d "$here/node_session/node_modules/express-session" ] ||
  { echo "node or the npm packages missing (scripts/deps installs them): skipped"; exit 77; }
dir="$(mktemp -d /tmp/shoal-nodesess-XXXXXX)"
base=$((26000 + ($$ + 11) % 20 * 40))  # 26000..26793, as the other shell tests
cleanup() { "$shoal" --dir "$dir" dev down >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
"$shoal" --dir "$dir" dev up 3 --base-port "$base" >"$dir/cli.log" 2>&1
sessions_database "$shoal" "$dir" "$base"
timeout 90 node "$here/node_session/session_app.js" "$shoal" "$dir" "$((base + 14))" "$((base + 39))" 1
