#!/usr/bin/env bash
# `shoal dev up 3 --netns`: each node in a network namespace of its own. The CLI reaches
# the nodes by itself, `dev exec` runs other tools beside it; partitions (both ways and
# one way), a bridge and heal act on the network; shoal-bench runs a partition schedule
# with --check and loses no acknowledged add; `dev down` deletes every namespace.
# Root only (exit 77, skipped, otherwise). Usage: netns_dev_test.sh SHOAL_CLI
set -uo pipefail
shoal="$1"
[ "$(id -u)" = 0 ] || { echo "not root: network namespaces cannot be made; skipped"; exit 77; }
command -v ip >/dev/null && command -v iptables >/dev/null || { echo "no ip/iptables: skipped"; exit 77; }
dir="$(mktemp -d /tmp/shoal-netns-dev-XXXXXX)"
cleanup() { "$shoal" --dir "$dir" dev down >/dev/null 2>&1; rm -rf "$dir"; }
trap cleanup EXIT
sh() { "$shoal" --dir "$dir" "$@"; }
failed=0
check() {  # check WHAT COMMAND...: the command must succeed
  local what="$1"; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failed=1; fi
}
if ! out=$(sh dev up 3 --netns 2>&1); then
  echo "$out" | grep -q "cannot" && { echo "namespaces cannot be made here: $out; skipped"; exit 77; }
  echo "FAIL: dev up --netns: $out"; exit 1
fi
tag=$(cat "$dir/netns")
check "three nodes on their own addresses" grep -q "10.78.0.3:7102" "$dir/nodes"
check "the CLI writes and reads from the host" sh put k v
check "the value reads back" bash -c "'$shoal' --dir '$dir' get k --raw | grep -qx v"
check "dev exec reaches a node's HTTP port" sh dev exec -- curl -sf --max-time 2 --cacert "$dir/tls/ca.crt" \
  --cert "$dir/tls/client-admin.crt" --key "$dir/tls/client-admin.key" https://10.78.0.2:7103/health -o /dev/null
# Beyond loopback even /health needs a role: without a certificate it is 401.
check "beyond loopback /health without a certificate is 401" bash -c "[ \"\$('$shoal' --dir '$dir' dev exec -- curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert '$dir/tls/ca.crt' https://10.78.0.2:7103/health)\" = 401 ]"
# Node 3 cut off: writes through node 1 still meet w=2; node 1 soon sees 3 down.
check "partition 3 / 1,2" sh dev partition 3 / 1,2
ok=0; for i in $(seq 1 20); do sh --nodes 10.78.0.1:7102 put "p$i" v >/dev/null && ok=$((ok + 1)); done
check "20 of 20 writes through node 1 during the partition" [ "$ok" = 20 ]
seen_down=0
for _ in $(seq 1 50); do
  sh --http 10.78.0.1:7103 cluster status | grep -Eq "^3 .* no " && { seen_down=1; break; }; sleep 0.2
done
check "node 1 sees node 3 down" [ "$seen_down" = 1 ]
check "node 3 refuses a write it cannot replicate" bash -c "! '$shoal' --dir '$dir' --nodes 10.78.0.3:7102 put x y --timeout-ms 1000 2>/dev/null"
check "heal" sh dev heal
seen_up=0
for _ in $(seq 1 50); do
  sh --http 10.78.0.1:7103 cluster status | grep -Eq "^3 .* yes " && { seen_up=1; break; }; sleep 0.2
done
check "node 3 up again after the heal" [ "$seen_up" = 1 ]
check "one-way cut" sh dev partition 1 / 2 --one-way
check "heal" sh dev heal
check "bridge" sh dev bridge 1 2,3
# Across the bridge node 2 loses node 3 but keeps node 1.
bridged=0
for _ in $(seq 1 50); do
  st=$(sh --http 10.78.0.2:7103 cluster status)
  grep -Eq "^3 .* no " <<<"$st" && grep -Eq "^1 .* yes " <<<"$st" && { bridged=1; break; }; sleep 0.2
done
check "node 2 sees 1 up and 3 down across the bridge" [ "$bridged" = 1 ]
check "heal" sh dev heal
wrote=0  # once node 3's detector has seen its peers again (a few heartbeats)
for _ in $(seq 1 50); do sh --nodes 10.78.0.3:7102 put y z >/dev/null 2>&1 && { wrote=1; break; }; sleep 0.2; done
check "writes through node 3 after the heal" [ "$wrote" = 1 ]
if sh dev netem 2 delay=20ms jitter=5ms loss=1% >/dev/null 2>"$dir/netem.err"; then
  echo "ok: netem"; sh dev heal >/dev/null
else
  echo "netem not available here: $(cat "$dir/netem.err")"
fi
check "usage errors are exit 2" bash -c "'$shoal' --dir '$dir' dev partition 1 2 >/dev/null 2>&1; [ \$? = 2 ]"
bench="$(dirname "$shoal")/shoal-bench"
# Every nemesis in turn under the cart workload, each healed; no acknowledged add lost.
check "shoal-bench --check through isolation, a one-way cut, a bridge and a clock 30 s ahead" \
  "$bench" --dev "$dir" --preset cart --keys 300 --duration 13s --warmup 300ms --quiet --check \
  --fault "at=1s partition 3/1,2; at=3s heal; at=4s partition 1/2 --one-way; at=6s heal; at=7s bridge 1 2,3; \
at=9s heal; at=10s clock n2 +30s; at=12s clock n2 0"
# Membership under faults: a node joins while node 3 is cut off, and after the heal a
# member is removed; everything written before is still there.
for i in $(seq 1 30); do sh put "m$i" "v$i" >/dev/null || { echo "FAIL: put m$i"; failed=1; }; done
check "partition 3 / 1,2 (for a join)" sh dev partition 3 / 1,2
check "a fourth node starts alone" sh dev add --standalone
check "and joins through node 1 during the partition" sh cluster join 4 1
check "heal" sh dev heal
check "the cluster settles after the heal" sh cluster wait --timeout-s 120
check "node 2 killed" sh dev kill 2
check "and removed" sh cluster remove 2 --force
check "the cluster settles again" sh cluster wait --timeout-s 120
readable=0
for i in $(seq 1 30); do
  [ "$(sh --nodes 10.78.0.1:7102,10.78.0.3:7102,10.78.0.4:7102 get "m$i" --raw 2>/dev/null)" = "v$i" ] && readable=$((readable + 1))
done
check "30 of 30 keys written before read back" [ "$readable" = 30 ]
# The teeth: lww on the carts loses concurrent adds, and --check says so (exit 3).
check "the default namespace set to lww" sh ns set default --conflict lww
sleep 2
"$bench" --dev "$dir" --preset cart --keys 300 --duration 3s --warmup 300ms --quiet --check >"$dir/teeth.log" 2>&1
teeth=$?
check "--check reports the adds lww loses (exit 3)" [ "$teeth" = 3 ]
grep "lost [1-9]" "$dir/teeth.log" | head -1
sh dev down >/dev/null
check "dev down deletes every namespace" bash -c "! ip netns list | grep -q '^$tag'"
exit $failed
