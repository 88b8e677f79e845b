#!/bin/sh
# SPDX-License-Identifier: MIT
# bench-e2e.sh - xnb end to end against a plain veth pair, in the same run.
#
# Guest = a network namespace. Through xnb: xnb-netfront in the guest,
# xnbd and its vif TAP in the host namespace, over the simulated platform.
# Baseline: a veth pair between the host and a second namespace. Same
# iperf3 runs over both, one JSON line per measurement with the ratio.
#
# Multi-queue: TCP with 4 streams into guest A (as many queues as the
# netfront's default: one per CPU) and into guest C (domid 8, --queues 1),
# in the same run: one JSON line per direction with both and the ratio.
#
# Isolation, last: guest A (the netfront guest, domid 5) measured alone and
# then while guest B (tests/integration/hostile_front, domid 6, vif6.0)
# floods its state node, floods its event channel, or posts no RX buffers
# while the host sends it UDP; one JSON line per hostile mode and direction,
# with the ratio and the memory (VmRSS) of xnbd and of both workers.
#
# usage: bench-e2e.sh BUILD_DIR [SECONDS]
set -eu

BUILD=$1
SECS=${2:-3}
[ "$(id -u)" = 0 ] || { echo "bench-e2e: needs root" >&2; exit 1; }
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d /tmp/xnb-bench.XXXXXX)
export XNB_SIM_DIR="$DIR" XENSTORED_PATH="$DIR/xenstored"
G=xnbbg$$ V=xnbbv$$ C=xnbbc$$

cleanup() {
	set +e
	for p in ${HF:-} ${UDPF:-} ${NF:-} ${XNBD:-} ${SIMD:-}; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	pkill -f "iperf3 -s -1 -B 10.215" 2>/dev/null
	kill -TERM ${NF1Q:-} 2>/dev/null
	ip netns del "$G" 2>/dev/null; ip netns del "$V" 2>/dev/null; ip netns del "$C" 2>/dev/null
	ip link del xnbbveth0 2>/dev/null
	# Our vifs' TAPs are persistent (they outlive xnbd by design): remove
	# them, or the next run's address assignment on vif5.0 fails.
	for v in vif5.0 vif6.0 vif8.0; do ip link del "$v" 2>/dev/null; done
	rm -rf "$DIR"
}
trap cleanup EXIT

