#!/usr/bin/env bash
# The Debian package: built with CPack from this build, unpacked into a temporary root
# (dpkg-deb -x, no install), its binaries run from there, shoald started from it with the
# packaged config (pointed at a temporary data dir and free ports) and answering /health;
# its systemd unit checked by systemd-analyze verify where that exists.
# Usage: package_test.sh BUILD_DIR
set -euo pipefail
build="$1"
work="$(mktemp -d /tmp/shoal-package-XXXXXX)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
( cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 ) || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/out/shoal_*.deb)
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg-deb --info "$deb" | grep -E "^ (Package|Version|Depends):"
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
failed=0
for f in usr/bin/shoald usr/bin/shoal usr/bin/shoal-bench usr/bin/shoal-sim lib/systemd/system/shoald.service \
         etc/shoal/shoald.conf usr/share/doc/shoal/README.md; do
  [ -e "$work/root/$f" ] || { echo "FAIL: $f missing from the package"; failed=1; }
done
grep -qx /etc/shoal/shoald.conf "$work/control/conffiles" || { echo "FAIL: shoald.conf is not a conffile"; failed=1; }
[ -x "$work/control/postinst" ] || { echo "FAIL: no postinst"; failed=1; }
for b in shoald shoal shoal-bench shoal-sim; do
  v=$("$work/root/usr/bin/$b" --version) || { echo "FAIL: $b --version"; failed=1; continue; }
  echo "ok: $v"
done
# shoald from the package, on the packaged config with a temporary data dir and ports.
port=$((26000 + ($$ + 13) % 20 * 40 + 30))
sed -e "s|^data_dir = .*|data_dir = $work/data|" -e "s|:7101|:$((port + 1))|" -e "s|:7102|:$((port + 2))|" \
    -e "s|:7103|:$((port + 3))|" -e "s|:7104|:$((port + 4))|" \
    -e "s|^n = 3|n = 1|" -e "s|^r = 2|r = 1|" -e "s|^w = 2|w = 1|" "$work/root/etc/shoal/shoald.conf" >"$work/shoald.conf"
"$work/root/usr/bin/shoald" --config "$work/shoald.conf" >"$work/shoald.log" 2>&1 &
pid=$!
ok=0
for _ in $(seq 1 50); do
  if curl -sf --max-time 1 "http://127.0.0.1:$((port + 3))/health" >"$work/health" 2>/dev/null &&
     grep -q '"joined":true' "$work/health"; then ok=1; break; fi
  sleep 0.1
done
if [ $ok = 1 ] && "$work/root/usr/bin/shoal" --nodes "127.0.0.1:$((port + 2))" put k v >/dev/null; then
  echo "ok: the packaged shoald serves: $(cat "$work/health")"
else
  echo "FAIL: the packaged shoald did not serve"; cat "$work/shoald.log"; failed=1
fi
if command -v systemd-analyze >/dev/null; then
  # The unit as installed, with its paths pointing into the unpacked root.
  sed -e "s|/usr/bin/shoald|$work/root/usr/bin/shoald|" "$work/root/lib/systemd/system/shoald.service" >"$work/shoald.service"
  if out=$(systemd-analyze verify "$work/shoald.service" 2>&1); then echo "ok: systemd-analyze verify"
  else echo "FAIL: systemd-analyze verify: $out"; failed=1; fi
else
  echo "systemd-analyze not here: unit not verified"
fi
exit $failed
