#!/bin/sh
# SPDX-License-Identifier: MIT
# test_nf_deferred.sh - issue 13: the netfront's grants across reconnects,
# against a backend that keeps its old rings mapped and against xnbd.
#
# Hostile: hostile_back plays the backend of vif96.0 from a driver domain
# (95) and cycles Closing -> Closed -> InitWait with every connection's two
# rings still mapped (see hostile_back.c for its own checks, done on the
# netfront's grant table). The netfront (domid 96, in a network namespace,
# its domain's memory XNB_SIM_PAGES=640: one connection's 514 pages and
# room for 126 more) must keep those pages granted and count them ("deferred
# pages" 2, 4, ... 64 in its log), hold back at 64 (once, saying why) with
# sharing never failing, release all 64 once the backend unmaps them, and
# connect again by itself; after honest cycles and an orderly close its
# SIGUSR1 line reads shared pages 0, deferred pages 0. Tear-down that
# abandons the shares would instead run out of pages at cycle 64.
#
# Honest: xnbd serves vif94.0 (netfront domid 94); six times xnbd closes
# every vif and exits (xnbctl shutdown --disconnect) and a new xnbd takes
# the vif back to InitWait: the netfront reconnects each time, never defers
# a page, and shares the same number of pages each time, by its own count
# (SIGUSR1) and in its grant table (hostile_back --count 0 94, attached to
# xnbd's dom0); a ping crosses the last connection.
# Needs root; exits 77 (skipped) without it.
#
# usage: test_nf_deferred.sh BUILD_DIR SOURCE_DIR
set -u

BUILD=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
lib_init test_nf_deferred nfdef ping xenstore-write

H=94 BE=95 FE=96
GH=xnbnfd$H.$$ GF=xnbnfd$FE.$$
HOST_H=10.219.94.1 IP_H=10.219.94.2
CYCLES_HONEST=6
HB="$BUILD/tests/integration/hostile_back"
NETFRONT="$BUILD/src/frontend/xnb-netfront"

