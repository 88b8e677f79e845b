#!/bin/sh
# SPDX-License-Identifier: MIT
# test_hostile.sh - the rows of conformance/xsa.md, each against a running
# xnbd over the simulated platform, while a good guest is served alongside.
#
# The good guest (xnb-netfront, domid 81) lives in a network namespace.
# Then, one at a time, hostile_front plays a guest of its own (domids
# 82..87) in each of its modes: double fetches (XSA-155), grants that fail
# (XSA-362/367), headers cut into tiny slots (XSA-423), packets shorter
# than their headers over 18 slots (XSA-432), empty fragments (XSA-448),
# Linux netback's drop checks, the packets that must break a vif, an RX
# request producer a ring ahead on a vif's only queue (XSA-39) and on the
# second of two (XSA-90), the control ring's bad requests (XSA-270), the
# RX drop path while the worker's two queue threads steer frames to each
# other by the guest's hash and one queue's guest posts nothing (XSA-424),
# XenStore values out of range or garbage, and a frontend stuck Closing
# while the toolstack removes its vif. For each: the good guest answers
# ping and moves TCP bytes (iperf3, 2 s, no rate asked for); xnbd and the
# good guest's worker stay up, the same processes, their memory (VmRSS,
# within 4 MiB) and fds bounded; hostile_front's own checks pass (the
# answers on the ring, the frames at the TAP); and what it says to expect
# is what xnbctl reports - the counters of the hostile vif, still
# Connected, or the reason it was disconnected as broken (xnbctl list, and
# the error node), and, where it says so, that the broken guest's worker
# stays idle while hostile_front goes on sending it host frames and
# notifications.
# Needs root; exits 77 (skipped) without it.
#
# usage: test_hostile.sh BUILD_DIR SOURCE_DIR
set -u

BUILD=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
lib_init test_hostile hostile iperf3 ping python3

G=xnbhos81.$$
GOOD=81
HOST_G=10.218.81.1 IP_G=10.218.81.2
RSS_SLACK_KB=4096
HF_BIN="$BUILD/tests/integration/hostile_front"

cleanup() {
	for p in ${HF:-} ${NF:-} ${XNBD:-} ${SIMD:-}; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in ${HF:-} ${NF:-} ${XNBD:-} ${SIMD:-}; do kill -9 "$p" 2>/dev/null; done
	pkill -f "iperf3 -s -1 -B 10.218.81" 2>/dev/null
	ip netns del "$G" 2>/dev/null
	for d in 81 82 83 84 85 86 87; do ip link del "vif$d.0" 2>/dev/null; done
	rm -rf "$DIR"
}
trap cleanup EXIT

xnbctl() { "$BUILD/tools/xnbctl" "$@"; }
# listening NETNS ADDR: until an iperf3 server listens there (a loaded
# machine starts it later than a fixed sleep assumes).
listening() {
	wait_for 5 sh -c "${1:+ip netns exec $1 }ss -ltn | grep -q '$2:5201'" || true
}
be_state() { xenstore-read "/local/domain/0/backend/vif/$1/0/state" 2>/dev/null; }
worker_pid() { pgrep -P "$XNBD" -f "xnbd-worker --domid $1( |\$)" | head -1; }
listed() { xnbctl list "vif$1.0" | grep -q "vif$1.0"; }

"$BUILD/src/sim/xnb-simd" --foreground --dir "$DIR" >"$DIR/simd.log" 2>&1 &
SIMD=$!
wait_for 5 test -S "$DIR/xenstored" || fail "xnb-simd did not start"
# Two queues offered: xs-values' multi-queue cases need more than one.
"$BUILD/src/backend/xnbd" --max-queues 2 >"$DIR/xnbd.log" 2>&1 &
XNBD=$!
wait_for 5 test -S "$DIR/xnbd.sock" || fail "xnbd did not start"

