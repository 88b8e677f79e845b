# SPDX-License-Identifier: MIT
# Lab benchmark (one boot, dom0 without xen-netback at start): the same guest
# measured through xnbd and through the kernel's xen-netback, alternating
# BENCH_ROUNDS times (xnbd, netback, xnbd, netback, ...) so that drift in the
# emulated machine's speed falls on both alike. Each round: iperf3 TCP both
# ways, a 64-byte UDP flood (-u -b 0 -l 18) both ways, TCP with 4 streams
# both ways (tcp4), then the same 4 streams into a 2-vcpu guest, whose
# netfront uses two queues (tcp4mq), and into a 2-vcpu guest whose netfront
# is held to one queue (tcp4mq1: xen_netfront's max_queues=1), so that
# queues are compared at the same vcpus too; the JSON results
# land in out/bench-<backend>-<test>-<direction>-<round>.json and the host
# (bench.sh) turns them into comparison lines.
# lab: netback=0
. /mnt/host/lib.sh
export XNBD_LOG=$OUT/xnbd.log
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
# BENCH_TESTS: the tests to run (default all five), e.g. "tcp4 tcp4mq tcp4mq1"
# for more rounds of the multi-queue comparison in the same time. A guest
# none of whose tests is asked for is not started.
TESTS=${BENCH_TESTS:-tcp udp64 tcp4 tcp4mq tcp4mq1}
GUEST_ARGS="extra='console=hvc0 xnblab.ip=10.199.0.2/24 xnblab.peer=10.199.0.1'"

# wanted TEST...: true if any of the TESTs is to run
wanted() {
	local t
	for t in "$@"; do case " $TESTS " in *" $t "*) return 0 ;; esac; done
	return 1
}

# measure NAME BACKEND ROUND: each guest whose tests are asked for, its runs, destroyed again
measure() {
	local name=$1 be=$2 r=$3 d
	if wanted tcp udp64 tcp4; then
		d=$(guest_create "$name" "$GUEST_ARGS") || bail "$be: xl create"
		wait_console "$name" XNBLAB-DOMU-READY 240 || bail "$be: guest ready"
		ping -c 3 -W 3 10.199.0.2 > /dev/null
		check "$be round $r: ping dom0 -> domU" ping -c 3 -W 3 10.199.0.2
		run_tests "$be" "$r" "tcp dom0_to_domU" "tcp domU_to_dom0 -R" \
			"udp64 dom0_to_domU -u -b 0 -l 18" "udp64 domU_to_dom0 -R -u -b 0 -l 18" \
			"tcp4 dom0_to_domU -P 4" "tcp4 domU_to_dom0 -R -P 4"
		check "$be round $r: xl destroy" xl destroy "$name"
		check "$be round $r: vif$d.0 removed" wait_until 30 link_gone "vif$d.0"
	fi
	# Both backends offer a queue per dom0 CPU: two, unless dom0 has one.
	wanted tcp4mq && measure_2vcpu "${name}mq" "$be" "$r" tcp4mq "$(( $(nproc) >= 2 ? 2 : 1 ))" \
		"$GUEST_ARGS"
	wanted tcp4mq1 && measure_2vcpu "${name}q1" "$be" "$r" tcp4mq1 1 \
		"extra='console=hvc0 xnblab.ip=10.199.0.2/24 xnblab.peer=10.199.0.1 xnblab.queues=1'"
	return 0
}

# measure_2vcpu NAME BACKEND ROUND TEST QUEUES XL-EXTRA: 4 streams both ways
# into a 2-vcpu guest, whose netfront must have taken QUEUES queues
measure_2vcpu() {
	local name=$1 be=$2 r=$3 test=$4 want=$5 args=$6 d q
	d=$(guest_create "$name" "vcpus=2" "$args") || bail "$be: xl create (2 vcpus, $test)"
	wait_console "$name" XNBLAB-DOMU-READY 240 || bail "$be: 2-vcpu guest ready ($test)"
	ping -c 3 -W 3 10.199.0.2 > /dev/null
	q=$(xenstore-read "/local/domain/$d/device/vif/0/multi-queue-num-queues" 2>/dev/null || echo 1)
	check "$be round $r: $test: the 2-vcpu guest's netfront took $q queues, $want wanted" \
		test "$q" = "$want"
	run_tests "$be" "$r" "$test dom0_to_domU -P 4" "$test domU_to_dom0 -R -P 4"
	check "$be round $r: xl destroy (2 vcpus, $test)" xl destroy "$name"
	check "$be round $r: vif$d.0 removed" wait_until 30 link_gone "vif$d.0"
}

# run_tests BACKEND ROUND "TEST DIRECTION IPERF3-ARGS..."...
run_tests() {
	local be=$1 r=$2 t; shift 2
	for t in "$@"; do
		set -- $t
		local test=$1 dir=$2; shift 2
		case " $TESTS " in *" $test "*) ;; *) continue ;; esac
		if timeout $((SECS + 60)) iperf3 -c 10.199.0.2 -t "$SECS" -J "$@" \
			> "$OUT/bench-$be-$test-$dir-$r.json" 2>&1
		then ok "$be round $r: $test $dir"
		else not_ok "$be round $r: $test $dir"; fi
		sleep 1
	done
}

lsmod | grep -q '^xen_netback' && bail "dom0 booted without xen-netback"
# xnbd runs <its dir>/worker/xnbd-worker; it makes /run/xnb itself.
cp /mnt/host/xnbd /tmp/
mkdir -p /tmp/worker && cp /mnt/host/xnbd-worker /tmp/worker/
for r in $(seq 1 "$ROUNDS"); do
	/tmp/xnbd --platform xen >> "$XNBD_LOG" 2>&1 &
	XNBD=$!
	export XNBD_PID=$XNBD
	sleep 1
	kill -0 $XNBD 2>/dev/null || bail "xnbd starts"
	measure "bx$r" xnb "$r"
	kill -TERM $XNBD
	check "xnbd stopped" wait_until 15 eval '! kill -0 $XNBD 2>/dev/null'
	unset XNBD_PID

	check "xen-netback loads" modprobe xen-netback
	measure "bk$r" kernel "$r"
	check "xen-netback unloads" wait_until 30 modprobe -r xen-netback
done
finish
