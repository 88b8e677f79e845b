#!/bin/sh
# SPDX-License-Identifier: MIT
# test_e2e.sh - xnbd and xnb-netfront end to end over the simulated platform,
# with real traffic between network namespaces. Each step prints a line;
# the first failure prints the daemons' logs and fails the test.
# Needs root; exits 77 (skipped) without it.
#
# usage: test_e2e.sh BUILD_DIR SOURCE_DIR
set -u
# gdb (the seccomp steps) may die with the worker it holds: no core files here.
ulimit -c 0

BUILD=$1
SRC=$2
. "$SRC/tests/integration/lib.sh"
DUMP_XS=/local/domain
lib_init test_e2e e2e iperf3 ping

G1=xnbe2e1.$$ G2=xnbe2e2.$$

cleanup() {
	rm -f "$DIR/watching"
	[ -n "${XNBD:-}" ] && "$BUILD/tools/xnbctl" shutdown --disconnect >/dev/null 2>&1
	for p in ${NF1:-} ${NF2:-} ${NF3:-} ${NF12:-} ${XNBD:-} ${SIMD:-}; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in ${NF1:-} ${NF2:-} ${NF3:-} ${NF12:-} ${XNBD:-} ${SIMD:-}; do kill -9 "$p" 2>/dev/null; done
	pkill -f "iperf3 -s .* -B 10.214" 2>/dev/null
	ip netns del "$G1" 2>/dev/null; ip netns del "$G2" 2>/dev/null
	for v in vif1.0 vif2.0 vif3.0 vif9.0 vif11.0 vif12.0 vif13.0; do ip link del "$v" 2>/dev/null; done
	rm -rf "$DIR"
}
trap cleanup EXIT