# --- the good guest ------------------------------------------------------------
ip netns add "$G"
ip netns exec "$G" ip link set lo up
ip netns exec "$G" "$BUILD/src/frontend/xnb-netfront" --domid $GOOD >"$DIR/nf.log" 2>&1 &
NF=$!
"$VIF" add $GOOD 0
wait_for 10 sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vif/$GOOD/0/state)\" = 4 ]" ||
	fail "vif$GOOD.0 did not connect"
wait_for 5 ip link show "vif$GOOD.0" || fail "no vif$GOOD.0"
ip addr replace "$HOST_G/24" dev "vif$GOOD.0"; ip link set "vif$GOOD.0" up
wait_for 5 ip netns exec "$G" ip link show eth0 || fail "the good guest has no eth0"
ip netns exec "$G" ip addr add "$IP_G/24" dev eth0
ip netns exec "$G" ip link set eth0 up
wait_for 5 ping -c 1 -W 1 "$IP_G" || fail "ping the good guest"
WG=$(worker_pid $GOOD)
[ -n "$WG" ] || fail "no worker for domain $GOOD"
# Warm-up both ways, so that the baseline holds the pages TCP commits.
ip netns exec "$G" iperf3 -s -1 -B "$IP_G" >/dev/null 2>&1 &
listening "$G" "$IP_G"
wait_for 10 timeout 20 iperf3 -c "$IP_G" -t 1 -P 8 >"$DIR/warm.txt" 2>&1 || fail "warm-up iperf3 host -> guest: $(tail -3 "$DIR/warm.txt")"
iperf3 -s -1 -B "$HOST_G" >/dev/null 2>&1 &
listening "" "$HOST_G"
wait_for 10 ip netns exec "$G" timeout 20 iperf3 -c "$HOST_G" -t 1 -P 8 >/dev/null 2>&1 || fail "warm-up iperf3 guest -> host"
RSS0=$(rss "$WG") FDS0=$(fds "$WG") XNBD_FDS0=$(fds "$XNBD")
ok "good guest $GOOD connected and answering, worker $WG: VmRSS $RSS0 kB, $FDS0 fds"

# The good guest moves TCP bytes both ways for 2 s each and answers ping. $1: what runs alongside.
good_traffic() {
	ping -c 3 -i 0.2 -W 2 "$IP_G" >/dev/null || fail "$1: the good guest does not answer ping"
	ip netns exec "$G" iperf3 -s -1 -B "$IP_G" >/dev/null 2>&1 &
	listening "$G" "$IP_G"
	timeout 20 iperf3 -c "$IP_G" -t 2 -J >"$DIR/tcp-h2g.json" 2>&1 ||
		fail "$1: iperf3 host -> good guest did not complete"
	iperf3 -s -1 -B "$HOST_G" >/dev/null 2>&1 &
	listening "" "$HOST_G"
	ip netns exec "$G" timeout 20 iperf3 -c "$HOST_G" -t 2 -J >"$DIR/tcp-g2h.json" 2>&1 ||
		fail "$1: iperf3 good guest -> host did not complete"
	python3 - "$DIR/tcp-h2g.json" "$DIR/tcp-g2h.json" <<'PY' || fail "$1: no TCP bytes moved"
import json, sys
for f in sys.argv[1:]:
    assert json.load(open(f))["end"]["sum_received"]["bytes"] > 0, f
PY
}

# xnbd and the good guest's worker: the same processes, memory and fds bounded.
check_good() {
	kill -0 "$XNBD" 2>/dev/null || fail "$1: xnbd died"
	kill -0 "$WG" 2>/dev/null || fail "$1: the good guest's worker died"
	[ "$(worker_pid $GOOD)" = "$WG" ] || fail "$1: the good guest's worker was replaced"
	[ "$(be_state $GOOD)" = 4 ] || fail "$1: vif$GOOD.0 left Connected"
	RSS1=$(rss "$WG") FDS1=$(fds "$WG")
	[ "$RSS1" -le $((RSS0 + RSS_SLACK_KB)) ] ||
		fail "$1: the good worker's VmRSS grew from $RSS0 to $RSS1 kB"
	[ "$FDS1" -le "$FDS0" ] || fail "$1: the good worker's fds grew from $FDS0 to $FDS1"
}

