#!/usr/bin/env bash
# Who may do what, on real processes of a TLS dev cluster (dev up's default): the
# attacks the security issue names, each refused, and each role doing what it may.
#   - without TLS a node answers nothing; a certificate from another CA is refused
#   - the peer port takes node certificates only (a client's admin certificate is refused)
#   - no certificate and no token: 401 for data, /health stays open on loopback
#   - readonly reads but cannot write; readwrite writes but cannot remove or make leave a
#     member, nor create a namespace; admin can
#   - bearer tokens (shoal token, tokens_file, reloaded by SIGHUP) over HTTP, Redis AUTH
#     and the native protocol's hello (the CLI's --token)
#   - shoald refuses: a certificate of another node, a listener beyond loopback without TLS
# Usage: auth_test.sh SHOAL_CLI
set -uo pipefail
shoal="$1"
bin="$(dirname "$shoal")"
dir="$(mktemp -d /tmp/shoal-auth-XXXXXX)"
base=$((26000 + ($$ + 17) % 20 * 40))  # 26000..26793, as the other shell tests
cleanup() { "$shoal" --dir "$dir" dev down >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
"$shoal" --dir "$dir" dev up 3 --base-port "$base" >"$dir/cli.log" 2>&1 || { echo "FAIL: dev up"; cat "$dir/cli.log"; exit 1; }
t="$dir/tls"
h1="127.0.0.1:$((base + 13))"; p1="127.0.0.1:$((base + 11))"; r1=$((base + 14))
failed=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failed=1; }
code() {  # code [curl args...] URL: the HTTP status (000: no answer); the body in $dir/body
  curl -s -o "$dir/body" -w '%{http_code}' --max-time 5 "$@"
}
# What is checked is the role's answer (204, 401, 403...). A 503 (a node just restarted
# whose links are still coming up, or a request timed out on a loaded machine) is asked
# again, at most three times, and its body shown when it stays.
expect_code() {  # expect_code WANT WHAT [curl args...]
  local want="$1" what="$2"; shift 2
  local got tries=0; got=$(code "$@")
  while [ "$got" = 503 ] && [ "$want" != 503 ] && [ $((tries += 1)) -le 3 ]; do sleep 1; got=$(code "$@"); done
  [ "$got" = "$want" ] && ok "$what: $got" || bad "$what: got $got, want $want ($(head -c 200 "$dir/body" 2>/dev/null))"
}

# Certificates of each role, and another cluster's CA with a node 1 of its own.
"$shoal" cert client reader --role readonly --certs "$t" >/dev/null
"$shoal" cert client writer --role readwrite --certs "$t" >/dev/null
"$shoal" cert init --certs "$dir/other" >/dev/null
"$shoal" cert node 1 --certs "$dir/other" >/dev/null
ca=(--cacert "$t/ca.crt")
as() { echo --cacert "$t/ca.crt" --cert "$t/client-$1.crt" --key "$t/client-$1.key"; }

# Transport.
expect_code 000 "plain HTTP to the TLS port gets no answer" "http://$h1/health"
expect_code 200 "/health over TLS without a client certificate (the listener is on loopback)" "${ca[@]}" "https://$h1/health"
expect_code 000 "a client certificate from another CA is refused" --cacert "$t/ca.crt" --cert "$dir/other/node-1.crt" --key "$dir/other/node-1.key" "https://$h1/kv/x"
# The peer port: a client's certificate (admin even) is no node's.
echo | timeout 5 openssl s_client -quiet -connect "$p1" -CAfile "$t/ca.crt" -cert "$t/client-admin.crt" -key "$t/client-admin.key" >/dev/null 2>&1
sleep 0.3
grep -q 'peer connection refused: TLS handshake" presented="client admin (admin)"' "$dir/n1.log" &&
  ok "the peer port refuses a client certificate" || bad "no refusal of a client certificate on the peer port in n1.log"
echo | timeout 5 openssl s_client -quiet -connect "$p1" -CAfile "$t/ca.crt" >/dev/null 2>&1
sleep 0.3
grep -q 'peer connection refused: TLS handshake" presented="no shoal identity"' "$dir/n1.log" &&
  ok "the peer port refuses a connection without a certificate" || bad "no refusal of a certificate-less peer in n1.log"

# Roles over HTTP.
expect_code 401 "no certificate, no token: a read is 401" "${ca[@]}" "https://$h1/kv/x"
expect_code 204 "readwrite writes" $(as writer) -X PUT --data-binary v "https://$h1/kv/x"
expect_code 200 "readonly reads" $(as reader) "https://$h1/kv/x"
expect_code 403 "readonly cannot write" $(as reader) -X PUT --data-binary w "https://$h1/kv/x"
expect_code 403 "readonly cannot delete" $(as reader) -X DELETE "https://$h1/kv/x"
expect_code 403 "readwrite cannot remove a member" $(as writer) -X POST "https://$h1/cluster/remove?node=3&force=true"
expect_code 403 "readwrite cannot make another node leave" $(as writer) -X POST "https://$h1/cluster/leave?node=2"
expect_code 403 "readwrite cannot create a namespace" $(as writer) -X POST "https://$h1/ns/carts"
expect_code 200 "readonly lists namespaces" $(as reader) "https://$h1/ns"
expect_code 201 "admin creates a namespace" $(as admin) -X POST "https://$h1/ns/carts"
"$shoal" --dir "$dir" cluster status >"$dir/status.txt" 2>&1 && grep -q "settled: yes" "$dir/status.txt" &&
  ok "every member still there (cluster status, as admin)" || bad "cluster status: $(cat "$dir/status.txt")"