wait_for() { for _ in $(seq 1 50); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

# xnb path: 10.215.1.0/24
"$BUILD/src/sim/xnb-simd" --foreground --dir "$DIR" >"$DIR/simd.log" 2>&1 & SIMD=$!
wait_for test -S "$DIR/xenstored"
"$BUILD/src/backend/xnbd" >"$DIR/xnbd.log" 2>&1 & XNBD=$!
wait_for test -S "$DIR/xnbd.sock"
ip netns add "$G"
ip netns exec "$G" ip link set lo up
ip netns exec "$G" "$BUILD/src/frontend/xnb-netfront" --domid 5 >"$DIR/nf.log" 2>&1 & NF=$!
"$SRC/tools/xnb-sim-vif" add 5 0
wait_for ip link show vif5.0
wait_for ip netns exec "$G" ip link show eth0
ip addr add 10.215.1.1/24 dev vif5.0; ip link set vif5.0 up
ip netns exec "$G" ip addr add 10.215.1.2/24 dev eth0; ip netns exec "$G" ip link set eth0 up
wait_for ping -c 1 -W 1 10.215.1.2

# veth path: 10.215.2.0/24
ip netns add "$V"
ip netns exec "$V" ip link set lo up
ip link add xnbbveth0 type veth peer name eth0 netns "$V"
ip addr add 10.215.2.1/24 dev xnbbveth0; ip link set xnbbveth0 up
ip netns exec "$V" ip addr add 10.215.2.2/24 dev eth0; ip netns exec "$V" ip link set eth0 up
wait_for ping -c 1 -W 1 10.215.2.2

# iperf NS HOST_IP GUEST_IP DIRECTION EXTRA... -> JSON on stdout
run_iperf() {
	ns=$1 hip=$2 gip=$3 dir=$4; shift 4
	if [ "$dir" = guest_to_host ]; then
		iperf3 -s -1 -B "$hip" >/dev/null 2>&1 &
		sleep 0.3
		ip netns exec "$ns" timeout $((SECS + 15)) iperf3 -c "$hip" -t "$SECS" -J "$@"
	else
		ip netns exec "$ns" iperf3 -s -1 -B "$gip" >/dev/null 2>&1 &
		sleep 0.3
		timeout $((SECS + 15)) iperf3 -c "$gip" -t "$SECS" -J "$@"
	fi
}

for dir in guest_to_host host_to_guest; do
	run_iperf "$G" 10.215.1.1 10.215.1.2 $dir >"$DIR/xnb-tcp.json" || true
	run_iperf "$V" 10.215.2.1 10.215.2.2 $dir >"$DIR/veth-tcp.json" || true
	run_iperf "$G" 10.215.1.1 10.215.1.2 $dir -u -b 0 -l 18 >"$DIR/xnb-udp.json" || true
	run_iperf "$V" 10.215.2.1 10.215.2.2 $dir -u -b 0 -l 18 >"$DIR/veth-udp.json" || true
	python3 - "$dir" "$DIR" <<'PY'
import json, sys
d, base = sys.argv[1], sys.argv[2]
def load(name):
    try:
        return json.load(open(f"{base}/{name}.json"))["end"]
    except Exception:
        return None
def tcp(e):
    return e["sum_received"]["bits_per_second"] / 1e9 if e else 0.0
def udp(e):
    if not e:
        return 0.0
    s = e["sum"]
    return (s["packets"] - s["lost_packets"]) / s["seconds"] / 1e3
x, v = tcp(load("xnb-tcp")), tcp(load("veth-tcp"))
print(json.dumps({"bench": "e2e", "test": "tcp", "direction": d, "xnb_gbps": round(x, 3),
                  "veth_gbps": round(v, 3), "ratio": round(x / v, 3) if v else None}))
x, v = udp(load("xnb-udp")), udp(load("veth-udp"))
print(json.dumps({"bench": "e2e", "test": "udp_64B_frames", "direction": d,
                  "xnb_kpps": round(x, 1), "veth_kpps": round(v, 1),
                  "ratio": round(x / v, 3) if v else None}))
PY
done

xnb_rtt=$(ping -c 20 -i 0.05 -q 10.215.1.2 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
veth_rtt=$(ping -c 20 -i 0.05 -q 10.215.2.2 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
printf '{"bench":"e2e","test":"ping_rtt","xnb_ms":%s,"veth_ms":%s}\n' "$xnb_rtt" "$veth_rtt"
# The same round trip back to back (ping -f: the next as soon as the last
# returns), where every process on the path is still running or just ran:
# what a round trip costs without waking anyone from idle.
xnb_rtt=$(ping -f -c 2000 -q 10.215.1.2 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
veth_rtt=$(ping -f -c 2000 -q 10.215.2.2 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
printf '{"bench":"e2e","test":"ping_flood_rtt","xnb_ms":%s,"veth_ms":%s}\n' "$xnb_rtt" "$veth_rtt"
"$BUILD/tools/xnbctl" stats vif5.0 --json >"$DIR/stats.json"
python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['totals'][0]; print(json.dumps({'bench':'e2e','test':'counters','tx_dropped':s['tx_dropped'],'rx_dropped':s['rx_dropped'],'rx_stalls':s['rx_stalls'],'spurious_events':s['spurious_events']}))" "$DIR/stats.json"

gbps() { python3 -c 'import json,sys
try: print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9, 3))
except Exception: print(0.0)' "$1"; }

# --- multi-queue: 4 streams, several queues against one -------------------
ip netns add "$C"
ip netns exec "$C" ip link set lo up
ip netns exec "$C" "$BUILD/src/frontend/xnb-netfront" --domid 8 --queues 1 >"$DIR/nf8.log" 2>&1 &
NF1Q=$!
"$SRC/tools/xnb-sim-vif" add 8 0
wait_for ip link show vif8.0
wait_for ip netns exec "$C" ip link show eth0
ip addr add 10.215.4.1/24 dev vif8.0; ip link set vif8.0 up
ip netns exec "$C" ip addr add 10.215.4.2/24 dev eth0; ip netns exec "$C" ip link set eth0 up
wait_for ping -c 1 -W 1 10.215.4.2
NQ=$("$BUILD/tools/xnbctl" stats vif5.0 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["vifs"]))')
# How busy the machine's CPUs were over a run (0..1 of all of them; what
# runs at a positive nice, such as a background fuzzer, counts as idle): a
# gain from more queues needs idle CPU to spread onto.
cpu_snap() { head -n 1 /proc/stat; }
cpu_busy() { python3 -c 'import sys
a = [int(x) for x in sys.argv[1].split()[1:9]]
b = [int(x) for x in sys.argv[2].split()[1:9]]
d = [y - x for x, y in zip(a, b)]   # user nice system idle iowait irq softirq steal
tot = sum(d)
print(round((d[0] + d[2] + d[5] + d[6] + d[7]) / tot, 3) if tot else "null")' "$1" "$2"; }
for dir in guest_to_host host_to_guest; do
	c0=$(cpu_snap)
	run_iperf "$C" 10.215.4.1 10.215.4.2 $dir -P 4 >"$DIR/mq1.json" || true
	c1=$(cpu_snap)
	run_iperf "$G" 10.215.1.1 10.215.1.2 $dir -P 4 >"$DIR/mqn.json" || true
	c2=$(cpu_snap)
	printf '{"bench":"e2e","test":"tcp_multiqueue","direction":"%s","streams":4,"one_queue_gbps":%s,"queues":%s,"multi_queue_gbps":%s,"ratio":%s,"cpus":%s,"one_queue_cpu_busy":%s,"multi_queue_cpu_busy":%s}\n' \
		"$dir" "$(gbps "$DIR/mq1.json")" "$NQ" "$(gbps "$DIR/mqn.json")" \
		"$(python3 -c 'import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(round(b/a,3) if a else "null")' "$(gbps "$DIR/mq1.json")" "$(gbps "$DIR/mqn.json")")" \
		"$(nproc)" "$(cpu_busy "$c0" "$c1")" "$(cpu_busy "$c1" "$c2")"
done
"$BUILD/tools/xnbctl" stats vif5.0 --json | python3 -c 'import json,sys
q = json.load(sys.stdin)["vifs"]
print(json.dumps({"bench": "e2e", "test": "multiqueue_spread", "vif": "vif5.0",
                  "rx_packets_per_queue": [x["rx_packets"] for x in q],
                  "tx_packets_per_queue": [x["tx_packets"] for x in q]}))'
kill -TERM "$NF1Q" 2>/dev/null; wait "$NF1Q" 2>/dev/null; NF1Q=
"$SRC/tools/xnb-sim-vif" remove 8 0

# --- isolation: guest A while guest B is hostile ----------------------------
HOSTILE="$BUILD/tests/integration/hostile_front"
[ -x "$HOSTILE" ] || { echo "bench-e2e: no $HOSTILE: isolation skipped" >&2; exit 0; }
# B has no network stack: the host reaches "10.215.3.2" through a permanent
# neighbour entry with B's MAC, so frames sent to it land on vif6.0's TAP.
cat >"$DIR/udpflood.py" <<'PY'
import socket, sys, time
addr, mbps, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload, burst = b"x" * 1400, 32
gap = burst * len(payload) * 8 / (mbps * 1e6)
end = time.monotonic() + secs
nxt = time.monotonic()
while nxt < end:
    for _ in range(burst):
        try:
            s.sendto(payload, (addr, 9))
        except OSError:
            pass
    nxt += gap
    d = nxt - time.monotonic()
    if d > 0:
        time.sleep(d)
PY
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null || echo null; }
worker_pid() { pgrep -P "$XNBD" -f "xnbd-worker --domid $1( |\$)" | head -1; }
b_state() { xenstore-read /local/domain/0/backend/vif/6/0/state 2>/dev/null; }
WA=$(worker_pid 5)
HS=$((SECS + 2))
for mode in flood-state flood-evtchn no-rx; do
	for dir in host_to_guest guest_to_host; do
		"$SRC/tools/xnb-sim-vif" add 6 0
		wait_for ip link show vif6.0
		ip addr add 10.215.3.1/24 dev vif6.0; ip link set vif6.0 up
		ip neigh replace 10.215.3.2 lladdr 00:16:3e:00:00:06 dev vif6.0 nud permanent
		run_iperf "$G" 10.215.1.1 10.215.1.2 $dir >"$DIR/iso-alone.json" || true
		sup0=$(rss "$XNBD") wa0=$(rss "$WA")
		"$HOSTILE" --mode "$mode" --seconds "$HS" 6 >"$DIR/hostile.log" 2>&1 & HF=$!
		wait_for sh -c '[ "$(xenstore-read /local/domain/0/backend/vif/6/0/state)" = 4 ]'
		WB=$(worker_pid 6)
		wb0=$(rss "$WB")
		UDPF=
		if [ "$mode" = no-rx ]; then
			python3 "$DIR/udpflood.py" 10.215.3.2 500 "$HS" & UDPF=$!
		fi
		run_iperf "$G" 10.215.1.1 10.215.1.2 $dir >"$DIR/iso-during.json" || true
		sup1=$(rss "$XNBD") wa1=$(rss "$WA") wb1=$(rss "$WB") bst=$(b_state)
		"$BUILD/tools/xnbctl" stats vif6.0 --json >"$DIR/b-stats.json" 2>/dev/null || true
		hrc=0; wait "$HF" || hrc=$?; HF=
		[ -n "$UDPF" ] && { wait "$UDPF" || true; }; UDPF=
		"$SRC/tools/xnb-sim-vif" remove 6 0
		wait_for sh -c '! ip link show vif6.0'
		python3 - "$mode" "$dir" "$(gbps "$DIR/iso-alone.json")" "$(gbps "$DIR/iso-during.json")" \
			"$sup0" "$sup1" "$wa0" "$wa1" "$wb0" "$wb1" "$bst" "$hrc" "$DIR/b-stats.json" <<'PY'
import json, sys
mode, d, alone, during = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
num = lambda v: int(v) if v.isdigit() else None
sup0, sup1, wa0, wa1, wb0, wb1 = (num(v) for v in sys.argv[5:11])
try:
    s = json.load(open(sys.argv[13]))["totals"][0]
except Exception:
    s = {}
print(json.dumps({"bench": "e2e", "test": "isolation", "hostile": mode, "direction": d,
                  "alone_gbps": alone, "during_gbps": during,
                  "ratio": round(during / alone, 3) if alone else None,
                  "supervisor_rss_kb_before": sup0, "supervisor_rss_kb_after": sup1,
                  "worker_a_rss_kb_before": wa0, "worker_a_rss_kb_after": wa1,
                  "worker_b_rss_kb_start": wb0, "worker_b_rss_kb_end": wb1,
                  "b_backend_state": num(sys.argv[11]), "hostile_exit": num(sys.argv[12]),
                  "b_events": s.get("events"), "b_spurious_events": s.get("spurious_events"),
                  "b_rx_stalls": s.get("rx_stalls"), "b_rx_queue_drops": s.get("rx_queue_drops")}))
PY
	done
done