# What hostile_front's log ($1) says to expect of vif $2, against xnbctl and the error node.
check_expected() {
	xnbctl stats "vif$2.0" --json >"$DIR/stats.json" 2>&1
	xnbctl show "vif$2.0" --json >"$DIR/show.json" 2>&1
	xnbctl list "vif$2.0" --json >"$DIR/list.json" 2>&1
	xenstore-read "/local/domain/0/error/backend/vif/$2/0/error" >"$DIR/error.txt" 2>/dev/null
	python3 - "$1" "$DIR/stats.json" "$DIR/show.json" "$DIR/list.json" "$DIR/error.txt" <<'PY'
import json, re, sys
logf, statsf, showf, listf, errf = sys.argv[1:]
tot = json.load(open(statsf))["totals"][0]
show = json.load(open(showf))["vifs"][0]
lst = json.load(open(listf))["vifs"][0]
err = open(errf).read().strip()
fails, seen, broken = [], [], None
for line in open(logf):
    line = line.rstrip("\n")
    m = re.match(r"hostile_front: expect counter (\S+) (=|>=) (\d+)$", line)
    if m:
        name, op, want = m.group(1), m.group(2), int(m.group(3))
        got = tot[name]
        if (got != want) if op == "=" else (got < want):
            fails.append(f"{name} {got}, expected {op} {want}")
        seen.append(f"{name} {got}")
        continue
    m = re.match(r"hostile_front: expect show (\w+)\.(\w+) = (.*)$", line)
    if m:
        got = str(show[m.group(1)][m.group(2)]).lower()
        if got != m.group(3):
            fails.append(f"show {m.group(1)}.{m.group(2)} {got}, expected {m.group(3)}")
        seen.append(f"{m.group(1)}.{m.group(2)} {got}")
        continue
    m = re.match(r"hostile_front: expect broken_on (.*)$", line)
    if m:
        if lst["broken_on"] != m.group(1) or f"(on {m.group(1)})" not in err:
            fails.append(f"broken on '{lst['broken_on']}' (error node '{err}'), expected '{m.group(1)}'")
        seen.append(f"on {lst['broken_on']}")
        continue
    m = re.match(r"hostile_front: expect broken (.*)$", line)
    if m:
        broken = m.group(1)
        if lst["broken"] != broken or lst["state"] not in ("Closing", "Closed"):
            fails.append(f"listed {lst['state']}, broken '{lst['broken']}', expected '{broken}'")
        seen.append(f"broken: {lst['broken']}")
        continue
    m = re.match(r"hostile_front: expect error (.*)$", line)
    if m:
        if m.group(1) not in err:
            fails.append(f"error node '{err}', expected '{m.group(1)}'")
        seen.append(f"error node: {err}")
if broken is None and not any(l.startswith("error node") for l in seen):
    if lst["state"] != "Connected" or lst["broken"]:
        fails.append(f"hostile vif {lst['state']}, broken '{lst['broken']}': not kept")
    seen.append("vif kept Connected")
print("; ".join(seen))
for f in fails:
    print("MISMATCH:", f)
sys.exit(1 if fails else 0)
PY
}

