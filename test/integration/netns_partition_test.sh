#!/usr/bin/env bash
# Peer links that heal when the network does: three real shoald processes, each in
# its own Linux network namespace, joined by a bridge in a fourth ("hub") namespace.
# Node 3 is cut off from nodes 1 and 2 with iptables (every packet dropped, both
# ways) for 30 s while writes continue through node 1; then the rules are flushed
# and the test measures, without any client reads,
#   (a) heal -> every node sees every peer up (and routable, where /cluster says so),
#   (b) heal -> all replicas agree (the three /cluster data_digest values are equal).
# With N = 3 on three nodes every node holds every partition, so equal digests mean
# equal data. Only the bounds are asserted; the times are printed as figures.
#
# usage: netns_partition_test.sh [PATH/TO/shoald]
# (SHOAL_KEEP_LOGS=1 keeps the node logs after a pass too; a failure always keeps them.)
# Needs root, iproute2 (ip netns, veth, bridge), iptables and curl; without them it
# says why and exits 77 (ctest: skipped).
#
# It creates only its own namespaces (names carry this script's PID), gives
# addresses (10.77.0.0/24) only inside them, and on exit kills exactly the shoald
# processes it started and deletes every namespace it created.
set -uo pipefail

readonly SKIP=77
readonly CUT_S=30            # how long node 3 is cut off
readonly SETTLE_BOUND_S=30   # start -> settled on all three nodes
readonly AGREE_BOUND_S=20    # before the cut: replicas agree after the first writes
readonly HEAL_BOUND_S=120    # heal -> (a) and (b)
readonly PRE_KEYS=300        # written through node 1 before the cut
readonly CUT_RATE=20         # writes per second through node 1 during the cut

say() { printf 'netns-partition: %s\n' "$*"; }
skip() { say "SKIP: $*"; exit "$SKIP"; }

here=$(cd "$(dirname "$0")" && pwd)
SHOALD=${1:-${SHOALD:-$here/../../build/release/shoald}}

# --- preconditions: otherwise skipped, never failed ---------------------------------
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and iptables)"
for tool in ip iptables curl; do
    command -v "$tool" >/dev/null 2>&1 || skip "'$tool' is not installed (scripts/deps installs it)"
done
[ -x "$SHOALD" ] || { say "FAIL: shoald not found or not executable at '$SHOALD'"; exit 1; }
SHOALD=$(cd "$(dirname "$SHOALD")" && pwd)/$(basename "$SHOALD")

# --- names and clean-up -------------------------------------------------------------
readonly tag="shoalnp$$"
readonly hub="${tag}hub"
ns=("" "${tag}n1" "${tag}n2" "${tag}n3")
addr=("" 10.77.0.1 10.77.0.2 10.77.0.3)
created_ns=()
pids=("" "" "" "")
writer_pids=()
work=$(mktemp -d /tmp/shoal-netns-partition.XXXXXX)

# A node is one of our own children (`ip netns exec` execs shoald in place): its pid
# cannot be reused before we reap it, so "exists and is not a zombie" is exact.
# (No check of the process name: a binary may be called shoald-old or anything else.)
node_running() {
    local pid=$1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]
}

cleanup() {
    local rc=$?
    # A second signal (timeout(1) and ctest signal the whole process group) must not
    # cut the clean-up short.
    trap '' INT TERM
    trap - EXIT
    local p i n
    for p in "${writer_pids[@]}"; do kill "$p" 2>/dev/null; done
    for i in 1 2 3; do
        [ -n "${pids[$i]}" ] && kill -TERM "${pids[$i]}" 2>/dev/null
    done
    # The namespaces go first: a namespace whose name is deleted lives on only until
    # its last process exits. Deleting one removes its veth ends and iptables rules.
    for n in "${created_ns[@]}"; do ip netns del "$n" 2>/dev/null || say "could not delete namespace $n"; done
    # Up to 10 s for a clean exit, then SIGKILL; `wait` only reaps, never blocks long.
    local deadline=$((SECONDS + 10))
    for i in 1 2 3; do
        [ -n "${pids[$i]}" ] || continue
        while node_running "${pids[$i]}" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
        if node_running "${pids[$i]}"; then
            say "node $i (pid ${pids[$i]}) did not stop in time; SIGKILL"
            kill -KILL "${pids[$i]}" 2>/dev/null
        fi
        wait "${pids[$i]}" 2>/dev/null
    done
    for p in "${writer_pids[@]}"; do wait "$p" 2>/dev/null; done  # curl --max-time 3 bounds these
    if { [ "$rc" -eq 0 ] || [ "$rc" -eq "$SKIP" ]; } && [ -z "${SHOAL_KEEP_LOGS:-}" ]; then
        rm -rf "$work"
    else
        say "node logs kept in $work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_logs() {
    local i
    for i in 1 2 3; do
        echo "----- node $i: last lines of $work/n$i.log"
        tail -n 40 "$work/n$i.log" 2>/dev/null
    done
}