be_state() { xenstore-read "/local/domain/0/backend/vif/$1/0/state" 2>/dev/null; }
start_xnbd() { # [xnbd binary]
	rm -f "$DIR/xnbd.sock"
	"${1:-$BUILD/src/backend/xnbd}" >>"$DIR/xnbd.log" 2>&1 &
	XNBD=$!
	wait_for 5 test -S "$DIR/xnbd.sock" || fail "xnbd did not start"
}
worker_of() { pgrep -P "$XNBD" -f "xnbd-worker --domid $1 "; }
# Every netfront behaves as Linux's does: once Closed it stays Closed, so a
# backend restart that is not seamless fails the steps below. A new netfront
# process is a guest reboot (a new driver instance, from Initialising).
start_nf() { # domid netns [mtu] [options]: guest 1 splits its event channels, guest 2 not
	ip netns exec "$2" "$BUILD/src/frontend/xnb-netfront" --domid "$1" --mtu "${3:-1500}" \
		--no-reconnect ${4:-} \
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

iperf_server - 10.214.1.1
ip netns exec "$G1" timeout 30 iperf3 -c 10.214.1.1 -t 2 -J >"$DIR/tcp-g2h.json" 2>&1 || fail "iperf3 guest -> host"
iperf_server "$G1" 10.214.1.2
timeout 30 iperf3 -c 10.214.1.2 -t 2 -J >"$DIR/tcp-h2g.json" 2>&1 || fail "iperf3 host -> guest"
STATS=$("$BUILD/tools/xnbctl" stats vif1.0 --json)
python3 - "$DIR/tcp-g2h.json" "$DIR/tcp-h2g.json" "$STATS" <<'PY' || fail "TCP results"
import json, sys
for f in sys.argv[1:3]:
    r = json.load(open(f))["end"]["sum_received"]
    assert r["bytes"] > 50_000_000, (f, r["bytes"])
s = json.loads(sys.argv[3])["totals"][0]  # summed over the queues
assert s["tx_gso"] > 0 and s["rx_gso"] > 0, s
assert s["tx_dropped"] == 0 and s["rx_copy_errors"] == 0, s
PY
ok "TCP both ways with GSO segments on the rings, no drops"

# Bytes, not just rates: 32 MiB each way over TCP, compared by SHA-256 (the
# rings mark the data checksum-validated, so a corrupted copy would not be
# caught by TCP itself).
cat >"$DIR/xfer.py" <<'PY'
import hashlib, os, socket, sys, time
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

iperf_server "$G1" 10.214.1.2
timeout 30 iperf3 -c 10.214.1.2 -u -b 200M -t 1 -J >"$DIR/udp.json" 2>&1 || fail "iperf3 UDP"
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
iperf_server "$G1" 10.214.1.2
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
# A new domain, though with the same id: the dead one's nodes went with it
# (as xenstored removes them), so its half of the vif is written anew.
"$VIF" frontend 1 0 00:16:3e:00:00:01 9000
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
"$VIF" frontend 1 0 00:16:3e:00:00:01 9000
start_nf 1 "$G1" 9000
guest_up 1 "$G1" 10.214.1.2
wait_for 5 ping -c 1 -W 1 10.214.1.2 || fail "ping after netfront restart"
ok "netfront SIGTERM: Closed, then reconnect"

# --- restarts the guests must not notice ----------------------------------
# A watcher samples all four state nodes; any value but 4 is written down.
# Each disruption lands in the middle of an iperf3 TCP stream to guest 1
# and of a paced 32 MiB transfer from guest 2, checked by SHA-256.
: >"$DIR/watching"
( while [ -e "$DIR/watching" ]; do
	for n in /local/domain/0/backend/vif/1/0/state /local/domain/1/device/vif/0/state \
		/local/domain/0/backend/vif/2/0/state /local/domain/2/device/vif/0/state; do
		v=$(xenstore-read "$n" 2>/dev/null)
		[ "$v" = 4 ] || echo "$n=$v" >>"$DIR/state-changes"
	done
	sleep 0.05
done ) &
WATCHER=$!
ACROSS=0
across() { # description command...
	what=$1; shift
	ACROSS=$((ACROSS + 1)) # a port of its own: nothing left from the last one answers
	ip netns exec "$G1" iperf3 -s -1 -B 10.214.1.2 -p $((5210 + ACROSS)) >/dev/null 2>&1 &
	python3 "$DIR/xfer.py" recv 10.214.2.1 $((5220 + ACROSS)) >"$DIR/xfer-recv.txt" 2>&1 &
	rpid=$!
	sleep 0.3
	timeout 20 iperf3 -c 10.214.1.2 -p $((5210 + ACROSS)) -t 4 -J >"$DIR/across.json" 2>&1 &
	ipid=$!
	ip netns exec "$G2" python3 "$DIR/xfer.py" send 10.214.2.1 $((5220 + ACROSS)) 3 \
		>"$DIR/xfer-send.txt" 2>&1 &
	spid=$!
	sleep 1
	"$@"
	wait "$ipid" || fail "$what: iperf3 to guest 1 failed: $(tail -3 "$DIR/across.json")"
	wait "$spid"; wait "$rpid"
	[ -s "$DIR/xfer-send.txt" ] && cmp -s "$DIR/xfer-send.txt" "$DIR/xfer-recv.txt" ||
		fail "$what: guest 2's bytes differ: $(cat "$DIR"/xfer-*.txt)"
	python3 - "$DIR/across.json" >"$DIR/across.txt" 2>&1 <<'PY' ||
import json, sys
j = json.load(open(sys.argv[1]))
r = j["end"]["sum_received"]
print("per second:", [round(i["sum"]["bits_per_second"] / 1e9, 2) for i in j["intervals"]])
assert r["bytes"] > 10_000_000, r["bytes"]
PY
		fail "$what: iperf3 result: $(cat "$DIR/across.txt")"
	wait_for 5 ping -c 1 -W 1 10.214.1.2 || fail "$what: guest 1 does not answer"
	ip netns exec "$G2" ping -c 2 -i 0.2 -W 1 10.214.2.1 >/dev/null || fail "$what: guest 2"
	[ ! -s "$DIR/state-changes" ] || fail "$what: a state left Connected: $(sort -u "$DIR/state-changes")"
	ip link show vif1.0 | grep -q ",UP" || fail "$what: vif1.0 is not up"
	ip -br addr show vif1.0 | grep -q 10.214.1.1 || fail "$what: vif1.0 lost its address"
}

W1=$(worker_of 1)
across "kill -9 of guest 1's worker" kill -9 "$W1"
[ -n "$(worker_of 1)" ] && [ "$(worker_of 1)" != "$W1" ] || fail "no new worker for guest 1"
grep -q "vif1.0: resumed from the rings" "$DIR/xnbd.log" || fail "vif1.0 not resumed"
ok "kill -9 of a worker mid-stream: iperf3 and SHA-256 transfer complete, states stay 4"

kill_start() { kill -9 "$XNBD"; wait "$XNBD" 2>/dev/null; start_xnbd; }
across "kill -9 of xnbd" kill_start
ok "kill -9 of xnbd, then a new start: streams complete, states stay 4, TAPs and addresses kept"

term_start() { kill -TERM "$XNBD"; wait "$XNBD"; RC=$?; [ "$RC" = 0 ] || fail "xnbd SIGTERM: exit $RC"
	start_xnbd; }
across "SIGTERM of xnbd, then a start" term_start
ok "xnbd restart (SIGTERM, start): streams complete, states stay 4"

# A new build taking over: other binaries, the same guests.
mkdir -p "$DIR/next/worker"
cp "$BUILD/src/backend/xnbd" "$DIR/next/xnbd"
cp "$BUILD/src/backend/worker/xnbd-worker" "$DIR/next/worker/xnbd-worker"
upgrade() { kill -TERM "$XNBD"; wait "$XNBD"; start_xnbd "$DIR/next/xnbd"; }
across "a new build taking over" upgrade
grep -q "workers $DIR/next/worker/xnbd-worker" "$DIR/xnbd.log" || fail "the new build's worker is not used"
ok "a new build of xnbd takes over: streams complete, states stay 4"
rm -f "$DIR/watching"; wait "$WATCHER"

# --- the worker's sandbox ----------------------------------------------------
W2=$(worker_of 2)
grep -E "^(Uid|CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):" "/proc/$W2/status" >"$DIR/w2.status"
awk '$1 == "Uid:" && $2 != 0 { u = 1 } END { exit !u }' "$DIR/w2.status" || fail "worker runs as root"
grep -q "^CapEff:.*0000000000000000" "$DIR/w2.status" && grep -q "^CapPrm:.*0000000000000000" \
	"$DIR/w2.status" && grep -q "^CapBnd:.*0000000000000000" "$DIR/w2.status" ||
	fail "worker has capabilities: $(cat "$DIR/w2.status")"
grep -q "^NoNewPrivs:.*1" "$DIR/w2.status" || fail "worker without no_new_privs"
ok "worker: unprivileged uid, no capabilities, no_new_privs"
if grep -q "no seccomp filter" "$DIR/xnbd.log"; then
	ok "# SKIP seccomp kill test: sanitizer build, the filter is off there"
elif ! command -v gdb >/dev/null; then
	ok "# SKIP seccomp kill test: no gdb"
else
	grep -q "^Seccomp:.*2" "$DIR/w2.status" || fail "worker without a seccomp filter"
	for call in 'open("/etc/hostname", 0)' 'socket(2, 1, 0)' 'getppid()'; do
		W2=$(worker_of 2)
		# gdb runs the call inside the worker, as an exploit would.
		timeout 30 gdb -p "$W2" -batch -ex "call (int)$call" >"$DIR/gdb.log" 2>&1
		wait_for 5 sh -c "! kill -0 $W2 2>/dev/null" || fail "worker survived $call"
		wait_for 5 grep -q "worker (pid $W2) killed by signal 31 (Bad system call)" \
			"$DIR/xnbd.log" || fail "no log line for the worker killed by $call"
		wait_for 5 sh -c "worker_of() { pgrep -P $XNBD -f \"xnbd-worker --domid \$1 \"; }; \
			[ -n \"\$(worker_of 2)\" ]" || fail "worker not restarted after $call"
		wait_for 5 ping -c 1 -W 1 10.214.2.2 || fail "guest 2 after the worker's $call"
	done
	ok "seccomp: open(), socket() and an unlisted call kill the worker; logged, restarted, guest 2 served"
fi

# --- a second vif for a guest that has a worker ------------------------------
W2=$(worker_of 2)
"$VIF" add 2 1
wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vif/2/1/state)\" = 2 ]" ||
	fail "vif2.1 not in InitWait"