# hostile_front --mode $2 [--case $3] [--seconds $4, default 3] as domid $1,
# the good guest's traffic alongside.
hostile() {
	d=$1 mode=$2 case=${3:-} secs=${4:-3}
	what="$mode${case:+ $case}"
	hlog="$DIR/hostile-$d-$mode${case:+-$case}.log"
	xenstore-rm "/local/domain/0/error/backend/vif/$d" 2>/dev/null
	"$VIF" add "$d" 0
	wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vif/$d/0/state)\" = 2 ]" ||
		fail "$what: vif$d.0 not in InitWait"
	"$HF_BIN" --mode "$mode" ${case:+--case "$case"} --seconds "$secs" --linger 60 "$d" >"$hlog" 2>&1 &
	HF=$!
	good_traffic "$what"
	wait_for 30 grep -q "^hostile_front: verdict" "$hlog" ||
		fail "$what: hostile_front gave no verdict: $(tail -5 "$hlog")"
	check_expected "$hlog" "$d" >"$DIR/expected.txt" 2>&1 ||
		fail "$what: $(cat "$DIR/expected.txt")"
	idle=
	if grep -q "^hostile_front: expect worker idle" "$hlog"; then
		# hostile_front goes on sending host frames and notifying: a
		# worker still serving the broken vif would spin.
		pct=$(cpu_pct "$(worker_pid "$d")" 2) || fail "$what: no worker for domain $d to measure"
		[ "$pct" -lt 25 ] || fail "$what: the broken guest's worker uses $pct% of a core"
		idle="; its worker at $pct% of a core"
	fi
	kill -TERM "$HF" 2>/dev/null
	wait "$HF"; RC=$?; HF=
	[ "$RC" = 0 ] || fail "$what: hostile_front exited $RC: $(grep -v '^hostile_front: expect' "$hlog" | tail -8)"
	if [ -n "$idle" ]; then
		poked=$(sed -n 's/^hostile_front: after the verdict, //p' "$hlog")
		case $poked in
		*" 0 host frames"* | "") fail "$what: no host frames went to the broken vif (${poked:-no count})" ;;
		esac
		idle="$idle while poked ($poked)"
	fi
	"$VIF" remove "$d" 0
	wait_for 5 sh -c "! ip link show vif$d.0" || fail "$what: vif$d.0 not removed"
	check_good "$what"
	ok "$what: $(grep -m1 -v "expect\|verdict" "$hlog" | sed 's/^hostile_front: //'); $(cat "$DIR/expected.txt")$idle; good guest: TCP both ways, worker $RSS1 kB, $FDS1 fds"
}

# --- the ring protocol: vif kept, error answers and counters -------------------------
hostile 82 double-fetch       # XSA-155
hostile 82 grant-fail         # XSA-362, XSA-367
hostile 82 split-headers      # XSA-423
hostile 82 tiny-slots         # XSA-432
hostile 82 zero-frags         # XSA-448
hostile 82 drop-checks        # Linux netback's drops

# --- packets no honest frontend sends: the vif disconnected as broken -------------------
for c in slots page page-first extras; do
	hostile 83 fatal "$c"
done
# The RX ring's producer a ring ahead (XSA-39), once the backend filled a
# buffer: on a vif's only queue, then on the second of two (XSA-90: the
# fault found on that queue's thread). Host frames make the RX path run.
for c in rx-prod rx-prod-q1; do
	hostile 87 fatal "$c"
done

# --- the control ring (XSA-270) ------------------------------------------------------------
hostile 84 ctrl
hostile 84 ctrl prod

# --- the RX drop path under load and under steering between queues (XSA-424) -----------------
# Past the backend's 10 s drain deadline, so that queue 1 is drained.
hostile 84 steer-stall "" 16

# --- XenStore values: refused with the reason in the error node ------------------------------
# (test_e2e has a garbage tx-ring-ref, test_parity more queues than offered.)
XS_CASES="no-tx-ring-ref no-rx-ring-ref no-event-channel event-channel-garbage ring-ref-overflow
	ring-ref-ungranted rx-ring-readonly event-channel-unbound split-channel-half queues-zero
	queues-garbage queue-keys-missing ctrl-ring-alone ctrl-ring-ungranted rx-copy-off
	feature-garbage rings-ahead"