# The CLI with a readonly certificate: reads work, a write is refused (exit 5).
"$shoal" --dir "$dir" --cacert "$t/ca.crt" --cert "$t/client-reader.crt" --key "$t/client-reader.key" get x >/dev/null &&
  ok "CLI read as readonly" || bad "CLI read as readonly"
"$shoal" --dir "$dir" --cacert "$t/ca.crt" --cert "$t/client-reader.crt" --key "$t/client-reader.key" put x y 2>"$dir/ro.err"
rc=$?
[ $rc = 5 ] && grep -q "not allowed" "$dir/ro.err" && ok "CLI write as readonly refused (exit 5)" || bad "CLI write as readonly: rc $rc $(cat "$dir/ro.err")"

# The CLI's cluster commands with a readonly certificate: refused, saying which role it needs.
out=$("$shoal" --dir "$dir" --cacert "$t/ca.crt" --cert "$t/client-reader.crt" --key "$t/client-reader.key" cluster remove 3 --force 2>&1)
rc=$?
[ $rc = 5 ] && [[ "$out" == *"403 this needs the admin role; client reader (readonly) holds readonly"* ]] &&
  ok "CLI cluster remove as readonly: refused (exit 5)" || bad "CLI cluster remove as readonly: rc $rc: $out"

# A renewed certificate without a restart: reissue node 1's, SIGHUP, new connections get it.
served_serial() { echo | timeout 5 openssl s_client -connect "$h1" -CAfile "$t/ca.crt" 2>/dev/null | openssl x509 -noout -serial; }
before=$(served_serial)
rm -f "$t/node-1.crt" "$t/node-1.key"
"$shoal" cert node 1 --certs "$t" >/dev/null
want=$(openssl x509 -noout -serial -in "$t/node-1.crt")
[ "$before" != "$want" ] || bad "the reissued certificate has the old serial"
kill -HUP "$(cat "$dir/n1.pid")"; sleep 0.5
after=$(served_serial)
[ -n "$want" ] && [ "$after" = "$want" ] && ok "SIGHUP: node 1 serves its renewed certificate ($after)" ||
  bad "after SIGHUP node 1 serves '$after', want '$want' (before: '$before')"
"$shoal" --dir "$dir" put renewed v >/dev/null && ok "writes through the cluster after the renewal" || bad "write after the renewal"

# Tokens: a readwrite token for node 1, read at its restart; another added and reloaded by SIGHUP.
tok=$("$shoal" token app --role readwrite --tokens "$t/tokens")
echo "tokens_file = $t/tokens" >>"$dir/n1.conf"
"$shoal" --dir "$dir" dev restart 1 >>"$dir/cli.log" 2>&1 || bad "restart node 1 with a tokens_file"
expect_code 204 "a readwrite token writes" "${ca[@]}" -H "Authorization: Bearer $tok" -X PUT --data-binary t "https://$h1/kv/t"
expect_code 401 "an unknown token is 401" "${ca[@]}" -H "Authorization: Bearer 0123456789abcdef0123456789abcdef" "https://$h1/kv/t"
expect_code 403 "a readwrite token cannot remove a member" "${ca[@]}" -H "Authorization: Bearer $tok" -X POST "https://$h1/cluster/remove?node=3"
late=$("$shoal" token late --role readonly --tokens "$t/tokens")
expect_code 401 "a token added after the start is unknown before SIGHUP" "${ca[@]}" -H "Authorization: Bearer $late" "https://$h1/kv/t"
kill -HUP "$(cat "$dir/n1.pid")"; sleep 0.5
expect_code 200 "after SIGHUP it reads" "${ca[@]}" -H "Authorization: Bearer $late" "https://$h1/kv/t"
# Redis: no certificate means no role until AUTH.
rc() { timeout 10 redis-cli --no-auth-warning --tls --cacert "$t/ca.crt" -p "$r1" "$@" 2>&1 | tr '\n' ' ' | sed 's/ $//'; }
got=$(rc set k v); [[ "$got" == NOAUTH* ]] && ok "redis SET without AUTH: $got" || bad "redis SET without AUTH: $got"
got=$(rc --user app --pass "$tok" set k v); [ "$got" = OK ] && ok "redis SET after AUTH app: OK" || bad "redis SET after AUTH: $got"
got=$(rc --pass wrong-token-wrong-token get k); [[ "$got" == *WRONGPASS* ]] && ok "redis AUTH with a bad token: WRONGPASS" || bad "redis AUTH bad token: $got"

