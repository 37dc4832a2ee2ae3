# Sourced by the Redis-protocol shell tests. sessions_database SHOAL DIR BASE: makes an
# lww namespace `sessions` in the 3-node dev cluster under DIR (base port BASE), serves
# it as Redis database 1 on every node (resp_databases, then a restart of each), and
# waits, at most 5 s a node, until gossip has brought the namespace to all three.
sessions_database() {
  local shoal="$1" dir="$2" base="$3" n
  "$shoal" --dir "$dir" ns create sessions --conflict lww >>"$dir/cli.log"
  for n in 1 2 3; do
    echo "resp_databases = default,sessions" >>"$dir/n$n.conf"
    "$shoal" --dir "$dir" dev restart "$n" >>"$dir/cli.log" 2>&1
  done
  for n in 1 2 3; do
    for _ in $(seq 1 50); do
      curl -sf --max-time 1 --cacert "$dir/tls/ca.crt" "https://127.0.0.1:$((base + 10 * n + 3))/ns/sessions" >/dev/null && break
      sleep 0.1
    done
  done
}