good_traffic "xs-values"
for c in $XS_CASES; do
	hlog="$DIR/hostile-85-xs-$c.log"
	xenstore-rm /local/domain/0/error/backend/vif/85 2>/dev/null
	"$VIF" add 85 0
	"$HF_BIN" --mode xs-values --case "$c" 85 >"$hlog" 2>&1 ||
		fail "xs-values $c: hostile_front exited $?: $(tail -5 "$hlog")"
	check_expected "$hlog" 85 >"$DIR/expected.txt" 2>&1 || fail "xs-values $c: $(cat "$DIR/expected.txt")"
	"$VIF" remove 85 0
	wait_for 5 sh -c "! ip link show vif85.0" || fail "xs-values $c: vif85.0 not removed"
	ping -c 1 -W 2 "$IP_G" >/dev/null || fail "xs-values $c: the good guest does not answer"
	check_good "xs-values $c"
done
ok "xs-values: $(echo $XS_CASES | wc -w) handshakes with a bad value, each refused with its reason in the error node; good guest served"

# --- a frontend stuck Closing while the toolstack removes its vif ---------------------------
# libxl writes online 0 and Closing, then waits for Closed; the vif must go
# (the backend once walked it back through InitWait, its own writes waking
# it again, forever).
xenstore-rm /local/domain/0/error/backend/vif/86 2>/dev/null
"$VIF" add 86 0
"$HF_BIN" --mode closing-stuck --linger 60 86 >"$DIR/hostile-86.log" 2>&1 &
HF=$!
wait_for 10 grep -q "^hostile_front: verdict ok" "$DIR/hostile-86.log" ||
	fail "closing-stuck: $(cat "$DIR/hostile-86.log")"
xenstore-write /local/domain/0/backend/vif/86/0/online 0 /local/domain/0/backend/vif/86/0/state 5
wait_for 5 sh -c "! \"$BUILD/tools/xnbctl\" list vif86.0 | grep -q vif86.0" ||
	fail "closing-stuck: vif86.0 still listed ($(xnbctl list vif86.0)), state $(be_state 86)"
[ "$(be_state 86)" = 6 ] || fail "closing-stuck: backend state $(be_state 86), not Closed"
wait_for 5 sh -c "! ip link show vif86.0" || fail "closing-stuck: TAP vif86.0 left"
kill -TERM "$HF"; wait "$HF"; HF=
"$VIF" remove 86 0
good_traffic "closing-stuck"
check_good "closing-stuck"
ok "closing-stuck: a Closing frontend's vif removed by the toolstack: Closed, gone, its TAP too"

# --- afterwards ---------------------------------------------------------------------------
wait_for 5 sh -c "[ \"\$(\"$BUILD/tools/xnbctl\" list | grep -c vif)\" = 1 ]" ||
	fail "hostile vifs left: $(xnbctl list)"
wait_for 5 sh -c "[ -z \"\$(pgrep -P $XNBD -f 'xnbd-worker --domid 8[2-7]')\" ]" ||
	fail "hostile workers left: $(pgrep -a -P "$XNBD")"
[ "$(fds "$XNBD")" -le "$XNBD_FDS0" ] ||
	fail "xnbd fds: $(fds "$XNBD") now, $XNBD_FDS0 before the hostile guests"
kill -TERM "$NF"; wait "$NF"; NF=
"$VIF" remove $GOOD 0
kill -TERM "$XNBD"; wait "$XNBD"; RC=$?; XNBD=
[ "$RC" = 0 ] || fail "xnbd exit status $RC (sanitizer report?)"
grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$DIR"/*.log &&
	fail "a sanitizer report: $(grep -h -A3 "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$DIR"/*.log | head -20)"
kill -TERM "$SIMD"; wait "$SIMD"; RC=$?; SIMD=
[ "$RC" = 0 ] || fail "xnb-simd exit status $RC"
ok "every hostile vif and worker gone, xnbd's fds back, daemons exit cleanly"
echo "$STEP passed, 0 failed"