[ -n "$(worker_of 2)" ] && [ "$(worker_of 2)" != "$W2" ] || fail "guest 2's worker not replaced"
[ "$(be_state 2)" = 4 ] || fail "vif2.0 left Connected when vif2.1 came"
wait_for 5 ping -c 1 -W 1 10.214.2.2 || fail "guest 2 after its second vif came"
"$VIF" remove 2 1
wait_for 5 sh -c "! ip link show vif2.1" || fail "vif2.1's TAP not removed"
ok "a second vif for a running guest: its worker replaced, vif2.0 stays Connected"

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

# --- the hotplug script: Connected only once it has answered ---------------
# Guest 12's netfront is ready (Connected) at once; the backend waits in
# InitWait until hotplug-status says connected, as Linux's netback does.
start_nf 12 "$G2" 1500 "--ifname eth12"
"$VIF" add --no-hotplug 12 0
wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/12/device/vif/0/state)\" = 4 ]" ||
	fail "netfront 12 not Connected"
sleep 1
[ "$(be_state 12)" = 2 ] || fail "vif12.0 left InitWait ($(be_state 12)) before its hotplug script answered"
"$VIF" hotplug 12 0 connected
wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vif/12/0/state)\" = 4 ]" ||
	fail "vif12.0 not Connected after hotplug-status connected"
