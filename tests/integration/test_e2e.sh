#!/bin/sh
# SPDX-License-Identifier: MIT
# test_e2e.sh - xnbd and xnb-netfront end to end over the simulated platform,
# with real traffic between network namespaces. Each step prints a line;
# the first failure prints the daemons' logs and fails the test.
# Needs root; exits 77 (skipped) without it.
#
# usage: test_e2e.sh BUILD_DIR SOURCE_DIR
set -u

BUILD=$1
SRC=$2
if [ "$(id -u)" != 0 ] || ! command -v iperf3 >/dev/null || ! command -v ping >/dev/null; then
	echo "test_e2e: needs root, iperf3 and ping: skipped"
	exit 77
fi

DIR=$(mktemp -d /tmp/xnb-e2e.XXXXXX)
export XNB_SIM_DIR="$DIR" XENSTORED_PATH="$DIR/xenstored"
G1=xnbe2e1.$$ G2=xnbe2e2.$$
STEP=0
VIF="$SRC/tools/xnb-sim-vif"

log() { printf '%s\n' "$*"; }
dump() {
	for f in "$DIR"/*.log; do echo "--- $f"; tail -25 "$f"; done
	xenstore-ls /local/domain 2>/dev/null | head -80
}
fail() { log "not ok $STEP - $*"; dump; exit 1; }
ok() { STEP=$((STEP + 1)); log "ok $STEP - $*"; }
wait_for() { t=$1; shift
	for _ in $(seq 1 $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1; }

cleanup() {
	for p in ${NF1:-} ${NF2:-} ${XNBD:-} ${SIMD:-}; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in ${NF1:-} ${NF2:-} ${XNBD:-} ${SIMD:-}; do kill -9 "$p" 2>/dev/null; done
	pkill -f "iperf3 -s .* -B 10.214" 2>/dev/null
	ip netns del "$G1" 2>/dev/null; ip netns del "$G2" 2>/dev/null
	ip link del vif1.0 2>/dev/null; ip link del vif2.0 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT

be_state() { xenstore-read "/local/domain/0/backend/vif/$1/0/state" 2>/dev/null; }
start_xnbd() {
	"$BUILD/src/backend/xnbd" >>"$DIR/xnbd.log" 2>&1 &
	XNBD=$!
	wait_for 5 test -S "$DIR/xnbd.sock" || fail "xnbd did not start"
}
start_nf() { # domid netns [mtu] [options]: guest 1 splits its event channels, guest 2 not
	ip netns exec "$2" "$BUILD/src/frontend/xnb-netfront" --domid "$1" --mtu "${3:-1500}" ${4:-} \
		>>"$DIR/nf$1.log" 2>&1 &
	eval "NF$1=\$!"
}
guest_up() { # domid netns ip
	wait_for 5 ip netns exec "$2" ip link show eth0 || fail "guest $1 has no eth0"
	ip netns exec "$2" ip addr replace "$3/24" dev eth0
	ip netns exec "$2" ip link set eth0 up
}
host_up() { # domid ip
	wait_for 5 ip link show "vif$1.0" || fail "no vif$1.0"
	ip addr replace "$2/24" dev "vif$1.0"
	ip link set "vif$1.0" up
}
fds() { ls "/proc/$1/fd" | wc -l; }

"$BUILD/src/sim/xnb-simd" --foreground --dir "$DIR" >"$DIR/simd.log" 2>&1 &
SIMD=$!
wait_for 5 test -S "$DIR/xenstored" || fail "xnb-simd did not start"
start_xnbd
XNBD_FDS0=$(fds "$XNBD")
ip netns add "$G1"; ip netns add "$G2"
ip netns exec "$G1" ip link set lo up; ip netns exec "$G2" ip link set lo up

# --- one guest: handshake, ping, TCP with GSO both ways, UDP -------------
start_nf 1 "$G1" 9000
"$VIF" add 1 0 00:16:3e:00:00:01 9000
wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vif/1/0/state)\" = 4 ]" ||
	fail "vif 1.0 did not connect"
grep -q "split event channels" "$DIR/xnbd.log" || fail "guest 1 did not split its event channels"
ok "handshake: backend and frontend Connected, split event channels"
host_up 1 10.214.1.1
guest_up 1 "$G1" 10.214.1.2
wait_for 5 ping -c 1 -W 1 10.214.1.2 || fail "ping host -> guest"
ip netns exec "$G1" ping -c 2 -i 0.2 -W 1 10.214.1.1 >/dev/null || fail "ping guest -> host"
ok "ping both ways"

ip netns exec "$G1" ping -c 2 -i 0.2 -W 1 -s 8972 -M do 10.214.1.1 >/dev/null ||
	fail "jumbo ping guest -> host (MTU 9000)"
ping -c 2 -i 0.2 -W 1 -s 8972 -M do 10.214.1.2 >/dev/null || fail "jumbo ping host -> guest"
ok "jumbo frames (MTU 9000, unfragmented) both ways"

iperf3 -s -1 -B 10.214.1.1 >/dev/null 2>&1 &
sleep 0.3
ip netns exec "$G1" iperf3 -c 10.214.1.1 -t 2 -J >"$DIR/tcp-g2h.json" 2>&1 || fail "iperf3 guest -> host"
ip netns exec "$G1" iperf3 -s -1 -B 10.214.1.2 >/dev/null 2>&1 &
sleep 0.3
iperf3 -c 10.214.1.2 -t 2 -J >"$DIR/tcp-h2g.json" 2>&1 || fail "iperf3 host -> guest"
STATS=$("$BUILD/tools/xnbctl" stats vif1.0 --json)
python3 - "$DIR/tcp-g2h.json" "$DIR/tcp-h2g.json" "$STATS" <<'PY' || fail "TCP results"
import json, sys
for f in sys.argv[1:3]:
    r = json.load(open(f))["end"]["sum_received"]
    assert r["bytes"] > 50_000_000, (f, r["bytes"])
s = json.loads(sys.argv[3])["vifs"][0]
assert s["tx_gso"] > 0 and s["rx_gso"] > 0, s
assert s["tx_dropped"] == 0 and s["rx_copy_errors"] == 0, s
PY
ok "TCP both ways with GSO segments on the rings, no drops"

# Bytes, not just rates: 32 MiB each way over TCP, compared by SHA-256 (the
# rings mark the data checksum-validated, so a corrupted copy would not be
# caught by TCP itself).
cat >"$DIR/xfer.py" <<'PY'
import hashlib, os, socket, sys
mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "recv":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(1); s.settimeout(30)
    c, _ = s.accept(); c.settimeout(30); h = hashlib.sha256(); n = 0
    while True:
        b = c.recv(1 << 16)
        if not b: break
        h.update(b); n += len(b)
    print(n, h.hexdigest())
else:
    data = os.urandom(32 << 20)
    s = socket.create_connection((addr, port), timeout=30); s.sendall(data); s.close()
    print(len(data), hashlib.sha256(data).hexdigest())
PY
xfer() { # receiver-netns-prefix sender-netns-prefix ip
	$1 python3 "$DIR/xfer.py" recv "$3" 5201 >"$DIR/xfer-recv.txt" 2>&1 &
	rpid=$!
	sleep 0.5
	$2 python3 "$DIR/xfer.py" send "$3" 5201 >"$DIR/xfer-send.txt" 2>&1
	wait "$rpid"
	[ -s "$DIR/xfer-send.txt" ] && cmp -s "$DIR/xfer-send.txt" "$DIR/xfer-recv.txt"
}
# Many small datagrams at once: the host queue fills and drains within one
# batch. Each carries its sequence number and a digest of it; the receiver
# counts any whose content does not match (UDP checksums are not checked:
# the rings mark them validated).
cat >"$DIR/burst.py" <<'PY'
import hashlib, socket, sys, time
mode, addr = sys.argv[1], sys.argv[2]
def payload(i):
    return i.to_bytes(4, "big") + hashlib.sha256(i.to_bytes(4, "big")).digest() * 8
if mode == "recv":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, 5301)); s.settimeout(3); good = bad = 0
    try:
        while True:
            b = s.recv(2048)
            i = int.from_bytes(b[:4], "big")
            if b == payload(i): good += 1
            else: bad += 1
    except socket.timeout:
        pass
    print(good, bad)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for r in range(20):
        for i in range(r * 1000, r * 1000 + 1000):
            s.sendto(payload(i), (addr, 5301))
        time.sleep(0.01)
PY
ip netns exec "$G1" python3 "$DIR/burst.py" recv 10.214.1.2 >"$DIR/burst.txt" 2>&1 &
BPID=$!
sleep 0.5
python3 "$DIR/burst.py" send 10.214.1.2
wait "$BPID"
read -r GOOD BAD <"$DIR/burst.txt" || fail "burst receiver: $(cat "$DIR/burst.txt")"
[ "$BAD" = 0 ] && [ "$GOOD" -gt 1000 ] || fail "burst: $GOOD intact, $BAD corrupted datagrams"
ok "20000-datagram bursts host -> guest: $GOOD received, none corrupted"

xfer "ip netns exec $G1" "" 10.214.1.2 || fail "host -> guest bytes differ: $(cat "$DIR"/xfer-*.txt)"
xfer "" "ip netns exec $G1" 10.214.1.1 || fail "guest -> host bytes differ: $(cat "$DIR"/xfer-*.txt)"
ok "32 MiB each way arrive intact (SHA-256)"

ip netns exec "$G1" iperf3 -s -1 -B 10.214.1.2 >/dev/null 2>&1 &
sleep 0.3
iperf3 -c 10.214.1.2 -u -b 200M -t 1 -J >"$DIR/udp.json" 2>&1 || fail "iperf3 UDP"
python3 - "$DIR/udp.json" <<'PY' || fail "UDP results"
import json, sys
s = json.load(open(sys.argv[1]))["end"]["sum"]
assert s["packets"] > 1000 and s["lost_percent"] < 20, s
PY
ok "UDP host -> guest"

# --- a second guest at once ----------------------------------------------
start_nf 2 "$G2" 1500 --single-evtchn
"$VIF" add 2 0
wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vif/2/0/state)\" = 4 ]" ||
	fail "vif 2.0 did not connect"
host_up 2 10.214.2.1
guest_up 2 "$G2" 10.214.2.2
wait_for 5 ping -c 1 -W 1 10.214.2.2 || fail "ping guest 2"
ping -c 2 -i 0.2 -W 1 10.214.1.2 >/dev/null || fail "guest 1 stopped answering"
grep -q "vif2.0: connected.*one event channel" "$DIR/xnbd.log" || fail "guest 2 not on one channel"
ok "two guests served at once (one on split channels, one on a single channel)"

# --- kill -9 of a netfront mid-transfer: the other guest keeps flowing ------
ip netns exec "$G1" iperf3 -s -1 -B 10.214.1.2 >/dev/null 2>&1 &
sleep 0.3
timeout 10 iperf3 -c 10.214.1.2 -t 4 >/dev/null 2>&1 &
IPERF=$!
sleep 1
kill -9 "$NF1"
wait "$NF1" 2>/dev/null
NF1=
ping -c 3 -i 0.2 -W 1 10.214.2.2 >/dev/null || fail "guest 2 lost service when guest 1 died"
wait_for 5 sh -c "\"$BUILD/tools/xnbctl\" list vif1.0 | grep -q Closed" || fail "vif1.0 not Closed"
kill "$IPERF" 2>/dev/null; wait "$IPERF" 2>/dev/null
kill -0 "$XNBD" || fail "xnbd died"
ok "kill -9 of netfront 1 mid-transfer: vif1.0 Closed, guest 2 still served"

# --- the guest comes back (reboot) ------------------------------------------
start_nf 1 "$G1" 9000
wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vif/1/0/state)\" = 4 ]" ||
	fail "vif 1.0 did not reconnect"
guest_up 1 "$G1" 10.214.1.2
wait_for 5 ping -c 1 -W 1 10.214.1.2 || fail "ping after guest restart"
ok "restarted netfront reconnects"

# --- orderly netfront stop and start -----------------------------------------
kill -TERM "$NF1"; wait "$NF1"; RC=$?; NF1=
[ "$RC" = 0 ] || fail "netfront exited $RC on SIGTERM"
wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vif/1/0/state)\" = 6 ]" ||
	fail "backend not Closed after the frontend closed"
start_nf 1 "$G1" 9000
guest_up 1 "$G1" 10.214.1.2
wait_for 5 ping -c 1 -W 1 10.214.1.2 || fail "ping after netfront restart"
ok "netfront SIGTERM: Closed, then reconnect"

# --- xnbd restarted -------------------------------------------------------
kill -TERM "$XNBD"; wait "$XNBD"; RC=$?
[ "$RC" = 0 ] || fail "xnbd exited $RC on SIGTERM"
ip link show vif1.0 >/dev/null 2>&1 && fail "vif1.0 left behind by xnbd"
[ "$(be_state 1)" = 6 ] && [ "$(be_state 2)" = 6 ] || fail "vifs not Closed on SIGTERM"
ok "xnbd SIGTERM: every vif Closed, TAPs removed, exit 0"
start_xnbd
host_up 1 10.214.1.1
host_up 2 10.214.2.1
wait_for 5 ping -c 1 -W 1 10.214.1.2 || fail "guest 1 after xnbd restart"
wait_for 5 ping -c 1 -W 1 10.214.2.2 || fail "guest 2 after xnbd restart"
ok "xnbd restarted: both guests reconnect"

# --- a frontend writing garbage -------------------------------------------
FE=/local/domain/9/device/vif/0
BE=/local/domain/0/backend/vif/9/0
"$VIF" add 9 0
wait_for 5 sh -c "[ \"\$(xenstore-read $BE/state)\" = 2 ]" || fail "vif9.0 not in InitWait"
xenstore-write "$FE/tx-ring-ref" "12abc" "$FE/rx-ring-ref" 7 "$FE/event-channel" 3 \
	"$FE/request-rx-copy" 1 "$FE/feature-rx-notify" 1 "$FE/state" 4
wait_for 5 sh -c "[ \"\$(xenstore-read $BE/state)\" = 6 ]" || fail "garbage ring ref not refused"
xenstore-read /local/domain/0/error/backend/vif/9/0/error | grep -q tx-ring-ref ||
	fail "no error node for the bad ring ref"
kill -0 "$XNBD" || fail "xnbd died on garbage"
"$VIF" remove 9 0
ok "garbage tx-ring-ref: error node written, vif Closed, xnbd fine"

# --- a frontend that breaks the ring protocol -------------------------------
"$VIF" add 11 0
"$BUILD/tests/integration/hostile_front" 11 >"$DIR/hostile.log" 2>&1 || fail "hostile frontend run"
xenstore-read /local/domain/0/error/backend/vif/11/0/error | grep -q "request producer" ||
	fail "no error node naming the broken ring"
grep -q "vif11.0: frontend broke the protocol" "$DIR/xnbd.log" || fail "no log line for the broken vif"
ping -c 2 -i 0.2 -W 1 10.214.1.2 >/dev/null || fail "guest 1 lost service"
ping -c 2 -i 0.2 -W 1 10.214.2.2 >/dev/null || fail "guest 2 lost service"
"$VIF" remove 11 0
ok "XSA-39 ring indices: that vif disconnected with the reason logged, others unaffected"

# --- toolstack removal: nothing left --------------------------------------
kill -TERM "$NF1" "$NF2"; wait "$NF1" "$NF2"; NF1= NF2=
"$VIF" remove 1 0
"$VIF" remove 2 0
wait_for 5 sh -c "! ip link show vif1.0 && ! ip link show vif2.0" || fail "TAPs not removed"
wait_for 5 sh -c "[ \"\$(\"$BUILD/tools/xnbctl\" list)\" = '' ]" || fail "vifs still listed"
[ "$(fds "$XNBD")" -le "$XNBD_FDS0" ] || fail "xnbd fds: $(fds "$XNBD") now, $XNBD_FDS0 at start"
ok "vifs removed: no TAP, no vif, no fd left in xnbd"

kill -TERM "$XNBD"; wait "$XNBD"; RC=$?; XNBD=
[ "$RC" = 0 ] || fail "xnbd exit status $RC (sanitizer report?)"
kill -TERM "$SIMD"; wait "$SIMD"; RC=$?; SIMD=
[ "$RC" = 0 ] || fail "xnb-simd exit status $RC"
ok "daemons exit cleanly"
echo "$STEP passed, 0 failed"
