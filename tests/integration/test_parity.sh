#!/bin/sh
# SPDX-License-Identifier: MIT
# test_parity.sh - what Linux's netback does for toolstacks and frontends,
# end to end over the simulated platform: several queues, the rate limit,
# the carrier of a stalled guest, the administrator's MTU, multicast
# control (flipped by hand, then kept by our netfront's --mcast-control on
# a second guest, domid 76, and a hostile frontend overfilling the filter,
# domid 77), IPv6, the control ring and hashing. Each step prints a line;
# the first failure prints the daemons' logs and fails the test. Needs
# root; exits 77 without it.
#
# usage: test_parity.sh BUILD_DIR SOURCE_DIR
set -u

BUILD=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
lib_init test_parity parity iperf3 ping

G=xnbpar.$$
D=73
BE=/local/domain/0/backend/vif/$D/0
FE=/local/domain/$D/device/vif/0
DUMP_XS=$BE

cleanup() {
	[ -n "${XNBD:-}" ] && "$BUILD/tools/xnbctl" shutdown --disconnect >/dev/null 2>&1
	[ -n "${NF:-}" ] && kill -CONT "$NF" 2>/dev/null
	for p in ${NF:-} ${NFM:-} ${HF:-} ${LISTENER:-} ${XNBD:-} ${SIMD:-}; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.3
	for p in ${NF:-} ${NFM:-} ${HF:-} ${LISTENER:-} ${XNBD:-} ${SIMD:-}; do kill -9 "$p" 2>/dev/null; done
	# Ours only: test_isolation, maybe running beside us, uses 10.216.6x.
	pkill -f "iperf3 -s .* -B (10\.216\.(0|76)\.|fd00:216:(76)?:)" 2>/dev/null
	ip netns del "$G" 2>/dev/null
	[ -n "${GM:-}" ] && ip netns del "$GM" 2>/dev/null
	ip link del "vif$D.0" 2>/dev/null; ip link del vif74.0 2>/dev/null
	ip link del xnbvx$D 2>/dev/null
	ip link del vif76.0 2>/dev/null; ip link del vif77.0 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

xnbctl() { "$BUILD/tools/xnbctl" "$@"; }
worker_of() { pgrep -P "$XNBD" -f "xnbd-worker --domid $1 "; }
start_nf() { # [options]
	ip netns exec "$G" "$BUILD/src/frontend/xnb-netfront" --domid $D --no-reconnect "$@" \
		>>"$DIR/nf.log" 2>&1 &
	NF=$!
}
connected() { [ "$(xenstore-read "$BE/state" 2>/dev/null)" = 4 ]; }
# One field of `xnbctl show vif73.0 --json`.
show() { xnbctl show "vif$D.0" --json | python3 -c "import json,sys
v = json.load(sys.stdin)['vifs'][0]; print(json.dumps(v['$1']))"; }
# A counter of each queue, as a list.
per_queue() { xnbctl stats "vif$D.0" --json | python3 -c "import json,sys
print([q['$1'] for q in json.load(sys.stdin)['vifs']])"; }
# The same, summed over the queues.
total() { xnbctl stats "vif$D.0" --json | python3 -c "import json,sys
print(sum(q['$1'] for q in json.load(sys.stdin)['vifs']))"; }
iperf_gbps() { python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9)' "$1"; }
# iperf3's server listens before the client starts, and is gone before the
# next one binds the same address (a fixed sleep lost that race under ASan).
g2h() { # seconds out extra...: iperf3 from the guest to the host
	s=$1 out=$2 rc=0; shift 2
	iperf_server - "$HOST"
	ip netns exec "$G" timeout $((s + 15)) iperf3 -c "$HOST" -t "$s" -J "$@" >"$out" 2>&1 || rc=$?
	kill "$IPERF_SRV" 2>/dev/null; wait "$IPERF_SRV" 2>/dev/null
	return $rc
}
h2g() {
	s=$1 out=$2 rc=0; shift 2
	iperf_server "$G" "$GUEST"
	timeout $((s + 15)) iperf3 -c "$GUEST" -t "$s" -J "$@" >"$out" 2>&1 || rc=$?
	kill "$IPERF_SRV" 2>/dev/null; wait "$IPERF_SRV" 2>/dev/null
	return $rc
}

"$BUILD/src/sim/xnb-simd" --foreground --dir "$DIR" >"$DIR/simd.log" 2>&1 &
SIMD=$!
wait_for 5 test -S "$DIR/xenstored" || fail "xnb-simd did not start"
"$BUILD/src/backend/xnbd" --max-queues 2 --rx-stall-timeout 2 >>"$DIR/xnbd.log" 2>&1 &
XNBD=$!
wait_for 5 test -S "$DIR/xnbd.sock" || fail "xnbd did not start"
ip netns add "$G"
ip netns exec "$G" ip link set lo up

# --- multi-queue ------------------------------------------------------------
start_nf --queues 2
"$VIF" add $D 0
wait_for 10 connected || fail "vif$D.0 did not connect"
[ "$(xenstore-read "$BE/multi-queue-max-queues")" = 2 ] || fail "multi-queue-max-queues not 2"
[ "$(xenstore-read "$FE/multi-queue-num-queues")" = 2 ] || fail "the netfront did not ask for 2"
[ "$(show queues)" = 2 ] || fail "xnbctl show: $(show queues) queues"
HOST=10.216.0.1 GUEST=10.216.0.2
ip addr add $HOST/24 dev "vif$D.0"; ip link set "vif$D.0" up
ip netns exec "$G" ip addr add $GUEST/24 dev eth0
ip netns exec "$G" ip addr add fd00:216::2/64 dev eth0 nodad
ip addr add fd00:216::1/64 dev "vif$D.0" nodad
ip netns exec "$G" ip link set eth0 up
wait_for 5 ping -c 1 -W 1 $GUEST || fail "ping over two queues"
ok "two queues negotiated (queue-N/ keys), ping"

g2h 2 "$DIR/mq-g2h.json" -P 4 || fail "iperf3 -P 4 guest -> host"
h2g 2 "$DIR/mq-h2g.json" -P 4 || fail "iperf3 -P 4 host -> guest"
python3 - "$(per_queue tx_packets)" "$(per_queue rx_packets)" <<'PY' || fail "queues' counters: $(per_queue tx_packets) $(per_queue rx_packets)"
import ast, sys
tx, rx = ast.literal_eval(sys.argv[1]), ast.literal_eval(sys.argv[2])
assert len(tx) == 2 and all(n > 1000 for n in tx), tx
assert len(rx) == 2 and all(n > 1000 for n in rx), rx
PY
ok "iperf3 -P 4 both ways: both queues carry traffic each way ($(per_queue rx_packets) rx)"

# --- IPv6: ping6, TCP with GSO and checksum offload both ways ---------------
wait_for 5 ping -6 -c 1 -W 1 fd00:216::2 || fail "ping6 host -> guest"
ip netns exec "$G" ping -6 -c 2 -i 0.2 -W 1 fd00:216::1 >/dev/null || fail "ping6 guest -> host"
xnbctl stats --reset "vif$D.0" >/dev/null
HOST=fd00:216::1 GUEST=fd00:216::2
g2h 2 "$DIR/v6-g2h.json" || fail "iperf3 over IPv6 guest -> host"
h2g 2 "$DIR/v6-h2g.json" || fail "iperf3 over IPv6 host -> guest"
xnbctl stats "vif$D.0" --json >"$DIR/v6.json"
python3 - "$DIR/v6-g2h.json" "$DIR/v6-h2g.json" "$DIR/v6.json" <<'PY' || fail "TCP over IPv6"
import json, sys
for f in sys.argv[1:3]:
    assert json.load(open(f))["end"]["sum_received"]["bytes"] > 20_000_000, f
t = json.load(open(sys.argv[3]))["totals"][0]
assert t["tx_gso"] > 0 and t["rx_gso"] > 0, t      # tcpv6 segments, both rings
assert t["tx_csum_partial"] > 0, t                  # the guest's blank checksums, to the host
assert t["tx_dropped"] == 0 and t["rx_dropped"] == 0, t
PY
ok "IPv6: ping6 both ways, TCP with tcpv6 GSO and checksum offload both ways, no drops"
HOST=10.216.0.1 GUEST=10.216.0.2

# --- tunnelled TCP: VXLAN over the vif, inner checksums right both ways -----
ip link add xnbvx$D type vxlan id 73 remote 10.216.0.2 local 10.216.0.1 dstport 4789 dev "vif$D.0"
ip addr add 10.217.0.1/24 dev xnbvx$D; ip link set xnbvx$D up
ip netns exec "$G" ip link add vx0 type vxlan id 73 remote 10.216.0.1 local 10.216.0.2 dstport 4789 dev eth0
ip netns exec "$G" ip addr add 10.217.0.2/24 dev vx0
ip netns exec "$G" ip link set vx0 up
wait_for 5 ping -c 1 -W 1 10.217.0.2 || fail "ping over VXLAN"
c0=$(total rx_csum_completed)
HOST=10.217.0.1 GUEST=10.217.0.2
g2h 2 "$DIR/vx-g2h.json" || fail "iperf3 over VXLAN guest -> host: $(tail -c 400 "$DIR/vx-g2h.json")"
h2g 2 "$DIR/vx-h2g.json" || fail "iperf3 over VXLAN host -> guest: $(tail -c 600 "$DIR/vx-h2g.json")"
HOST=10.216.0.1 GUEST=10.216.0.2
python3 - "$DIR/vx-g2h.json" "$DIR/vx-h2g.json" <<'PY' || fail "TCP over VXLAN"
import json, sys
for f in sys.argv[1:3]:
    assert json.load(open(f))["end"]["sum_received"]["bytes"] > 5_000_000, f
PY
VXC="$(total rx_csum_completed) inner checksums finished for the guest (were $c0)"
ip link del xnbvx$D; ip netns exec "$G" ip link del vx0
ok "TCP over VXLAN both ways ($VXC)"

# --- rate limit ---------------------------------------------------------------
# What libxl writes for vif = [ 'rate=10Mb/s' ]: 62500 bytes per 50 ms.
xenstore-write "$BE/rate" "62500,50000"
wait_for 5 sh -c "$BUILD/tools/xnbctl show vif$D.0 --json | grep -q '62500,50000'" ||
	fail "rate not applied: $(show rate)"
g2h 5 "$DIR/rate10.json" || fail "iperf3 under the rate limit"
R10=$(iperf_gbps "$DIR/rate10.json")
# Each queue gets the whole rate, as in Linux; one stream uses one queue.
python3 -c "import sys; r = float(sys.argv[1]) * 1000; sys.exit(0 if 9.0 <= r <= 11.0 else 1)" "$R10" ||
	fail "rate=10Mb/s gave $R10 Gbit/s"
# Live, to 5 Mb/s. (Not up to 20: as in Linux, credit is capped at
# max(one period's, 128 KiB), so 64 KiB GSO packets against 125000 bytes a
# period lose the part of a period's credit over the cap: Linux gives the
# same ~15.6 Mbit/s there.)
xenstore-write "$BE/rate" "31250,50000"
wait_for 5 sh -c "$BUILD/tools/xnbctl show vif$D.0 --json | grep -q '31250,50000'" ||
	fail "live rate change not applied"
g2h 5 "$DIR/rate5.json" || fail "iperf3 under the changed rate"
R5=$(iperf_gbps "$DIR/rate5.json")
python3 -c "import sys; r = float(sys.argv[1]) * 1000; sys.exit(0 if 4.5 <= r <= 5.5 else 1)" "$R5" ||
	fail "rate=5Mb/s gave $R5 Gbit/s"
xenstore-rm "$BE/rate"
wait_for 5 sh -c "$BUILD/tools/xnbctl show vif$D.0 --json | grep -q '\"rate\":\"unlimited\"'" ||
	fail "rate not lifted"
g2h 2 "$DIR/rate-none.json" || fail "iperf3 after the limit was lifted"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0.2 else 1)" "$(iperf_gbps "$DIR/rate-none.json")" ||
	fail "still limited after the rate node went"
[ "$(total tx_rate_deferrals)" -gt 0 ] || fail "no rate deferrals counted"
ok "rate: 10 Mb/s gives $(python3 -c "print(round($R10 * 1000, 2))") Mbit/s, live 5 Mb/s gives $(python3 -c "print(round($R5 * 1000, 2))"), lifted: unlimited"

# --- carrier: a guest that posts no RX buffers, then posts again ------------
ip -6 addr show dev "vif$D.0" | grep -q fd00:216::1 || fail "no IPv6 address to begin with"
kill -STOP "$NF"
# Fill the guest's posted buffers (256) and more; then nothing is posted.
python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(600):
    s.sendto(b'x' * 200, ('$GUEST', 9))" 2>/dev/null
wait_for 10 sh -c "[ \"\$(cat /sys/class/net/vif$D.0/carrier 2>/dev/null)\" = 0 ]" ||
	fail "no carrier drop after rx_stall_timeout"
ip link show "vif$D.0" | grep -q "<.*UP.*>" || fail "the vif was set admin-down"
ip -6 addr show dev "vif$D.0" | grep -q fd00:216::1 || fail "the vif lost its IPv6 address"
[ "$(total rx_stall_carrier_off)" -gt 0 ] || fail "stall not counted"
kill -CONT "$NF"
wait_for 10 sh -c "[ \"\$(cat /sys/class/net/vif$D.0/carrier 2>/dev/null)\" = 1 ]" ||
	fail "carrier not back when the guest posted buffers again"
wait_for 5 ping -c 1 -W 1 $GUEST || fail "ping after the stall"
connected || fail "vif$D.0 not Connected after the stall"
ok "stalled guest RX: carrier off (admin state and IPv6 address kept), back on when it posts"

# --- multicast control, flipped by the frontend while connected -------------
xnbctl stats --reset "vif$D.0" >/dev/null
xenstore-write "$FE/request-multicast-control" 1
wait_for 5 sh -c "$BUILD/tools/xnbctl show vif$D.0 --json | grep -q '\"mcast_control\":true'" ||
	fail "request-multicast-control not applied"
# The guest subscribed nothing: multicast for it is filtered, unicast is not.
ping -6 -c 2 -i 0.2 -W 1 -I "vif$D.0" ff02::1 >/dev/null 2>&1
ping -c 1 -W 1 $GUEST >/dev/null || fail "unicast with multicast control on"
[ "$(total rx_mcast_filtered)" -gt 0 ] ||
	fail "multicast not filtered: $(per_queue rx_mcast_filtered)"
xenstore-write "$FE/request-multicast-control" 0
wait_for 5 sh -c "$BUILD/tools/xnbctl show vif$D.0 --json | grep -q '\"mcast_control\":false'" ||
	fail "request-multicast-control 0 not applied"
ping -6 -c 2 -i 0.2 -W 1 -I "vif$D.0" ff02::1 | grep -q "fd00:216::2\|fe80" ||
	fail "all-nodes multicast not answered by the guest with filtering off"
ok "multicast control on: unsubscribed multicast filtered; off again: delivered"

# --- the administrator's MTU survives a guest reconnecting ------------------
ip link set "vif$D.0" mtu 1400
kill "$NF"; wait "$NF" 2>/dev/null; NF=
wait_for 10 sh -c "[ \"\$(xenstore-read $BE/state)\" != 4 ]" || fail "no disconnect"
# A new guest process is a new domain (same id): its half of the vif anew.
"$VIF" frontend $D 0
start_nf --queues 1
wait_for 10 connected || fail "the guest did not connect again"
[ "$(cat /sys/class/net/vif$D.0/mtu)" = 1400 ] || fail "MTU reset to $(cat /sys/class/net/vif$D.0/mtu)"
[ "$(show queues)" = 1 ] || fail "one queue the second time: $(show queues)"
ok "a guest reconnecting in place (now one queue) keeps the MTU the administrator set"

# --- too many queues ---------------------------------------------------------
"$VIF" add 74 0
BE74=/local/domain/0/backend/vif/74/0 FE74=/local/domain/74/device/vif/0
wait_for 5 sh -c "[ \"\$(xenstore-read $BE74/state)\" = 2 ]" || fail "vif74.0 not in InitWait"
xenstore-write "$FE74/multi-queue-num-queues" 3 "$FE74/request-rx-copy" 1 \
	"$FE74/feature-rx-notify" 1 "$FE74/state" 4
wait_for 5 sh -c "[ \"\$(xenstore-read $BE74/state)\" = 6 ]" || fail "3 queues not refused"
xenstore-read /local/domain/0/error/backend/vif/74/0/error | grep -q "exceeding the maximum of 2" ||
	fail "no error node for too many queues"
"$VIF" remove 74 0
connected || fail "vif$D.0 disturbed"
ok "a frontend asking for 3 queues of 2: refused with the reason in the error node"

# --- the control ring: the guest has the backend hash what it receives ------
kill "$NF"; wait "$NF" 2>/dev/null; NF=
wait_for 10 sh -c "[ \"\$(xenstore-read $BE/state)\" != 4 ]" || fail "no disconnect before --hash"
[ "$(xenstore-read "$BE/feature-ctrl-ring")" = 1 ] || fail "no feature-ctrl-ring"
# A new guest process is a new domain (same id): its half of the vif anew.
"$VIF" frontend $D 0
# --hash-rotate: a mapping table (hash h -> queue h+1 mod 2) that the
# kernel's own steering of the TAP's queues does not follow.
start_nf --queues 2 --hash-rotate
wait_for 10 connected || fail "the --hash guest did not connect"
xenstore-read "$FE/ctrl-ring-ref" >/dev/null && xenstore-read "$FE/event-channel-ctrl" >/dev/null ||
	fail "no ctrl-ring-ref / event-channel-ctrl from the netfront"
wait_for 5 sh -c "$BUILD/tools/xnbctl show vif$D.0 --json | grep -q '\"mapping_size\":2'" ||
	fail "hashing not configured: $(show hash)"
python3 - "$(show ctrl_ring)" "$(show hash)" <<'PY' || fail "xnbctl show: ctrl_ring $(show ctrl_ring), hash $(show hash)"
import json, sys
c, h = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert c["connected"] is True and c["requests"] >= 7 and c["refused"] == 0, c
assert h["algorithm"] == "toeplitz", h
assert h["flags"] == ["ipv4", "ipv4_tcp", "ipv6", "ipv6_tcp"], h
assert h["mapping_size"] == 2, h
PY
ip netns exec "$G" ip addr add $GUEST/24 dev eth0
ip netns exec "$G" ip addr add fd00:216::2/64 dev eth0 nodad
ip netns exec "$G" ip link set eth0 up
wait_for 5 ping -c 1 -W 1 $GUEST || fail "ping with hashing on"
xnbctl stats --reset "vif$D.0" >/dev/null
h2g 2 "$DIR/hash-h2g.json" -P 4 || fail "iperf3 -P 4 host -> guest with hashing on"
HOST=fd00:216::1 GUEST=fd00:216::2
h2g 2 "$DIR/hash6-h2g.json" -P 2 || fail "iperf3 over IPv6 host -> guest with hashing on"
HOST=10.216.0.1 GUEST=10.216.0.2
ping -c 3 -i 0.2 -W 1 $GUEST >/dev/null || fail "ping after the streams"
# What the netfront checked: each hash extra against its own Toeplitz hash.
nf_hashes() {
	kill -USR1 "$NF"
	sleep 0.5
	grep "all queues" "$DIR/nf.log" | tail -1 |
		sed -n 's/.*hash match \([0-9]*\), hash mismatch \([0-9]*\), hash wrong queue \([0-9]*\).*/\1 \2 \3/p'
}
set -- $(nf_hashes)
[ "$(total rx_hash_extras)" -gt 1000 ] || fail "hash extras: $(per_queue rx_hash_extras)"
[ "${1:-0}" -gt 1000 ] && [ "${2:-1}" = 0 ] || fail "the netfront's hash check: match ${1:-?}, mismatch ${2:-?}"
# Steering: each hashed frame reaches the guest on the queue its table
# names. The kernel picks a new flow's TAP queue by its own hash, so about
# half of the 10 flows start on the other queue (steered); then the guest
# answers on the queue it received on, and the kernel's flow table follows
# (tun's automatic steering), so a flow is steered for its first frames
# only. Only frames a full inbox kept where they were (misqueued) may reach
# the guest on another queue (10 more: the ping before the counters' reset),
# and they are rare. (Frames left where they arrived would follow the
# flow's first queue: half of them on the wrong one.)
STEERED=$(total rx_hash_steered) MISQ=$(total rx_hash_misqueued)
[ "$STEERED" -gt 0 ] || fail "steering: $(per_queue rx_hash_steered) steered"
[ "${3:-1000000}" -le $((MISQ + 10)) ] && [ $(( ${3:-1000000} * 100 )) -le "${1:-0}" ] ||
	fail "steering: the guest saw ${3:-?} of ${1:-?} on the wrong queue (steered $STEERED, misqueued $MISQ)"
ok "control ring: Toeplitz, 4 types, rotated 2-entry mapping; $(total rx_hash_extras) hash extras, the guest's check: $1 match, $2 mismatch; steered by the table: $STEERED, on the wrong queue $3 (misqueued $MISQ)"

# The frontend configured this once; a new worker must go on with it.
W=$(worker_of $D)
[ -n "$W" ] || fail "no worker for guest $D"
kill -9 "$W"
wait_for 10 sh -c "worker_of() { pgrep -P $XNBD -f \"xnbd-worker --domid \$1 \"; }; \
	[ -n \"\$(worker_of $D)\" ] && [ \"\$(worker_of $D)\" != $W ]" || fail "the worker was not restarted"
wait_for 10 sh -c "$BUILD/tools/xnbctl show vif$D.0 --json | grep -q '\"algorithm\":\"toeplitz\"'" ||
	fail "the hash state did not survive the worker: $(show hash)"
connected || fail "vif$D.0 not Connected after the worker's restart"
wait_for 5 ping -c 1 -W 1 $GUEST || fail "ping after the worker's restart"
h2g 2 "$DIR/hash-h2g-2.json" -P 4 || fail "iperf3 after the worker's restart"
set -- $(nf_hashes)
[ "$(total rx_hash_extras)" -gt 1000 ] || fail "no hash extras after the restart: $(per_queue rx_hash_extras)"
[ "${2:-1}" = 0 ] || fail "the netfront's hash check after the restart: mismatch ${2:-?}"
python3 - "$(show hash)" <<'PY' || fail "hash state after the restart: $(show hash)"
import json, sys
h = json.loads(sys.argv[1])
assert h["flags"] == ["ipv4", "ipv4_tcp", "ipv6", "ipv6_tcp"] and h["mapping_size"] == 2, h
PY
ok "kill -9 of the worker: the hash state kept (journal), hash extras go on, no mismatch"

# --- our netfront's multicast control: a guest of its own (domid 76) -------
# xnb-netfront --mcast-control asks for filtering and subscribes what its
# NIC's multicast list holds; the backend then delivers only those groups.
M=76 GM=xnbpar76.$$
BEM=/local/domain/0/backend/vif/$M/0 FEM=/local/domain/$M/device/vif/0
HOSTM=10.216.76.1 GUESTM=10.216.76.2
# A field of `xnbctl show vif76.0 --json`, a counter summed over its queues.
show_m() { xnbctl show "vif$M.0" --json | python3 -c "import json,sys
v = json.load(sys.stdin)['vifs'][0]; print(json.dumps(v['$1']))"; }
total_m() { xnbctl stats "vif$M.0" --json | python3 -c "import json,sys
print(sum(q['$1'] for q in json.load(sys.stdin)['vifs']))"; }
subscribed() { show_m multicast | grep -q "\"$1\""; }
nr_subscribed() { show_m multicast | python3 -c "import json,sys; print(len(json.load(sys.stdin)))"; }
at_least() { [ "$(total_m "$1")" -ge "$2" ]; } # counter n
nsm() { ip netns exec "$GM" "$@"; }
ip netns add "$GM"
nsm ip link set lo up
# (Not through nsm: $! must be the process itself, for cleanup to stop it.)
ip netns exec "$GM" "$BUILD/src/frontend/xnb-netfront" --domid $M --no-reconnect --queues 2 \
	--mcast-control >>"$DIR/nf76.log" 2>&1 &
NFM=$!
"$VIF" add $M 0
wait_for 10 sh -c "[ \"\$(xenstore-read $BEM/state)\" = 4 ]" || fail "vif$M.0 did not connect"
[ "$(xenstore-read "$FEM/request-multicast-control")" = 1 ] ||
	fail "--mcast-control: no request-multicast-control=1"
[ "$(show_m features | python3 -c "import json,sys; print(json.load(sys.stdin)['mcast_control'])")" = True ] ||
	fail "filtering not on: $(show_m features)"
[ "$(show_m queues)" = 2 ] || fail "vif$M.0: $(show_m queues) queues"
ip addr add $HOSTM/24 dev "vif$M.0"; ip addr add fd00:216:76::1/64 dev "vif$M.0" nodad
ip link set "vif$M.0" up
nsm ip addr add $GUESTM/24 dev eth0
nsm ip addr add fd00:216:76::2/64 dev eth0 nodad
nsm ip link set eth0 up
# Host to guest over IPv6 needs the host's neighbour solicitation, sent to
# the guest's solicited-node group: it only passes the filter subscribed.
ip -6 neigh show dev "vif$M.0" | grep -q "fd00:216:76::2 .*lladdr" && fail "neighbour known already"
wait_for 10 ping -6 -c 1 -W 1 fd00:216:76::2 || fail "ping6 host -> guest with filtering on"
ip -6 neigh show dev "vif$M.0" | grep -q "fd00:216:76::2 .*lladdr" || fail "no neighbour entry"
wait_for 5 ping -c 1 -W 1 $GUESTM || fail "ping host -> guest with filtering on"
for a in 33:33:ff:00:00:02 33:33:00:00:00:01 01:00:5e:00:00:01; do
	subscribed $a || fail "$a not subscribed: $(show_m multicast)"
done
ok "--mcast-control: request-multicast-control=1, ping6 to the guest through the filter, subscribed $(show_m multicast)"

# A group the guest has not joined is filtered; once it joins, it is delivered.
send_group() { # count: UDP datagrams from the host to 239.1.2.3:5555, out of vif76.0
	python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('$HOSTM'))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
for _ in range(int(sys.argv[1])):
    s.sendto(b'xnb-mcast', ('239.1.2.3', 5555))" "$1"
}
subscribed 01:00:5e:01:02:03 && fail "01:00:5e:01:02:03 subscribed before the guest joined"
F0=$(total_m rx_mcast_filtered)
send_group 20
wait_for 5 at_least rx_mcast_filtered $((F0 + 20)) ||
	fail "239.1.2.3 not filtered: rx_mcast_filtered $F0 -> $(total_m rx_mcast_filtered)"
ip netns exec "$GM" python3 -c "
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 5555))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack('4s4s', socket.inet_aton('239.1.2.3'), socket.inet_aton('$GUESTM')))
s.settimeout(20)
print(s.recvfrom(64)[0].decode(), flush=True)" >"$DIR/mcast-rx.out" 2>&1 &
LISTENER=$!
wait_for 5 subscribed 01:00:5e:01:02:03 || fail "the guest's join was not subscribed: $(show_m multicast)"
for _ in $(seq 1 25); do
	send_group 1
	grep -q xnb-mcast "$DIR/mcast-rx.out" && break
	sleep 0.2
done
wait "$LISTENER"; LISTENER=
grep -q xnb-mcast "$DIR/mcast-rx.out" || fail "the joined group did not reach the guest: $(cat "$DIR/mcast-rx.out")"
# The listener has gone, and its membership: unsubscribed (MCAST_DEL), filtered again.
wait_for 5 eval "! subscribed 01:00:5e:01:02:03" ||
	fail "the group was not unsubscribed after the guest left it: $(show_m multicast)"
F1=$(total_m rx_mcast_filtered)
send_group 5
wait_for 5 at_least rx_mcast_filtered $((F1 + 5)) ||
	fail "239.1.2.3 not filtered again after the guest left"
ok "239.1.2.3: filtered until the guest joins, delivered to its socket then, filtered again after it leaves"

# More groups than the backend's table (64, as Linux): refused ones are
# logged once and the netfront carries on; removals make room again.
BASE=$(nr_subscribed)
for i in $(seq 1 70); do nsm ip maddr add "01:00:5e:10:00:$(printf %02x "$i")" dev eth0; done
wait_for 10 at_least tx_drop_mcast_full $((BASE + 70 - 64)) ||
	fail "no refusals counted: tx_drop_mcast_full $(total_m tx_drop_mcast_full)"
REFUSED=$(total_m tx_drop_mcast_full)
[ "$REFUSED" = $((BASE + 70 - 64)) ] || fail "$REFUSED refusals, not $((BASE + 70 - 64))"
[ "$(nr_subscribed)" = 64 ] ||
	fail "the backend's table: $(show_m multicast)"
[ "$(grep -c "refused multicast group" "$DIR/nf76.log")" = 1 ] || fail "refusals not logged once"
ping -6 -c 1 -W 2 fd00:216:76::2 >/dev/null || fail "ping6 with the table full"
for i in $(seq 1 70); do nsm ip maddr del "01:00:5e:10:00:$(printf %02x "$i")" dev eth0; done
wait_for 10 eval '[ "$(nr_subscribed)" = "$BASE" ]' ||
	fail "not back to $BASE subscriptions: $(show_m multicast)"
subscribed 33:33:ff:00:00:02 || fail "solicited-node group lost on the way"
kill -0 "$NFM" || fail "the netfront died"
ok "70 more groups: $REFUSED refused (table full, logged once), ping6 fine; all removed: back to $BASE"

# The filter outlives the worker (its journal), and the netfront goes on with it.
subs_sorted() { show_m multicast | python3 -c "import json,sys; print(sorted(json.load(sys.stdin)))"; }
SUBS=$(subs_sorted)
WM=$(pgrep -P "$XNBD" -f "xnbd-worker --domid $M ")
[ -n "$WM" ] || fail "no worker for domain $M"
kill -9 "$WM"
wait_for 10 eval '[ -n "$(pgrep -P "$XNBD" -f "xnbd-worker --domid $M ")" ] &&
	[ "$(pgrep -P "$XNBD" -f "xnbd-worker --domid $M ")" != "$WM" ]' || fail "no new worker"
wait_for 10 eval '[ "$(subs_sorted)" = "$SUBS" ]' ||
	fail "subscriptions not resumed: $(subs_sorted), were $SUBS"
nsm ip maddr add 01:00:5e:55:00:01 dev eth0
wait_for 5 subscribed 01:00:5e:55:00:01 || fail "no subscription after the worker's restart"
nsm ip maddr del 01:00:5e:55:00:01 dev eth0
wait_for 5 eval "! subscribed 01:00:5e:55:00:01" || fail "no removal after the worker's restart"
wait_for 5 ping -6 -c 1 -W 1 fd00:216:76::2 || fail "ping6 after the worker's restart"
# A new connection starts from an empty filter on both sides: all sent again.
kill "$NFM"; wait "$NFM" 2>/dev/null; NFM=
wait_for 10 eval '[ "$(xenstore-read $BEM/state)" != 4 ]' || fail "vif$M.0 did not disconnect"
"$VIF" frontend $M 0 # a new domain with the same id: its half of the vif anew
ip netns exec "$GM" "$BUILD/src/frontend/xnb-netfront" --domid $M --no-reconnect --queues 2 \
	--mcast-control >>"$DIR/nf76.log" 2>&1 &
NFM=$!
wait_for 10 eval '[ "$(xenstore-read $BEM/state)" = 4 ]' || fail "vif$M.0 did not reconnect"
# (a new process, a new NIC: the guest configures it again)
nsm ip addr add $GUESTM/24 dev eth0
nsm ip addr add fd00:216:76::2/64 dev eth0 nodad
nsm ip link set eth0 up
wait_for 5 eval '[ "$(subs_sorted)" = "$SUBS" ]' ||
	fail "not subscribed again: $(subs_sorted), were $SUBS"
wait_for 5 ping -6 -c 1 -W 1 fd00:216:76::2 || fail "ping6 after reconnecting"
ok "the filter resumed by a new worker (kill -9) and kept up; a new connection subscribes it all again"

# --- hostile_front --mode mcast-full (domid 77) --------------------------------
"$VIF" add 77 0
"$BUILD/tests/integration/hostile_front" --mode mcast-full --seconds 4 77 >"$DIR/hostile77.log" 2>&1 &
HF=$!
wait_for 10 grep -q "mcast-full: \(as Linux\|UNEXPECTED\)" "$DIR/hostile77.log" ||
	fail "hostile_front mcast-full gave no verdict: $(cat "$DIR/hostile77.log")"
FULL=$(xnbctl stats vif77.0 --json | python3 -c "import json,sys
print(sum(q['tx_drop_mcast_full'] for q in json.load(sys.stdin)['vifs']))")
wait "$HF"; RC=$?; HF=
[ "$RC" = 0 ] || fail "hostile_front mcast-full exited $RC: $(cat "$DIR/hostile77.log")"
[ "$FULL" = 1 ] || fail "tx_drop_mcast_full $FULL, not 1"
sed -n 's/^hostile_front: mcast-full: //p' "$DIR/hostile77.log" | head -3
"$VIF" remove 77 0
kill -0 "$XNBD" || fail "xnbd died"
connected || fail "vif$D.0 disturbed"
wait_for 5 ping -6 -c 1 -W 1 fd00:216:76::2 || fail "vif$M.0 disturbed"
ok "hostile mcast-full: 64 ADDs OKAY, the 65th ERROR (tx_drop_mcast_full 1), DEL + ADD again OKAY; xnbd fine"
