#!/usr/bin/env bash
# The shoal CLI's usage errors: unknown options, out-of-range values and missing
# arguments exit 2 with a message naming the problem, before any node is asked;
# `--` ends the options. Usage: cli_usage_test.sh SHOAL_CLI
set -u
shoal="$1"
dir="$(mktemp -d /tmp/shoal-cli-XXXXXX)"  # an empty dev folder: no node to reach
trap 'rm -rf "$dir"' EXIT
failed=0
expect() {  # expect CODE PATTERN ARGS...: exit code and a line of stderr
  local code="$1" pattern="$2"; shift 2
  local err rc
  err=$("$shoal" --dir "$dir" --nodes 127.0.0.1:1 "$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -qF -e "$pattern" <<<"$err"; then
    echo "FAIL: shoal $* -> exit $rc (want $code), stderr: $err"; failed=1
  else
    echo "ok: shoal $* -> $code ($(head -1 <<<"$err"))"
  fi
}
expect 2 "unknown option --bogus" get k --bogus x
expect 2 "unknown option --rr" get k --rr 2
expect 2 "--r must be 1..16, one, quorum or all" get k --r 99
expect 2 "--r must be 1..16" get k --r 0
expect 2 "--pw must be 0..16" put k v --pw 17
expect 2 "--timeout-ms must be" get k --timeout-ms 0
expect 2 "--ttl-s must be" put k v --ttl-s 999999999999
expect 2 "usage: shoal get KEY" get
expect 2 "--if-none-match and --if-match exclude each other" put k v --if-none-match --if-match x
expect 2 "needs a value" get k --r
# `--` ends the options: "--k" is the key, so the request is tried (and finds no node).
expect 4 "shoal get" get -- --k
expect 2 "--ns takes 1 to 32" get k --ns Bad
expect 2 "--conflict applies to \`shoal ns\`" put k v --conflict lww
expect 2 "usage: shoal ns list" ns
expect 2 "name the namespace with --ns" set add cart apple
expect 2 "usage: shoal set add KEY MEMBER" set add
expect 2 "name at least one member" set add cart --ns carts
expect 2 "N must be 1.." counter incr k 0 --ns hits
expect 2 "N must be 1.." counter incr k 9223372036854775808 --ns hits
expect 2 "usage: shoal counter incr" counter incr k 1 2 --ns hits
expect 2 "usage: shoal map set KEY FIELD VALUE" map set k f --ns profiles
expect 2 "name at least one field" map del k --ns profiles
expect 2 "usage: shoal set add" set frobnicate k --ns carts
"$shoal" --version | grep -q "^shoal [0-9]" || { echo "FAIL: --version"; failed=1; }
# Each command's --help: its usage and an example, exit 0.
for cmd in get put del set counter map ns cluster dev; do
  out=$("$shoal" "$cmd" --help); rc=$?
  if [ "$rc" -ne 0 ] || ! grep -q "^usage: shoal $cmd" <<<"$out" || ! grep -q "^example" <<<"$out"; then
    echo "FAIL: shoal $cmd --help -> exit $rc: $out"; failed=1
  else
    echo "ok: shoal $cmd --help"
  fi
done
exit $failed
