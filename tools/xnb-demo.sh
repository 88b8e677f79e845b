#!/bin/sh
# SPDX-License-Identifier: MIT
# xnb-demo.sh - the whole system on the simulated platform, in under a minute:
# xnb-simd (the simulated Xen), xnbd (the backend) in the host namespace,
# a guest network namespace running xnb-netfront, the vif on a bridge like
# Xen's vif-bridge does it, then ping and iperf3 through the rings, a kill -9
# of the guest's worker and a restart of xnbd that the guest does not notice,
# the counters, and a clean teardown.
#
# usage: xnb-demo.sh BUILD_DIR
set -eu

BUILD=${1:-build}
if [ "$(id -u)" != 0 ]; then
	echo "xnb demo: needs root (network namespaces, TAP devices, a bridge): run 'sudo make demo'" >&2
	exit 1
fi
for tool in ip iperf3 ping; do
	command -v "$tool" >/dev/null || { echo "xnb demo: '$tool' is missing: run 'make deps'" >&2; exit 1; }
done

DIR=$(mktemp -d /tmp/xnb-demo.XXXXXX)
export XNB_SIM_DIR="$DIR"
GUEST=xnbdemo$$
BRIDGE=xnbbr$$
BRIDGE=$(echo "$BRIDGE" | cut -c1-15)
DOMID=7
HOST_IP=10.213.0.1
GUEST_IP=10.213.0.2
PIDS=""

step() { printf '\n== %s\n' "$*"; }