kill -TERM "$NF12"; wait "$NF12"; NF12=
"$VIF" remove 12 0
ok "hotplug gating: a ready frontend waits in InitWait until hotplug-status is connected"

FE=/local/domain/13/device/vif/0
BE=/local/domain/0/backend/vif/13/0
"$VIF" add --no-hotplug 13 0
wait_for 5 sh -c "[ \"\$(xenstore-read $BE/state)\" = 2 ]" || fail "vif13.0 not in InitWait"
"$VIF" hotplug 13 0 error "bridge xenbr13 does not exist"
wait_for 5 sh -c "[ \"\$(xenstore-read $BE/state)\" = 6 ]" || fail "hotplug error did not close vif13.0"
xenstore-read /local/domain/0/error/backend/vif/13/0/error |
	grep -q "hotplug script failed: bridge xenbr13 does not exist" ||
	fail "no error node naming the hotplug failure"
xenstore-write "$FE/state" 1
sleep 0.5
[ "$(be_state 13)" = 6 ] || fail "vif13.0 back to $(be_state 13) after its hotplug script failed"
"$VIF" remove 13 0
wait_for 5 sh -c "! ip link show vif13.0" || fail "vif13.0's TAP not removed"
ok "hotplug-status error: the vif refused with the script's reason, and stays Closed"

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

# --- a stop for good ---------------------------------------------------------
"$BUILD/tools/xnbctl" shutdown --disconnect >/dev/null || fail "xnbctl shutdown --disconnect"
wait "$XNBD"; RC=$?
[ "$RC" = 0 ] || fail "xnbd exit status $RC after shutdown --disconnect"
[ "$(be_state 1)" = 6 ] && [ "$(be_state 2)" = 6 ] || fail "vifs not Closed by the shutdown"
wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/1/device/vif/0/state)\" = 6 ]" ||
	fail "guest 1's netfront not Closed"
! ip link show vif1.0 >/dev/null 2>&1 && ! ip link show vif2.0 >/dev/null 2>&1 ||
	fail "TAPs left behind by shutdown --disconnect"
