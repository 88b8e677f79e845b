#!/bin/sh
# SPDX-License-Identifier: MIT
# test_nf_hostile_back.sh - the real xnb-netfront against a backend that
# answers badly on a running connection.
#
# hostile_back --fault plays the backend of vif89.0 from a driver domain
# (88), maps the netfront's rings, binds its event channel and, once the
# netfront logs that it is connected, sends one bad answer (see
# hostile_back.c):
#   tx-id     a TX response with an id never issued (the guest pings a
#             static neighbour, so that it has sent)
#   rx-page   an RX response whose offset + status is 4097, then a good
#             60-byte frame
#   rsp-prod  RX rsp_prod a whole ring past the requests posted
# A fresh netfront (domid 89, in a network namespace) per case. Checked:
#   - tx-id, rsp-prod: it goes Closing, and logs "backend broke the
#     protocol, closing: queue 0: " with the engine's name of the fault,
#     once; rx-page: it stays Connected, logs the dropped packet naming
#     its fault, and its counters at the end of that connection read rx 1
#     packet of 60 bytes, 1 error (the bad one dropped, the good one in);
#   - its process stays alive and under 10 % of a CPU for 2 s after the
#     fault (hostile_back reads /proc/PID/stat);
#   - we close with its two rings still mapped: it ends every other grant
#     and keeps those 2 pages (its log: deferred pages 2), and releases
#     them once unmapped (hostile_back: its grant table grants us nothing
#     within 5 s; its log: deferred pages 0);
#   - it connects again, granting what it did the first time, and closes
#     honestly; SIGUSR1 then reads shared pages 0, deferred pages 0, and
#     SIGTERM ends it with exit status 0 (not a signal).
# Needs root; exits 77 (skipped) without it.
#
# usage: test_nf_hostile_back.sh BUILD_DIR SOURCE_DIR
set -u

BUILD=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
lib_init test_nf_hostile_back nfhb ping xenstore-write

BE=88 FE=89
NS=xnbnfhb$FE.$$
IP=10.219.88.2 PEER=10.219.88.1 PEER_MAC=00:16:3e:00:58:01
HB="$BUILD/tests/integration/hostile_back"
NETFRONT="$BUILD/src/frontend/xnb-netfront"
BEP=/local/domain/$BE/backend/vif/$FE/0 FEP=/local/domain/$FE/device/vif/0
DUMP_XS=/local/domain