cleanup() {
	set +e
	step "tearing down"
	[ -n "${NF_PID:-}" ] && kill -TERM "$NF_PID" 2>/dev/null && wait "$NF_PID" 2>/dev/null
	# A stop for good: SIGTERM alone would leave the vif Connected for a next xnbd.
	[ -n "${XNBD_PID:-}" ] && "$BUILD/tools/xnbctl" shutdown --disconnect >/dev/null 2>&1 &&
		wait "$XNBD_PID" 2>/dev/null
	[ -n "${SIMD_PID:-}" ] && kill -TERM "$SIMD_PID" 2>/dev/null && wait "$SIMD_PID" 2>/dev/null
	ip netns del "$GUEST" 2>/dev/null
	ip link del "$BRIDGE" 2>/dev/null
	ip link show "vif$DOMID.0" >/dev/null 2>&1 && echo "   (vif$DOMID.0 still present!)"
	echo "   guest namespace, bridge, daemons and vif$DOMID.0: gone"
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

wait_for() { # seconds, command...
	t=$1; shift
	for _ in $(seq 1 $((t * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "xnb demo: timed out waiting for: $*" >&2
	for f in "$DIR"/*.log; do echo "--- $f"; tail -20 "$f"; done >&2
	return 1
}

step "starting the simulated Xen (xnb-simd) in $DIR"
"$BUILD/src/sim/xnb-simd" --foreground --dir "$DIR" >"$DIR/simd.log" 2>&1 &
SIMD_PID=$!
wait_for 5 test -S "$DIR/xenstored"

step "starting the backend daemon (xnbd) as dom0"
"$BUILD/src/backend/xnbd" >"$DIR/xnbd.log" 2>&1 &
XNBD_PID=$!
wait_for 5 test -S "$DIR/xnbd.sock"

step "creating guest domain $DOMID: a network namespace running xnb-netfront"
ip netns add "$GUEST"
ip netns exec "$GUEST" ip link set lo up
# --no-reconnect: once Closed it stays Closed, as Linux's netfront does.
ip netns exec "$GUEST" "$BUILD/src/frontend/xnb-netfront" --domid $DOMID --ifname eth0 --no-reconnect \
	>"$DIR/netfront.log" 2>&1 &
NF_PID=$!
wait_for 5 ip netns exec "$GUEST" ip link show eth0

step "the toolstack adds vif $DOMID.0 (what libxl writes for vif = [ 'bridge=$BRIDGE' ])"
# --no-hotplug: this script plays vif-bridge itself, below.
"$(dirname "$0")/xnb-sim-vif" add --no-hotplug $DOMID 0
wait_for 5 ip link show "vif$DOMID.0"
echo "   backend created vif$DOMID.0; the hotplug step puts it on bridge $BRIDGE:"
ip link add "$BRIDGE" type bridge
ip addr add "$HOST_IP/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
ip link set "vif$DOMID.0" master "$BRIDGE" up
echo "   then says so (hotplug-status connected): until then the backend stays in InitWait"
"$(dirname "$0")/xnb-sim-vif" hotplug $DOMID 0 connected
ip netns exec "$GUEST" ip addr add "$GUEST_IP/24" dev eth0
ip netns exec "$GUEST" ip link set eth0 up
wait_for 5 sh -c "XENSTORED_PATH='$DIR/xenstored' xenstore-read /local/domain/0/backend/vif/$DOMID/0/state | grep -qx 4"
echo "   handshake done: backend state 4 (Connected), frontend state" \
	"$(XENSTORED_PATH="$DIR/xenstored" xenstore-read /local/domain/$DOMID/device/vif/0/state)"
sed 's/^/   /' "$DIR/xnbd.log"

step "ping, host -> guest and guest -> host"
wait_for 5 ping -c 1 -W 1 "$GUEST_IP"
ping -c 3 -i 0.2 "$GUEST_IP" | tail -2 | sed 's/^/   /'
ip netns exec "$GUEST" ping -c 3 -i 0.2 "$HOST_IP" | tail -2 | sed 's/^/   /'

step "iperf3 TCP, guest -> host (3 s)"
iperf3 -s -1 -B "$HOST_IP" >/dev/null 2>&1 &
sleep 0.3
ip netns exec "$GUEST" iperf3 -c "$HOST_IP" -t 3 -f g | grep -E 'sender|receiver' | sed 's/^/   /'

step "iperf3 TCP, host -> guest (3 s)"
ip netns exec "$GUEST" iperf3 -s -1 -B "$GUEST_IP" >/dev/null 2>&1 &
sleep 0.3
iperf3 -c "$GUEST_IP" -t 3 -f g | grep -E 'sender|receiver' | sed 's/^/   /'

step "kill -9 of the guest's worker: xnbd starts another, which resumes the rings"
WORKER=$(pgrep -P "$XNBD_PID" -f "xnbd-worker --domid $DOMID ")
kill -9 "$WORKER"
wait_for 5 ping -c 1 -W 1 "$GUEST_IP"
ping -c 3 -i 0.2 "$GUEST_IP" | tail -2 | sed 's/^/   /'
grep -E "pid $WORKER\)|resumed" "$DIR/xnbd.log" | tail -2 | sed 's/^/   /'

step "xnbd restarted (SIGTERM, then a new xnbd): the guest stays Connected"
kill -TERM "$XNBD_PID"; wait "$XNBD_PID"
"$BUILD/src/backend/xnbd" >>"$DIR/xnbd.log" 2>&1 &
XNBD_PID=$!
wait_for 5 ping -c 1 -W 1 "$GUEST_IP"
ip netns exec "$GUEST" ping -c 3 -i 0.2 "$HOST_IP" | tail -2 | sed 's/^/   /'
echo "   frontend state throughout: $(XENSTORED_PATH="$DIR/xenstored" \
	xenstore-read /local/domain/$DOMID/device/vif/0/state) (4: Connected)"

step "xnbctl stats / dump-rings"
"$BUILD/tools/xnbctl" stats | sed 's/^/   /'
"$BUILD/tools/xnbctl" dump-rings | sed 's/^/   /'

step "the toolstack removes the vif (online=0, like xl network-detach)"
"$(dirname "$0")/xnb-sim-vif" remove $DOMID 0
wait_for 5 sh -c "! ip link show vif$DOMID.0"
tail -3 "$DIR/xnbd.log" | sed 's/^/   /'