[ "$(xenstore-read /local/domain/0/backend/vif/1/0/hotplug-status)" = "" ] ||
	fail "hotplug-status still says the removed TAP is bridged"
ok "xnbctl shutdown --disconnect: every vif Closed, TAPs removed (hotplug-status reset), exit 0"
start_xnbd
kill -TERM "$NF1" "$NF2"; wait "$NF1" "$NF2"
"$VIF" frontend 1 0 00:16:3e:00:00:01 9000
"$VIF" frontend 2 0
start_nf 1 "$G1" 9000
start_nf 2 "$G2" 1500 --single-evtchn
# New TAPs: nothing has bridged them, so the vifs wait for the hotplug step.
wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/1/device/vif/0/state)\" -ge 3 ]" ||
	fail "guest 1's new netfront did not come up"
sleep 1
[ "$(be_state 1)" = 2 ] || fail "vif1.0 did not wait for the hotplug step (state $(be_state 1))"
"$VIF" hotplug 1 0 connected
"$VIF" hotplug 2 0 connected
host_up 1 10.214.1.1
host_up 2 10.214.2.1
guest_up 1 "$G1" 10.214.1.2
guest_up 2 "$G2" 10.214.2.2
wait_for 5 ping -c 1 -W 1 10.214.1.2 || fail "guest 1 after a stop for good and a reboot"
wait_for 5 ping -c 1 -W 1 10.214.2.2 || fail "guest 2 after a stop for good and a reboot"
ok "after the stop for good, rebooted guests connect again"

# --- toolstack removal: nothing left --------------------------------------
kill -TERM "$NF1" "$NF2"; wait "$NF1" "$NF2"; NF1= NF2=
"$VIF" remove 1 0
"$VIF" remove 2 0
wait_for 5 sh -c "! ip link show vif1.0 && ! ip link show vif2.0" || fail "TAPs not removed"
wait_for 5 sh -c "[ \"\$(\"$BUILD/tools/xnbctl\" list)\" = '' ]" || fail "vifs still listed"
[ "$(fds "$XNBD")" -le "$XNBD_FDS0" ] || fail "xnbd fds: $(fds "$XNBD") now, $XNBD_FDS0 at start"
[ -z "$(pgrep -P "$XNBD")" ] || fail "workers left without vifs: $(pgrep -P "$XNBD" -a)"
ok "vifs removed: no TAP, no vif, no worker, no fd left in xnbd"

# --- a vif the toolstack removed while xnbd was down -----------------------
start_nf 3 "$G1"
"$VIF" add 3 0
wait_for 5 sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vif/3/0/state)\" = 4 ]" ||
	fail "vif3.0 did not connect"
kill -TERM "$XNBD"; wait "$XNBD"
ip link show vif3.0 >/dev/null 2>&1 || fail "vif3.0 did not outlive xnbd"
kill -9 "$NF3"; wait "$NF3" 2>/dev/null; NF3=
xenstore-rm /local/domain/0/backend/vif/3
xenstore-rm /local/domain/3/device/vif 2>/dev/null # gone already with guest 3 (a dead domain's nodes go)
start_xnbd
wait_for 5 sh -c "! ip link show vif3.0" || fail "stale vif3.0 not removed"
# (The TAP goes first, then the line is logged: wait for the line.)
wait_for 5 grep -q "vif3.0: no vif names it any more" "$DIR/xnbd.log" ||
	fail "no log line for the stale TAP"
ok "a vif removed while xnbd was down: its TAP is removed at the next start"

kill -TERM "$XNBD"; wait "$XNBD"; RC=$?; XNBD=
[ "$RC" = 0 ] || fail "xnbd exit status $RC (sanitizer report?)"
kill -TERM "$SIMD"; wait "$SIMD"; RC=$?; SIMD=
[ "$RC" = 0 ] || fail "xnb-simd exit status $RC"
ok "daemons exit cleanly"
echo "$STEP passed, 0 failed"