cleanup() {
	for p in ${PING:-} ${HBP:-} ${NFF:-} ${SIMD:-}; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in ${PING:-} ${HBP:-} ${NFF:-} ${SIMD:-}; do kill -9 "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

# count TEXT FILE: lines of FILE with TEXT in them (fixed string).
count() { grep -cF -- "$1" "$2"; }

"$BUILD/src/sim/xnb-simd" --foreground --dir "$DIR" >"$DIR/simd.log" 2>&1 &
SIMD=$!
wait_for 5 test -S "$DIR/xenstored" || fail "xnb-simd did not start"
ip netns add "$NS"

# The toolstack's nodes for a vif whose backend runs in driver domain $BE, afresh.
nodes() {
	xenstore-rm "$FEP" 2>/dev/null; xenstore-rm "$BEP" 2>/dev/null
	xenstore-write "$FEP/backend" "$BEP" "$FEP/backend-id" $BE "$FEP/state" 1 \
		"$FEP/handle" 0 "$FEP/mac" 00:16:3e:00:59:00 "$FEP/mtu" 1500 ||
		fail "cannot write $FEP"
	xenstore-chmod -r "$FEP" "n$FE" "r$BE"
	xenstore-write "$BEP/frontend" "$FEP" "$BEP/frontend-id" $FE "$BEP/online" 1 \
		"$BEP/state" 1 "$BEP/handle" 0 "$BEP/mac" 00:16:3e:00:59:00 "$BEP/mtu" 1500 \
		"$BEP/type" vif || fail "cannot write $BEP"
	xenstore-chmod -r "$BEP" "n$BE" "r$FE"
}

# one_case MODE LINE: the netfront against hostile_back --fault MODE; LINE
# is the line its log must have once, naming the fault.
one_case() {
	mode=$1 line=$2
	log=$DIR/nf-$mode.log hbl=$DIR/hb-$mode.log
	nodes
	ip netns exec "$NS" "$NETFRONT" --domid $FE --queues 1 >"$log" 2>&1 &
	NFF=$!
	wait_for 5 sh -c "[ \"\$(xenstore-read $FEP/state)\" = 1 ]" ||
		fail "$mode: netfront not Initialising"
	"$HB" --fault "$mode" --frontend-log "$log" --frontend-pid $NFF $BE $FE >"$hbl" 2>&1 &
	HBP=$!
	if [ "$mode" = tx-id ]; then
		# The guest sends: pings to a neighbour it knows (no ARP to wait for).
		wait_for 30 grep -q "connected to $BEP " "$log" || fail "$mode: netfront did not connect"
		ip netns exec "$NS" ip addr replace "$IP/24" dev eth0
		ip netns exec "$NS" ip neigh replace "$PEER" lladdr $PEER_MAC dev eth0 nud permanent
		ip netns exec "$NS" ping -q -c 100 -i 0.2 "$PEER" >/dev/null 2>&1 &
		PING=$!
	fi
	wait_for 90 sh -c "! kill -0 $HBP" || fail "$mode: hostile_back still running after 90 s"
	wait "$HBP"; rc=$?; HBP=
	[ -n "${PING:-}" ] && { kill "$PING" 2>/dev/null; wait "$PING" 2>/dev/null; PING=; }
	grep -q "^hostile_back: verdict ok" "$hbl" && [ "$rc" = 0 ] ||
		fail "$mode: hostile_back exited $rc: $(grep -E 'FAIL|verdict' "$hbl" | head -8)"
	kill -0 "$NFF" 2>/dev/null || fail "$mode: netfront died"

	[ "$(count "$line" "$log")" = 1 ] ||
		fail "$mode: the netfront's log has '$line' $(count "$line" "$log") times, expected once"
	if [ "$mode" = rx-page ]; then
		[ "$(count "broke the protocol" "$log")" = 0 ] ||
			fail "$mode: a malformed packet closed the connection: $(grep 'broke the protocol' "$log")"
		# The first connection's counters: the bad packet dropped, the good one in.
		stats=$(grep -m1 "eth0 queue 0: tx" "$log")
		case $stats in
		*"rx 1 pkts 60 B (gso 0, errors 1, tap errors 0,"*) ;;
		*) fail "$mode: counters of the connection: '$stats'" ;;
		esac
	fi
	grep -qE "Assertion|cannot set up" "$log" && fail "$mode: $(grep -E 'Assertion|cannot set up' "$log")"
	# The grants: the rings kept (deferred) while we map them, then released.
	[ "$(count "backend still maps a TX ring (1 page" "$log")" = 1 ] &&
		[ "$(count "backend still maps an RX ring (1 page" "$log")" = 1 ] &&
		[ "$(count "rings ended; shared pages 2, deferred pages 2" "$log")" = 1 ] ||
		fail "$mode: the netfront did not keep exactly its two mapped rings: $(grep -E 'still maps|rings ended' "$log")"
	# Released at its next retry (both at once, unless a tick fell between our two unmaps).
	released=$(sed -n 's/.*backend released \([0-9]*\) pages* of earlier connections.*/\1/p' "$log" |
		awk '{ n += $1 } END { print n + 0 }')
	[ "$released" = 2 ] && grep "backend released" "$log" | tail -1 | grep -q "deferred pages 0$" ||
		fail "$mode: the netfront released $released pages once they were unmapped, expected 2: $(grep 'backend released' "$log")"
	pages=$(nf_pages "$log" "$NFF") || fail "$mode: no SIGUSR1 report"
	[ "$pages" = "0 0" ] || fail "$mode: at the end shared, deferred pages '$pages', expected '0 0'"
	kill -TERM "$NFF"; wait "$NFF"; rc=$?; NFF=
	[ "$rc" = 0 ] || fail "$mode: netfront exit status $rc$([ "$rc" -gt 128 ] && echo " (signal $((rc - 128)))")"
	cpu=$(sed -n 's/.*the frontend.s process used \([0-9]* ms\) .*/\1/p' "$hbl")
	ok "$mode: '$(echo "$line" | sed 's/.*queue 0: //')' logged once; $(grep -q 'stays Connected' "$hbl" && echo 'stayed Connected, good frame delivered' || echo 'went Closing'); $cpu CPU in 2 s after it; 2 ring pages kept while mapped, then released; reconnected; exit 0"
}

one_case tx-id "backend broke the protocol, closing: queue 0: TX response for a buffer not outstanding"
one_case rx-page "queue 0: dropped 1 RX packet from the backend: a slot's offset + size past its page (1 in all)"
one_case rsp-prod "backend broke the protocol, closing: queue 0: RX response producer ran past the requests posted"

kill -TERM "$SIMD"; wait "$SIMD"; rc=$?; SIMD=
[ "$rc" = 0 ] || fail "xnb-simd exit status $rc"
ok "xnb-simd exits cleanly"
echo "$STEP passed, 0 failed"