cleanup() {
	[ -n "${XNBD:-}" ] && "$BUILD/tools/xnbctl" shutdown --disconnect >/dev/null 2>&1
	for p in ${HBP:-} ${NFH:-} ${NFF:-} ${XNBD:-} ${SIMD:-}; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in ${HBP:-} ${NFH:-} ${NFF:-} ${XNBD:-} ${SIMD:-}; do kill -9 "$p" 2>/dev/null; done
	ip netns del "$GH" 2>/dev/null; ip netns del "$GF" 2>/dev/null
	ip link del "vif$H.0" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

st() { xenstore-read "$1/state" 2>/dev/null; }

"$BUILD/src/sim/xnb-simd" --foreground --dir "$DIR" >"$DIR/simd.log" 2>&1 &
SIMD=$!
wait_for 5 test -S "$DIR/xenstored" || fail "xnb-simd did not start"

# --- a backend that keeps the old rings mapped ------------------------------------
# The toolstack's nodes for a vif whose backend runs in driver domain $BE.
BEP=/local/domain/$BE/backend/vif/$FE/0 FEP=/local/domain/$FE/device/vif/0
xenstore-write "$FEP/backend" "$BEP" "$FEP/backend-id" $BE "$FEP/state" 1 "$FEP/handle" 0 \
	"$FEP/mac" 00:16:3e:00:60:00 "$FEP/mtu" 1500 || fail "cannot write $FEP"
xenstore-chmod -r "$FEP" "n$FE" "r$BE"
xenstore-write "$BEP/frontend" "$FEP" "$BEP/frontend-id" $FE "$BEP/online" 1 "$BEP/state" 1 \
	"$BEP/handle" 0 "$BEP/mac" 00:16:3e:00:60:00 "$BEP/mtu" 1500 "$BEP/type" vif ||
	fail "cannot write $BEP"
xenstore-chmod -r "$BEP" "n$BE" "r$FE"
ip netns add "$GF"
XNB_SIM_PAGES=640 ip netns exec "$GF" "$NETFRONT" --domid $FE --queues 1 \
	>"$DIR/nf$FE.log" 2>&1 &
NFF=$!
wait_for 5 sh -c "[ \"\$(xenstore-read $FEP/state)\" = 1 ]" || fail "netfront $FE not Initialising"
"$HB" --cycles 70 --honest 5 --cap 64 --hold 2 --frontend-log "$DIR/nf$FE.log" $BE $FE \
	>"$DIR/hostile_back.log" 2>&1 &
HBP=$!
wait_for 240 sh -c "! kill -0 $HBP" || fail "hostile_back still running after 240 s"
wait "$HBP"; RC=$?; HBP=
grep -q "^hostile_back: verdict ok" "$DIR/hostile_back.log" && [ "$RC" = 0 ] ||
	fail "hostile_back exited $RC: $(grep -E 'FAIL|verdict' "$DIR/hostile_back.log" | head -8)"
kill -0 "$NFF" 2>/dev/null || fail "netfront $FE died"
ok "hostile backend: $(grep -c '^hostile_back: cycle .*closed with' "$DIR/hostile_back.log") connections with the rings kept mapped; $(grep 'holds back' "$DIR/hostile_back.log" | sed 's/^hostile_back: //')"

# What the netfront logged: each ring kept (deferred pages 1, 2, ... 64), its
# count after each tear-down (2, 4, ... 64, then 0 after the release: 6
# more), held back once, at 64.
DEFERRED=$(sed -n 's/.*backend still maps .*deferred pages \([0-9]*\)$/\1/p' "$DIR/nf$FE.log" | tr '\n' ' ')
WANT="$(seq -s ' ' 1 64) "
[ "$DEFERRED" = "$WANT" ] || fail "deferred pages as each ring was kept: '$DEFERRED', expected '$WANT'"
ENDED=$(sed -n 's/.*rings ended; shared pages [0-9]*, deferred pages \([0-9]*\)$/\1/p' "$DIR/nf$FE.log" | tr '\n' ' ')
WANT="$(seq -s ' ' 2 2 64) 0 0 0 0 0 0 "
[ "$ENDED" = "$WANT" ] || fail "deferred pages after each tear-down: '$ENDED', expected '$WANT'"
[ "$(grep -c 'not connecting until it unmaps them' "$DIR/nf$FE.log")" = 1 ] &&
	grep -q "still maps 64 pages of our earlier connections (limit 64)" "$DIR/nf$FE.log" ||
	fail "no (or more than one) hold-back line at 64 pages"
grep -q "cannot set up the rings" "$DIR/nf$FE.log" && fail "sharing failed: $(grep 'cannot set up' "$DIR/nf$FE.log" | head -1)"
grep -q "backend released 64 pages of earlier connections; deferred pages 0" "$DIR/nf$FE.log" ||
	fail "no single release of the 64 pages"
grep -q "backend unmapped the pages of earlier connections (deferred pages 0): connecting" \
	"$DIR/nf$FE.log" || fail "no reconnection logged after the release"
ok "netfront $FE: deferred pages 2, 4, ... 64 after each tear-down, then held back (once, at 64), sharing never failed; released all 64 at once and connected"

PAGES=$(nf_pages "$DIR/nf$FE.log" "$NFF") || fail "netfront $FE: no SIGUSR1 report"
[ "$PAGES" = "0 0" ] || fail "netfront $FE after the orderly close: shared, deferred pages '$PAGES', expected '0 0'"
kill -TERM "$NFF"; wait "$NFF"; RC=$?; NFF=
[ "$RC" = 0 ] || fail "netfront $FE exited $RC"
ok "netfront $FE after honest cycles and an orderly close: shared pages 0, deferred pages 0; exits 0"

# --- an honest backend: xnbd, restarted with its vifs closed --------------------------
start_xnbd() {
	rm -f "$DIR/xnbd.sock"
	"$BUILD/src/backend/xnbd" >>"$DIR/xnbd.log" 2>&1 &
	XNBD=$!
	wait_for 5 test -S "$DIR/xnbd.sock" || fail "xnbd did not start"
}
HBE=/local/domain/0/backend/vif/$H/0 HFE=/local/domain/$H/device/vif/0
both_connected() { [ "$(st $HBE)" = 4 ] && [ "$(st $HFE)" = 4 ]; }
start_xnbd
ip netns add "$GH"
ip netns exec "$GH" "$NETFRONT" --domid $H --queues 2 >"$DIR/nf$H.log" 2>&1 &
NFH=$!
"$VIF" add $H 0
wait_for 10 both_connected || fail "vif$H.0 did not connect"
PAGES0=$(nf_pages "$DIR/nf$H.log" "$NFH") || fail "netfront $H: no SIGUSR1 report"
SHARED0=${PAGES0% *}
[ "${PAGES0#* }" = 0 ] && [ "$SHARED0" -gt 0 ] || fail "netfront $H connected: pages '$PAGES0'"
G0=$("$HB" --count 0 $H) || fail "cannot count netfront $H's grants"
[ "$G0" = "grants $SHARED0" ] || fail "netfront $H counts $SHARED0 shared pages, its grant table '$G0'"
for i in $(seq 1 $CYCLES_HONEST); do
	"$BUILD/tools/xnbctl" shutdown --disconnect >/dev/null || fail "cycle $i: xnbctl shutdown"
	wait "$XNBD"; RC=$?; XNBD=
	[ "$RC" = 0 ] || fail "cycle $i: xnbd exited $RC"
	wait_for 5 sh -c "[ \"\$(xenstore-read $HFE/state)\" = 6 ]" ||
		fail "cycle $i: netfront $H not Closed ($(st $HFE)) after xnbd closed the vif"
	start_xnbd
	# The new TAP is plumbed again (xnbd waits in InitWait for the script's answer).
	wait_for 5 ip link show "vif$H.0" || fail "cycle $i: no TAP vif$H.0"
	"$VIF" hotplug $H 0 connected
	wait_for 10 both_connected ||
		fail "cycle $i: vif$H.0 did not reconnect (backend $(st $HBE), frontend $(st $HFE))"
	PAGES=$(nf_pages "$DIR/nf$H.log" "$NFH") || fail "cycle $i: no SIGUSR1 report"
	[ "$PAGES" = "$SHARED0 0" ] ||
		fail "cycle $i: shared, deferred pages '$PAGES', expected '$SHARED0 0'"
	G=$("$HB" --count 0 $H) || fail "cycle $i: cannot count netfront $H's grants"
	[ "$G" = "$G0" ] || fail "cycle $i: netfront $H's grant table: '$G', first '$G0'"
done
[ "$(grep -c 'connected to /local/domain/0/backend' "$DIR/nf$H.log")" = $((CYCLES_HONEST + 1)) ] ||
	fail "netfront $H connected $(grep -c 'connected to /local' "$DIR/nf$H.log") times, expected $((CYCLES_HONEST + 1))"
grep -q "backend still maps" "$DIR/nf$H.log" && fail "netfront $H deferred pages: $(grep 'still maps' "$DIR/nf$H.log" | head -2)"
wait_for 5 ip link show "vif$H.0" || fail "no vif$H.0"
ip addr replace "$HOST_H/24" dev "vif$H.0"; ip link set "vif$H.0" up
wait_for 5 ip netns exec "$GH" ip link show eth0 || fail "netfront $H has no eth0"
ip netns exec "$GH" ip addr replace "$IP_H/24" dev eth0
ip netns exec "$GH" ip link set eth0 up
wait_for 5 ping -c 1 -W 1 "$IP_H" || fail "ping netfront $H after $CYCLES_HONEST reconnects"
ok "xnbd closed and restarted $CYCLES_HONEST times: netfront $H reconnected each time, deferred pages 0, $SHARED0 pages shared each time (its grant table agrees), ping answered"

kill -TERM "$NFH"; wait "$NFH"; RC=$?; NFH=
[ "$RC" = 0 ] || fail "netfront $H exited $RC"
"$VIF" remove $H 0
kill -TERM "$XNBD"; wait "$XNBD"; RC=$?; XNBD=
[ "$RC" = 0 ] || fail "xnbd exit status $RC"
kill -TERM "$SIMD"; wait "$SIMD"; RC=$?; SIMD=
[ "$RC" = 0 ] || fail "xnb-simd exit status $RC"
ok "netfront, xnbd and xnb-simd exit cleanly"
echo "$STEP passed, 0 failed"