fail() {
    say "FAIL: $*"
    local i
    for i in 1 2 3; do
        echo "----- node $i /cluster: $(facts "$i")"
    done
    show_logs
    exit 1
}

# --- the network: hub bridge, three node namespaces ---------------------------------
make_ns() {
    ip netns add "$1" 2>"$work/ip.err" || skip "cannot create a network namespace: $(cat "$work/ip.err")"
    created_ns+=("$1")
    ip -n "$1" link set lo up
}

make_ns "$hub"
ip -n "$hub" link add br0 type bridge 2>"$work/ip.err" || skip "cannot create a bridge: $(cat "$work/ip.err")"
ip -n "$hub" link set br0 up
for i in 1 2 3; do
    make_ns "${ns[$i]}"
    # The pair is made inside the hub and one end moved straight into the node's
    # namespace: nothing of it ever appears outside the namespaces made here.
    ip -n "$hub" link add "b$i" type veth peer name eth0 netns "${ns[$i]}" 2>"$work/ip.err" ||
        skip "cannot create a veth pair: $(cat "$work/ip.err")"
    ip -n "$hub" link set "b$i" master br0
    ip -n "$hub" link set "b$i" up
    ip -n "${ns[$i]}" addr add "${addr[$i]}/24" dev eth0
    ip -n "${ns[$i]}" link set eth0 up
done
ip netns exec "${ns[3]}" iptables -L INPUT -n >/dev/null 2>"$work/ip.err" ||
    skip "iptables does not work inside a network namespace: $(cat "$work/ip.err")"

# --- helpers ------------------------------------------------------------------------
now_us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
secs() { local d=$1; printf '%d.%01d' $((d / 1000000)) $(((d % 1000000) / 100000)); }  # µs -> "S.d"

http() {  # http NODE PATH [curl args...]: from inside the node's own namespace
    local i=$1 path=$2
    shift 2
    ip netns exec "${ns[$i]}" curl -s --max-time 1 "${curl_tls[@]}" "$@" "https://${addr[$i]}:7103$path"
}

