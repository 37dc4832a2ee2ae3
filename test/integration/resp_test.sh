#!/usr/bin/env bash
# The Redis-protocol front end on real processes, driven by the Redis project's own
# tools: redis-cli for the string commands through different nodes, redis-benchmark
# for concurrent INCRs through two nodes (none may be lost), an lww database for
# sessions, and an over-limit argument (an error, then the connection closes; the node
# keeps serving). Usage: resp_test.sh SHOAL_CLI. Exits 77 (skipped) without redis-cli.
set -euo pipefail
. "$(dirname "$0")/sessions_db.sh"
shoal="$1"
command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null ||
  { echo "redis-cli/redis-benchmark missing (scripts/deps installs redis-server): skipped"; exit 77; }
dir="$(mktemp -d /tmp/shoal-resp-XXXXXX)"
base=$((26000 + ($$ + 7) % 20 * 40))  # 26000..26793, as the other shell tests
cleanup() { "$shoal" --dir "$dir" dev down >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
"$shoal" --dir "$dir" dev up 3 --base-port "$base" >"$dir/cli.log" 2>&1
r1=$((base + 14)); r2=$((base + 24)); r3=$((base + 34))
# The cluster runs with TLS (dev up's default): redis-cli and redis-benchmark speak it
# with the cluster's CA and its admin client certificate.
tls=(--tls --cacert "$dir/tls/ca.crt" --cert "$dir/tls/client-admin.crt" --key "$dir/tls/client-admin.key")
failed=0
expect() {  # expect WANT PORT ARGS...
  local want="$1" port="$2"; shift 2
  local got; got=$(timeout 10 redis-cli "${tls[@]}" -p "$port" "$@" 2>&1 | tr '\n' ' ' | sed 's/ $//')
  if [ "$got" != "$want" ]; then echo "FAIL: redis-cli -p $port $* -> '$got' (want '$want')"; failed=1
  else echo "ok: $* -> $got"; fi
}
expect PONG "$r1" ping
expect OK "$r1" set cart:alice apple
expect apple "$r2" get cart:alice          # written through node 1, read through node 2
expect OK "$r3" set cart:alice "apple,pear"
expect "apple,pear" "$r1" get cart:alice   # replaced, not a sibling
expect OK "$r1" setex session:9f2c 1800 alice
ttl=$(redis-cli "${tls[@]}" -p "$r2" ttl session:9f2c)
[ "$ttl" -ge 1799 ] && [ "$ttl" -le 1800 ] && echo "ok: ttl $ttl" || { echo "FAIL: ttl $ttl"; failed=1; }
expect 1 "$r3" del session:9f2c
expect "" "$r1" get session:9f2c
# Concurrent INCRs through two nodes at once, 20 connections each, one pipelined.
redis-benchmark "${tls[@]}" -p "$r1" -t incr -n 2000 -c 20 -q >"$dir/bench1.log" 2>&1 &
b1=$!
redis-benchmark "${tls[@]}" -p "$r2" -t incr -n 2000 -c 20 -P 4 -q >"$dir/bench2.log" 2>&1 &
b2=$!
wait "$b1" "$b2"
expect 4000 "$r3" get counter:__rand_int__
# SCAN (redis-cli --scan): 150 keys written through node 1, listed through node 3 in
# pages (redis-cli asks for COUNT 10), each once.
seq 1 150 | sed 's/^/SET scan:/; s/$/ v/' | timeout 20 redis-cli "${tls[@]}" -p "$r1" >/dev/null
listed=$(timeout 20 redis-cli "${tls[@]}" -p "$r3" --scan --pattern 'scan:*')
if [ "$(printf '%s\n' "$listed" | grep -c '^scan:')" = 150 ] && [ "$(printf '%s\n' "$listed" | sort -u | wc -l)" = 150 ]; then
  echo "ok: SCAN listed 150 keys once each"
else
  echo "FAIL: SCAN listed $(printf '%s\n' "$listed" | wc -l) lines: $(printf '%s' "$listed" | head -c 200)"; failed=1
fi
expect "cart:alice" "$r2" --scan --pattern 'cart:*'
# Sessions on an lww namespace as Redis database 1.
sessions_database "$shoal" "$dir" "$base"
expect OK "$r1" -n 1 set s1 a
expect OK "$r2" -n 1 set s1 b
expect b "$r3" -n 1 get s1
expect "" "$r3" -n 0 get s1              # database 0 is another namespace
# An argument over max_value_bytes: an error, the connection closed, the node serving.
{ printf '*2\r\n$3\r\nGET\r\n$2000000\r\n'; sleep 2; } |
  timeout 5 openssl s_client -quiet -connect "127.0.0.1:$r1" -CAfile "$dir/tls/ca.crt" >"$dir/over.txt" 2>/dev/null || true
grep -q "^-ERR Protocol error: argument of 2000000 bytes is over the limit" "$dir/over.txt" &&
  echo "ok: over-limit argument refused" || { echo "FAIL: over-limit argument: $(head -c 200 "$dir/over.txt")"; failed=1; }
expect PONG "$r1" ping
exit $failed