# The native protocol: a token in the client's hello names it (node 1 reads the tokens).
n1="127.0.0.1:$((base + 12))"
native() { timeout 20 "$shoal" --dir "$dir" --cacert "$t/ca.crt" --nodes "$n1" "$@"; }
native put nt v 2>"$dir/nt.err"; rc=$?
[ $rc = 5 ] && grep -q "not allowed" "$dir/nt.err" && ok "native put with no certificate and no token refused (exit 5)" || bad "native put, no credentials: rc $rc $(cat "$dir/nt.err")"
native --token "$tok" put nt v >/dev/null 2>"$dir/nt.err" && ok "native put with a readwrite token" || bad "native put with a readwrite token: $(cat "$dir/nt.err")"
native --token "$late" get nt >/dev/null 2>"$dir/nt.err" && ok "native get with a readonly token" || bad "native get with a readonly token: $(cat "$dir/nt.err")"
native --token "$late" put nt w 2>"$dir/nt.err"; rc=$?
[ $rc = 5 ] && grep -q "not allowed" "$dir/nt.err" && ok "native put with a readonly token refused (exit 5)" || bad "native put, readonly token: rc $rc $(cat "$dir/nt.err")"
SHOAL_TOKEN=0123456789abcdef0123456789abcdef native get nt 2>"$dir/nt.err"; rc=$?
[ $rc = 5 ] && grep -q "not allowed" "$dir/nt.err" && ok "native get with an unknown token (\$SHOAL_TOKEN) refused (exit 5)" || bad "native get, unknown token: rc $rc $(cat "$dir/nt.err")"
native --token short get nt 2>"$dir/nt.err"; rc=$?
[ $rc = 2 ] && grep -q "a token is 16 to 128 bytes" "$dir/nt.err" && ok "a token of 5 bytes is a usage error (exit 2)" || bad "short token: rc $rc $(cat "$dir/nt.err")"

# A token names the caller over its certificate, on HTTP as on the native protocol.
expect_code 204 "a readwrite token over a readonly certificate writes" $(as reader) -H "Authorization: Bearer $tok" -X PUT --data-binary t "https://$h1/kv/t2"

# A token revoked (its line gone, SIGHUP) stops working on connections already open:
# one Redis connection authenticates, writes, sees the revocation, and is refused.
gone=$("$shoal" token gone --role readwrite --tokens "$t/tokens")
kill -HUP "$(cat "$dir/n1.pid")"; sleep 0.5
got=$(timeout 20 /usr/bin/python3 - "$r1" "$t/ca.crt" "$gone" "$t/tokens" "$(cat "$dir/n1.pid")" <<'PY' 2>&1
import os, signal, sys, time
import redis
port, ca, token, tokens, pid = sys.argv[1:6]
r = redis.Redis(host="127.0.0.1", port=int(port), password=token, ssl=True, ssl_ca_certs=ca,
                single_connection_client=True, socket_timeout=5)
r.set("rv", "1")
lines = [l for l in open(tokens) if not l.startswith("gone ")]
open(tokens, "w").writelines(lines)
os.kill(int(pid), signal.SIGHUP)
time.sleep(0.5)
try:
    r.set("rv", "2")
    print("still writes")
except Exception as e:  # NOAUTH: the connection holds no role now
    print("refused:", e)
PY
)
[[ "$got" == refused:*"authentication required"* ]] && ok "a token revoked by SIGHUP: the open Redis connection is refused ($got)" ||
  bad "revoked token on an open Redis connection: $got"

# shoald refuses to start on a certificate that names another node, and beyond loopback without TLS.
sed -e "s|node-1\.|node-2.|g" -e "s|^data_dir = .*|data_dir = $dir/wrong|" -e "s|:$((base + 1))\([1-4]\)|:$((base + 5))\1|g" "$dir/n1.conf" >"$dir/wrong.conf"
timeout 10 "$bin/shoald" --config "$dir/wrong.conf" >"$dir/wrong.log" 2>&1
rc=$?
[ $rc != 0 ] && grep -q "names node 2, not node 1" "$dir/wrong.log" && ok "shoald refuses another node's certificate" || bad "shoald with node 2's certificate as node 1: rc $rc $(tail -2 "$dir/wrong.log")"
timeout 10 "$bin/shoald" --id 9 --data-dir "$dir/open" --peer-listen 0.0.0.0:$((base + 38)) >"$dir/open.log" 2>&1
rc=$?
[ $rc != 0 ] && grep -q "beyond loopback and TLS is off" "$dir/open.log" && ok "shoald refuses a peer port beyond loopback without TLS" || bad "open peer port: rc $rc $(tail -2 "$dir/open.log")"

# Another node's status changes through the ruler (the claimant, node 1): node 2
# answers 421 naming it, and the CLI follows the answer there.
h2="127.0.0.1:$((base + 23))"
expect_code 421 "node 2 sends a leave of node 3 to the ruler" $(as admin) -X POST "https://$h2/cluster/leave?node=3"
out=$("$shoal" --dir "$dir" --http "$h2" cluster leave 3 2>&1); rc=$?
[ $rc = 0 ] && [[ "$out" == *"asking $h1"* ]] && ok "CLI cluster leave through node 2 is sent on to node 1" ||
  bad "CLI cluster leave through node 2: rc $rc: $out"
exit $failed