# facts NODE -> one line of what the node's /cluster says:
#   members=M peers_up=U peers_routable=R routable_field=0|1 settled=0|1 digest=HEX|-
facts() {
    local i=$1 j
    j=$(http "$i" /cluster) || { echo "unreachable"; return 1; }
    [ -n "$j" ] || { echo "unreachable"; return 1; }
    local self members settled=0 digest=- rfield=0
    self=$(sed -n 's/^{"node":\([0-9]*\),.*/\1/p' <<<"$j")
    members=$(sed -n 's/.*"members":\[\([^]]*\)\].*/\1/p' <<<"$j" | sed 's/},{/}\n{/g')
    local m_count peers p_up p_rt
    m_count=$(grep -c '"id":' <<<"$members")
    peers=$(grep -v "^{\"id\":$self," <<<"$members")
    p_up=$(grep -c '"up":true' <<<"$peers")
    p_rt=$(grep -c '"routable":true' <<<"$peers")
    grep -q '"routable":' <<<"$members" && rfield=1
    local valid
    valid=$(grep -c '"status":"valid"' <<<"$members")
    if [[ $j == *'"settled":true'* && $j == *'"transfers":[]'* && $j == '{"node":'*',"status":"valid",'* &&
        $valid -eq $m_count ]]; then
        settled=1
    fi
    [[ $j =~ \"data_digest\":\"([0-9a-f]+)\" ]] && digest=${BASH_REMATCH[1]}
    echo "members=$m_count peers_up=$p_up peers_routable=$p_rt routable_field=$rfield settled=$settled digest=$digest"
}

field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }  # field FACTS NAME

# all_peers_up F1 F2 F3: every node lists 3 members and sees both peers up (and
# routable, when the binary reports "routable").
all_peers_up() {
    local f
    for f in "$@"; do
        [ "$(field "$f" members)" = 3 ] || return 1
        [ "$(field "$f" peers_up)" = 2 ] || return 1
        if [ "$(field "$f" routable_field)" = 1 ]; then [ "$(field "$f" peers_routable)" = 2 ] || return 1; fi
    done
}

digests_agree() {  # digests_agree F1 F2 F3
    local d1 d2 d3
    d1=$(field "$1" digest) d2=$(field "$2" digest) d3=$(field "$3" digest)
    [ "$d1" != - ] && [ -n "$d1" ] && [ "$d1" = "$d2" ] && [ "$d2" = "$d3" ]
}

# put_many NODE PREFIX FROM TO: one curl, one PUT per key; prints the 204 count.
put_many() {
    local i=$1 prefix=$2 from=$3 to=$4 k cfg="$work/put-$2.cfg"
    : >"$cfg"
    for ((k = from; k <= to; k++)); do
        # (`next` resets the options: each request names the TLS files again.)
        printf 'url = "https://%s:7103/kv/%s-%d"\nrequest = "PUT"\ndata-binary = "value-%s-%d-%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nmax-time = 3\ncacert = "%s"\ncert = "%s"\nkey = "%s"\nnext\n' \
            "${addr[$i]}" "$prefix" "$k" "$prefix" "$k" "$tag" "${curl_tls[1]}" "${curl_tls[3]}" "${curl_tls[5]}" >>"$cfg"
    done
    ip netns exec "${ns[$i]}" curl -s -K "$cfg" 2>/dev/null | grep -c '^204$'
}

# --- certificates: the nodes listen beyond loopback, so with TLS, as a deployment would
SHOAL_CLI="$(dirname "$SHOALD")/shoal"
[ -x "$SHOAL_CLI" ] || fail "the shoal CLI (for shoal cert) is not beside shoald: $SHOAL_CLI"
certs="$work/tls"
"$SHOAL_CLI" cert init --certs "$certs" >/dev/null || fail "shoal cert init"
for i in 1 2 3; do "$SHOAL_CLI" cert node "$i" --hosts "${addr[$i]}" --certs "$certs" >/dev/null || fail "shoal cert node $i"; done
"$SHOAL_CLI" cert client probe --role admin --certs "$certs" >/dev/null || fail "shoal cert client"
curl_tls=(--cacert "$certs/ca.crt" --cert "$certs/client-probe.crt" --key "$certs/client-probe.key")

# --- start three nodes --------------------------------------------------------------
for i in 1 2 3; do
    mkdir -p "$work/n$i"
    {
        echo "# written by netns_partition_test.sh"
        echo "id = $i"
        echo "data_dir = $work/n$i"
        echo "peer_listen = ${addr[$i]}:7101"
        echo "client_listen = ${addr[$i]}:7102"
        echo "http_listen = ${addr[$i]}:7103"
        echo "resp_listen = ${addr[$i]}:7104"
        [ "$i" -ne 1 ] && echo "seeds = ${addr[1]}:7101"
        echo "gossip_interval_ms = 200"
        echo "n = 3"
        echo "r = 2"
        echo "w = 2"
        echo "log_level = info"
        echo "tls_ca = $certs/ca.crt"
        echo "tls_cert = $certs/node-$i.crt"
        echo "tls_key = $certs/node-$i.key"
    } >"$work/n$i.conf"
    # `ip netns exec` execs the command in place, so $! is shoald itself.
    ip netns exec "${ns[$i]}" "$SHOALD" --config "$work/n$i.conf" </dev/null >"$work/n$i.log" 2>&1 &
    pids[$i]=$!
done
sleep 0.2
for i in 1 2 3; do
    node_running "${pids[$i]}" || fail "node $i (pid ${pids[$i]}) is not running"
done
say "shoald $SHOALD; nodes ${pids[1]} ${pids[2]} ${pids[3]} in ${ns[1]} ${ns[2]} ${ns[3]}"

t0=$(now_us)
deadline=$((SECONDS + SETTLE_BOUND_S))
while :; do
    f1=$(facts 1) f2=$(facts 2) f3=$(facts 3)
    if [ "$(field "$f1" settled)" = 1 ] && [ "$(field "$f2" settled)" = 1 ] && [ "$(field "$f3" settled)" = 1 ] &&
        all_peers_up "$f1" "$f2" "$f3"; then
        break
    fi
    [ $SECONDS -lt $deadline ] || fail "the cluster did not settle within $SETTLE_BOUND_S s"
    sleep 0.25
done
say "settled, every peer up: $(secs $(($(now_us) - t0))) s after start"
has_digest=1
[ "$(field "$f1" digest)" = - ] && has_digest=0
has_routable=$(field "$f1" routable_field)
[ "$has_routable" = 1 ] || say "note: this shoald reports no \"routable\"; (a) waits for \"up\" only"
[ "$has_digest" = 1 ] || say "note: this shoald reports no \"data_digest\"; (b) cannot be measured"

# --- writes before the cut ------------------------------------------------------------
t=$(now_us)
ok=$(put_many 1 pre 1 "$PRE_KEYS")
say "before the cut: $ok of $PRE_KEYS writes through node 1 answered 204 in $(secs $(($(now_us) - t))) s"
[ "$ok" -gt 0 ] || fail "no write succeeded before the cut"
if [ "$has_digest" = 1 ]; then
    t=$(now_us)
    deadline=$((SECONDS + AGREE_BOUND_S))
    agreed=0
    while [ $SECONDS -lt $deadline ]; do
        if digests_agree "$(facts 1)" "$(facts 2)" "$(facts 3)"; then agreed=1; break; fi
        sleep 0.25
    done
    if [ "$agreed" = 1 ]; then
        say "before the cut: replicas agree $(secs $(($(now_us) - t))) s after the last write"
    else
        say "note: before the cut the replicas did not agree within $AGREE_BOUND_S s"
    fi
fi

# --- the cut: node 3 loses every packet to and from nodes 1 and 2 --------------------
for peer in 1 2; do
    ip netns exec "${ns[3]}" iptables -A INPUT -s "${addr[$peer]}" -j DROP || fail "iptables INPUT rule"
    ip netns exec "${ns[3]}" iptables -A OUTPUT -d "${addr[$peer]}" -j DROP || fail "iptables OUTPUT rule"
done
cut_at=$(now_us)
say "cut: node 3 isolated from nodes 1 and 2 for $CUT_S s, writes continue through node 1 at ~$CUT_RATE/s"

: >"$work/cut-results"
cut_writes=0
seen_3_down="" seen_by_3_down=""
next_poll=$cut_at
end_us=$((cut_at + CUT_S * 1000000))
interval_us=$((1000000 / CUT_RATE))
next_write=$cut_at
while :; do
    n=$(now_us)
    [ "$n" -lt "$end_us" ] || break
    if [ "$n" -ge "$next_write" ]; then
        cut_writes=$((cut_writes + 1))
        k=$cut_writes
        ip netns exec "${ns[1]}" curl -s "${curl_tls[@]}" -o /dev/null --max-time 3 -w '%{http_code}\n' -X PUT \
            --data-binary "value-cut-$k-$tag" "https://${addr[1]}:7103/kv/cut-$k" >>"$work/cut-results" 2>/dev/null &
        writer_pids+=($!)
        next_write=$((next_write + interval_us))
    fi
    # Every 0.5 s: when does each side notice the other is gone? (a figure, not asserted)
    if [ "$n" -ge "$next_poll" ]; then
        next_poll=$((n + 500000))
        if [ -z "$seen_3_down" ]; then
            g1=$(facts 1) g2=$(facts 2)
            [ "$(field "$g1" peers_up)" = 1 ] && [ "$(field "$g2" peers_up)" = 1 ] && seen_3_down=$((n - cut_at))
        fi
        if [ -z "$seen_by_3_down" ]; then
            [ "$(field "$(facts 3)" peers_up)" = 0 ] && seen_by_3_down=$((n - cut_at))
        fi
    fi
    sleep 0.02
done
# Let the writes still in flight finish (each is bounded by --max-time 3) before healing,
# so that nothing is written after the heal.
for p in "${writer_pids[@]}"; do wait "$p" 2>/dev/null; done
writer_pids=()
cut_ok=$(grep -c '^204$' "$work/cut-results")
say "cut: $cut_ok of $cut_writes writes through node 1 answered 204 (the rest failed or timed out; not asserted)"
say "cut -> nodes 1 and 2 see node 3 down: $([ -n "$seen_3_down" ] && echo "$(secs "$seen_3_down") s" || echo "not within the cut")"
say "cut -> node 3 sees nodes 1 and 2 down: $([ -n "$seen_by_3_down" ] && echo "$(secs "$seen_by_3_down") s" || echo "not within the cut")"

# --- heal, then measure ----------------------------------------------------------------
ip netns exec "${ns[3]}" iptables -F INPUT || fail "iptables -F INPUT"
ip netns exec "${ns[3]}" iptables -F OUTPUT || fail "iptables -F OUTPUT"
heal_at=$(now_us)
say "heal after $(secs $((heal_at - cut_at))) s of cut"

up_after="" agree_after=""
deadline=$((SECONDS + HEAL_BOUND_S))
while :; do
    f1=$(facts 1) f2=$(facts 2) f3=$(facts 3)
    n=$(now_us)
    [ -z "$up_after" ] && all_peers_up "$f1" "$f2" "$f3" && up_after=$((n - heal_at))
    [ "$has_digest" = 1 ] && [ -z "$agree_after" ] && digests_agree "$f1" "$f2" "$f3" && agree_after=$((n - heal_at))
    if [ -n "$up_after" ] && { [ "$has_digest" = 0 ] || [ -n "$agree_after" ]; }; then break; fi
    [ $SECONDS -lt $deadline ] || break
    sleep 0.25
done

what_up="all peers up and routable"
[ "$has_routable" = 1 ] || what_up="all peers up (no \"routable\" in this binary)"
if [ -n "$up_after" ]; then
    say "heal -> $what_up: $(secs "$up_after") s"
else
    say "heal -> $what_up: not within $HEAL_BOUND_S s"
fi
if [ "$has_digest" = 1 ]; then
    if [ -n "$agree_after" ]; then
        say "heal -> replicas agree (equal digests): $(secs "$agree_after") s"
    else
        say "heal -> replicas agree (equal digests): not within $HEAL_BOUND_S s"
    fi
else
    say "heal -> replicas agree (equal digests): not measurable (no \"data_digest\" in this binary)"
fi
[ -n "$up_after" ] || fail "after the heal not every node saw every peer up within $HEAL_BOUND_S s"
[ "$has_digest" = 0 ] || [ -n "$agree_after" ] || fail "after the heal the replicas did not agree within $HEAL_BOUND_S s"

# --- only now, reads: keys written before the cut, through every node ----------------
bad=0
for k in 1 $((PRE_KEYS / 3)) $((PRE_KEYS / 2)) $((PRE_KEYS - 1)) "$PRE_KEYS"; do
    for i in 1 2 3; do
        got=$(http "$i" "/kv/pre-$k" --max-time 3)
        if [ "$got" != "value-pre-$k-$tag" ]; then
            say "read pre-$k through node $i: got '${got:0:80}', want 'value-pre-$k-$tag'"
            bad=$((bad + 1))
        fi
    done
done
[ "$bad" -eq 0 ] || fail "$bad reads of keys written before the cut came back wrong"
say "reads after the measurement: every key written before the cut reads back right through every node"

# What the nodes said about their peer links (a summary, not asserted).
for i in 1 2 3; do
    grep -E 'level=(warn|error)' "$work/n$i.log" 2>/dev/null |
        sed -E 's/^ts=[^ ]* //; s/ (ts|at|elapsed_ms|bytes|queued|seq)=[^ ]*//g' | sort | uniq -c | sort -rn |
        head -n 8 | sed "s/^/netns-partition: node $i log: /"
done
say "PASS"
exit 0
