# SPDX-License-Identifier: MIT
# Interop (a): xnbd serving Linux's xen-netfront. dom0 boots without the
# kernel's xen-netback (run.sh --netback=0); xnbd (from the 9p share, its
# worker in worker/ beside it) serves an ordinary `vif = [ 'bridge=xenbr0' ]`
# guest through the unchanged vif-bridge hotplug script. Steps: connect, ping
# and TCP both ways; restarts that Linux's netfront must not notice (it never
# reconnects once Closed): kill -9 of the guest's worker, kill -9 of xnbd under
# an iperf3 stream, SIGTERM and start again; jumbo MTU, xl reboot, xl destroy
# under load, a new guest afterwards (IPv6 both ways, the rate limit applied
# live), a 2-vcpu guest on two queues, a guest cycling its own vif state
# while another guest's ping is answered, xnbd's exit on SIGTERM.
# lab: netback=0
. /mnt/host/lib.sh
export XNBD_LOG=$OUT/xnbd.log
IPERF_T=${IPERF_T:-5}
GUEST_ARGS="extra='console=hvc0 xnblab.ip=10.199.0.2/24 xnblab.peer=10.199.0.1'"

# serve_check NAME DOMID: the vif of a new guest is served end to end
serve_check() {
	local name=$1 d=$2
	check "$name: vif$d.0 is a port of xenbr0 (vif-bridge ran)" wait_until 20 in_bridge "vif$d.0" xenbr0
	check "$name: backend reaches Connected (4)" wait_until 120 xs_is "/local/domain/0/backend/vif/$d/0/state" 4
	check "$name: Linux netfront reaches Connected (4)" wait_until 60 xs_is "/local/domain/$d/device/vif/0/state" 4
	if ! wait_console "$name" XNBLAB-DOMU-READY 180; then bail "$name: guest booted (console READY)"; fi
	ok "$name: guest booted, eth0 up"
}

# start_xnbd: as contrib/xnbd.service does (its ExecStartPre lines, then
# `xnbd --platform xen`; xnbd makes /run/xnb itself). Every start appends to
# the one log, after a marker line.
XNBD_STARTS=0
start_xnbd() {
	modprobe -r xen-netback 2>/dev/null
	modprobe -a tun xen-gntdev xen-evtchn || return 1
	XNBD_STARTS=$((XNBD_STARTS + 1))
	echo "=== job: xnbd start $XNBD_STARTS at $(now)s" >> "$XNBD_LOG"
	/tmp/xnbd --platform xen ${XNBD_ARGS:-} >> "$XNBD_LOG" 2>&1 &
	XNBD=$!
	export XNBD_PID=$XNBD
	sleep 1
	kill -0 $XNBD 2>/dev/null || { tail -n 20 "$XNBD_LOG"; return 1; }
}
# counter VIF NAME: a counter summed over the vif's queues (xnbctl stats --json totals)
counter() {
	/tmp/xnbctl stats "$1" --json 2>/dev/null | tr -d "\n" | sed 's/.*"totals"//' |
		grep -o "\"$2\":[0-9]*" | head -n 1 | cut -d: -f2
}
# queue_counters VIF NAME: the counter of each queue, space-separated
queue_counters() {
	/tmp/xnbctl stats "$1" --json 2>/dev/null | tr -d "\n" | sed 's/"totals".*//' |
		grep -o "\"$2\":[0-9]*" | cut -d: -f2 | tr '\n' ' '
}
# worker_of DOMID: the pid of the guest's worker process
worker_of() { pgrep -f "xnbd-worker --domid $1( |\$)"; }
# resumed DOMID: how many times the log says a worker resumed vif<DOMID>.0
resumed() { grep -c "vif$1\.0: resumed from the rings' shared indices" "$XNBD_LOG"; }
# no_sigsys: no worker died of SIGSYS (the supervisor's log line; the
# kernel's audit record of a seccomp kill, type 1326)
no_sigsys() {
	! grep "seccomp filter refused" "$XNBD_LOG" && ! dmesg | grep "audit: type=1326"
}
# still_served NAME DOMID WHAT: the vif carries traffic again after WHAT and
# neither end left Connected (Linux's netfront would never come back)
still_served() {
	local name=$1 d=$2 what=$3
	check "$what: ping dom0 -> domU resumes" wait_until 20 ping -c 1 -W 1 10.199.0.2
	check "$what: backend and frontend still Connected (4)" eval \
		'xs_is /local/domain/0/backend/vif/$d/0/state 4 && xs_is /local/domain/$d/device/vif/0/state 4'
	check "$what: vif$d.0 still a port of xenbr0" in_bridge "vif$d.0" xenbr0
}

lsmod | grep -q '^xen_netback' && bail "dom0 booted without xen-netback (boot with --netback=0)"
ok "xen-netback is not loaded"
# The supervisor runs <its dir>/worker/xnbd-worker (as in the build tree).
cp /mnt/host/xnbd /mnt/host/xnbctl /tmp/
mkdir -p /tmp/worker && cp /mnt/host/xnbd-worker /tmp/worker/
if ! start_xnbd; then bail "xnbd --platform xen starts"; fi
ok "xnbd --platform xen is running (pid $XNBD)"
check "xnbd made its runtime dir and control socket (/run/xnb/xnbd.sock)" wait_until 10 test -S /run/xnb/xnbd.sock
iperf3 -s -D --logfile /tmp/iperf3-server.log

# ---- a guest with Linux's netfront
t0=$(now)
if D=$(guest_create g1 "$GUEST_ARGS"); then ok "xl create with vif=['bridge=xenbr0'] (domid $D, $(since $t0)s)"
else bail "xl create with vif=['bridge=xenbr0']"; fi
serve_check g1 "$D"
grep "vif$D.0" "$XNBD_LOG" | tail -n 2 | sed 's/^/# /'
check "guest's first ping to dom0 (at boot)" eval 'grep -q "XNBLAB-DOMU-BOOTPING rc=0" "$(guest_log g1)"'
check "ping dom0 -> domU" ping -c 5 -W 3 10.199.0.2
check "ping domU -> dom0" gexec g1 60 "ping -c 5 -W 3 10.199.0.1"
tcp_step "iperf3 TCP dom0 -> domU" $OUT/a-tcp-to-domU.json -c 10.199.0.2 -t $IPERF_T
tcp_step "iperf3 TCP domU -> dom0 (-R)" $OUT/a-tcp-from-domU.json -c 10.199.0.2 -t $IPERF_T -R
check "iperf3 TCP, domU as the client" gexec g1 60 "iperf3 -c 10.199.0.1 -t 3 | tail -n 3"

# ---- restarts: Linux's netfront never reconnects once Closed, so each must be seamless
CONSOLE_OFF=$(stat -c %s "$(guest_log g1)")
# A worker killed outright: the supervisor starts another, which resumes the vif.
W=$(worker_of "$D")
check "g1's worker is running (pid ${W:-none})" test -n "$W"
r=$(resumed "$D")
kill -9 $W
new_worker() { local w; w=$(worker_of "$D") && [ -n "$w" ] && [ "$w" != "$W" ]; }
t0=$(now)
check "kill -9 of g1's worker: a new worker runs" wait_until 15 new_worker
note "new worker pid $(worker_of "$D") after $(since $t0)s"
check "kill -9 of g1's worker: the new worker resumed vif$D.0 from the rings" \
	wait_until 10 eval '[ "$(resumed $D)" -gt $r ]'
still_served g1 "$D" "worker kill -9"

# The supervisor killed outright under a TCP stream (its workers die with it:
# PR_SET_PDEATHSIG), then started again: the stream must survive.
iperf3 -J -c 10.199.0.2 -t 12 > $OUT/a-tcp-across-restart.json 2>&1 &
IPC=$!
sleep 3
r=$(resumed "$D")
kill -0 $IPC 2>/dev/null && note "iperf3 running when xnbd is killed"
kill -9 $XNBD; wait $XNBD 2>/dev/null
check "kill -9 of xnbd: g1's worker ends with it" wait_until 10 eval '[ -z "$(worker_of $D)" ]'
t0=$(now)
if start_xnbd; then ok "xnbd started again after kill -9 (pid $XNBD)"; else bail "xnbd starts again after kill -9"; fi
check "after kill -9 of xnbd: a worker resumed vif$D.0 from the rings" \
	wait_until 15 eval '[ "$(resumed $D)" -gt $r ]'
note "resumed $(since $t0)s after the new start"
wait_until 60 eval '! kill -0 $IPC 2>/dev/null' || { note "iperf3 still running after 60 s: killed"; kill $IPC; }
wait $IPC; rc=$?
if [ $rc = 0 ]; then
	ok "iperf3 TCP stream across kill -9 of xnbd and a new xnbd: exit 0, $(iperf_mbps $OUT/a-tcp-across-restart.json) Mbit/s"
else
	tail -n 20 $OUT/a-tcp-across-restart.json; not_ok "iperf3 TCP stream across kill -9 of xnbd and a new xnbd: exit 0 (was $rc)"
fi
still_served g1 "$D" "xnbd kill -9 and start"

# A restart as `systemctl restart xnbd` does it: SIGTERM (workers detach, guests
# stay Connected, the TAPs stay), then a new xnbd.
r=$(resumed "$D")
kill -TERM $XNBD
check "SIGTERM: xnbd exits" wait_until 15 eval '! kill -0 $XNBD 2>/dev/null'
wait $XNBD; rc=$?
check "SIGTERM: xnbd exit status 0 (was $rc)" test $rc = 0
check "SIGTERM: no worker left" eval '[ -z "$(worker_of $D)" ]'
check "SIGTERM: vif$D.0 stays, both ends stay Connected (4)" eval \
	'link_exists vif$D.0 && xs_is /local/domain/0/backend/vif/$D/0/state 4 && xs_is /local/domain/$D/device/vif/0/state 4'
if start_xnbd; then ok "xnbd started again after SIGTERM (pid $XNBD)"; else bail "xnbd starts again after SIGTERM"; fi
check "after SIGTERM and start: a worker resumed vif$D.0 from the rings" \
	wait_until 15 eval '[ "$(resumed $D)" -gt $r ]'
still_served g1 "$D" "xnbd SIGTERM and start"
check "ping domU -> dom0 after the restarts" gexec g1 60 "ping -c 3 -W 3 10.199.0.1"
ALARM='BUG|Oops|WARNING|Call Trace|netfront|xenbus|vif vif-'
check "g1's console printed nothing alarming during the restarts" eval \
	'! tail -c +$((CONSOLE_OFF + 1)) "$(guest_log g1)" | tr -d "\r" | grep -E "$ALARM"'
check "no worker was killed by its seccomp filter (xnbd log, audit)" no_sigsys

# ---- jumbo frames: MTU 9000 on the vif, the bridge and the guest
ip link set "vif$D.0" mtu 9000 && ip link set xenbr0 mtu 9000
check "MTU 9000 on vif$D.0 and xenbr0" eval '[ "$(cat /sys/class/net/vif$D.0/mtu)" = 9000 ] && [ "$(cat /sys/class/net/xenbr0/mtu)" = 9000 ]'
check "MTU 9000 on the guest's eth0 (netfront with feature-sg)" gexec g1 30 "ip link set eth0 mtu 9000 && ip link show eth0 | grep 'mtu 9000'"
check "ping dom0 -> domU, 9000-byte packets, DF set" ping -M do -s 8972 -c 3 -W 3 10.199.0.2
FRAGPING=$(cat <<'G'
a=$(grep '^Ip: [0-9]' /proc/net/snmp | awk '{print $NF}'); ping -c 3 -W 3 -s 8972 10.199.0.1; r=$?; b=$(grep '^Ip: [0-9]' /proc/net/snmp | awk '{print $NF}'); echo "FragCreates $a -> $b"; [ $r = 0 ] && [ "$a" = "$b" ]
G
)
check "ping domU -> dom0, 9000-byte packets, unfragmented" gexec g1 60 "$FRAGPING"
tcp_step "iperf3 TCP dom0 -> domU at MTU 9000" $OUT/a-jumbo-to-domU.json -c 10.199.0.2 -t 3
tcp_step "iperf3 TCP domU -> dom0 at MTU 9000" $OUT/a-jumbo-from-domU.json -c 10.199.0.2 -t 3 -R
gexec g1 30 "ip link set eth0 mtu 1500" > /dev/null
ip link set xenbr0 mtu 1500; ip link set "vif$D.0" mtu 1500

# ---- xl reboot: a new domain, a new vif, served again
boots=$(console_count g1 XNBLAB-DOMU-READY)
OLD=$D
t0=$(now)
check "xl reboot g1" xl reboot g1
new_domid() { D=$(xl domid g1 2>/dev/null) && [ "$D" != "$OLD" ]; }
if wait_until 120 new_domid; then ok "g1 came back as domid $D ($(since $t0)s)"
else bail "g1 came back after xl reboot"; fi
check "old vif$OLD.0 removed" wait_until 30 link_gone "vif$OLD.0"
check "old backend dir removed" wait_until 30 eval '! xenstore-read /local/domain/0/backend/vif/$OLD/0/state >/dev/null 2>&1'
check "g1 rebooted: vif$D.0 is a port of xenbr0" wait_until 30 in_bridge "vif$D.0" xenbr0
check "g1 rebooted: backend Connected" wait_until 120 xs_is "/local/domain/0/backend/vif/$D/0/state" 4
check "g1 rebooted: guest booted again" wait_console g1 XNBLAB-DOMU-READY 180 $((boots + 1))
check "g1 rebooted: ping dom0 -> domU" ping -c 5 -W 3 10.199.0.2
check "g1 rebooted: ping domU -> dom0" gexec g1 60 "ping -c 3 -W 3 10.199.0.1"

# ---- xl destroy in the middle of a transfer
iperf3 -c 10.199.0.2 -t 60 > /tmp/iperf-interrupted.log 2>&1 &
IPC=$!
sleep 4
kill -0 $IPC 2>/dev/null && note "transfer running when the guest is destroyed"
t0=$(now)
check "xl destroy g1 during iperf3" xl destroy g1
note "xl destroy took $(since $t0)s"
check "vif$D.0 removed after destroy" wait_until 30 link_gone "vif$D.0"
check "backend dir removed after destroy" wait_until 30 eval '! xenstore-read /local/domain/0/backend/vif/$D/0/state >/dev/null 2>&1'
kill $IPC 2>/dev/null; wait $IPC 2>/dev/null
check "xnbd still running" kill -0 $XNBD

# ---- and a new guest is served
t0=$(now)
if D=$(guest_create g2 "$GUEST_ARGS"); then ok "xl create g2 after the destroy (domid $D, $(since $t0)s)"
else bail "xl create g2 after the destroy"; fi
serve_check g2 "$D"
check "g2: ping dom0 -> domU" ping -c 5 -W 3 10.199.0.2
check "g2: ping domU -> dom0" gexec g2 60 "ping -c 3 -W 3 10.199.0.1"
tcp_step "g2: iperf3 TCP dom0 -> domU" $OUT/a-g2-tcp.json -c 10.199.0.2 -t 3

# ---- IPv6 through Linux's netfront: ping6, TCP with tcpv6 GSO both ways
ip -6 addr add fd00:199::1/64 dev xenbr0 nodad 2>/dev/null
check "g2: an IPv6 address on eth0" gexec g2 30 \
	"ip addr add fd00:199::2/64 dev eth0; ip addr show dev eth0 | grep -q fd00:199::2"
check "g2: ping6 dom0 -> domU" wait_until 20 ping -6 -c 1 -W 2 fd00:199::2
check "g2: ping6 domU -> dom0" gexec g2 60 "ping -6 -c 3 -W 3 fd00:199::1 || ping6 -c 3 -W 3 fd00:199::1"
gso0=$(counter "vif$D.0" tx_gso) rgso0=$(counter "vif$D.0" rx_gso)
tcp_step "g2: iperf3 TCP over IPv6 dom0 -> domU" $OUT/a-g2-tcp6.json -6 -c fd00:199::2 -t 3
tcp_step "g2: iperf3 TCP over IPv6 domU -> dom0 (-R)" $OUT/a-g2-tcp6-r.json -6 -c fd00:199::2 -t 3 -R
check "g2: GSO packets on both rings over IPv6 (tx_gso $gso0 -> $(counter vif$D.0 tx_gso), rx_gso $rgso0 -> $(counter vif$D.0 rx_gso))" \
	eval '[ "$(counter vif$D.0 tx_gso)" -gt "$gso0" ] && [ "$(counter vif$D.0 rx_gso)" -gt "$rgso0" ]'

# ---- the rate limit, as libxl writes vif = [ 'rate=10Mb/s' ], applied live
xenstore-write "/local/domain/0/backend/vif/$D/0/rate" 62500,50000
check "g2: rate 62500,50000 applied (xnbctl show)" wait_until 10 eval \
	'/tmp/xnbctl show vif$D.0 | grep -q "62500,50000"'
# 10 s after a 2 s warm-up (-O 2): TCP's slow start is not the limiter's doing.
if timeout 60 iperf3 -J -c 10.199.0.2 -t 10 -O 2 -R > $OUT/a-g2-rate.json 2>&1; then
	m=$(awk '/"sum_received"/ { f = 1 } f && /"bits_per_second"/ { gsub(/[ ,]/, ""); split($0, a, ":"); printf "%.2f", a[2] / 1e6; exit }' $OUT/a-g2-rate.json)
	check "g2: guest TX under rate=10Mb/s: $m Mbit/s (within 10%)" \
		awk -v m="$m" 'BEGIN { exit !(m >= 9 && m <= 11) }'
else not_ok "g2: iperf3 under the rate limit"; fi
xenstore-rm "/local/domain/0/backend/vif/$D/0/rate"
check "g2: rate lifted (xnbctl show: unlimited)" wait_until 10 eval \
	'/tmp/xnbctl show vif$D.0 | grep -q "rate.*unlimited"'
tcp_step "g2: iperf3 TCP domU -> dom0 after the limit is lifted" $OUT/a-g2-unlimited.json -c 10.199.0.2 -t 3 -R

# ---- a guest cycling its own vif's state (its own XenStore writes, as a
# hostile guest may) while g2's ping is answered. Its initramfs gets
# xenstore-write/-read and their libraries (from this dom0).
T=$(mktemp -d)
mkdir -p "$T/xnb" "$T/lib/x86_64-linux-gnu"
cp -L /usr/bin/xenstore-write /usr/bin/xenstore-read "$T/xnb/"
for lib in $(ldd /usr/bin/xenstore-write | awk '$2 == "=>" && $1 !~ /^libc\./ { print $3 }'); do
	cp -L "$lib" "$T/lib/x86_64-linux-gnu/"
done
INITRD=/tmp/initrd-xenstore.cpio
{ zcat /etc/xnblab/initrd-domU.gz; (cd "$T" && find . | busybox cpio -o -H newc 2>/dev/null); } > $INITRD
rm -rf "$T"
G2=$D
W2=$(worker_of "$G2")
t0=$(now)
if D3=$(guest_create g3 "ramdisk='$INITRD'" \
	"extra='console=hvc0 xnblab.ip=10.199.0.3/24 xnblab.peer=10.199.0.1'"); then
	ok "xl create g3, a guest with xenstore-write (domid $D3, $(since $t0)s)"
else bail "xl create g3"; fi
serve_check g3 "$D3"
check "g3 reads its own vif state with xenstore-read" gexec g3 30 "xenstore-read device/vif/0/state"
STORM='n=0; e=$(( $(cut -d. -f1 /proc/uptime) + 12 )); while [ $(cut -d. -f1 /proc/uptime) -lt $e ]; do for s in 5 6 1 3 4 2; do xenstore-write device/vif/0/state $s; done; n=$((n + 1)); done; echo "state cycles: $n"'
ping -c 30 -i 0.5 -W 2 10.199.0.2 > $OUT/a-ping-during-storm.txt 2>&1 &
PING=$!
check "g3 cycles device/vif/0/state through 5 6 1 3 4 2 for 12 s" gexec g3 60 "$STORM"
wait $PING
tail -n 2 $OUT/a-ping-during-storm.txt | sed 's/^/# /'
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' $OUT/a-ping-during-storm.txt)
check "g2's ping answered throughout g3's storm (${got:-0} of 30, at least 28)" test "${got:-0}" -ge 28
check "g2's worker untouched by g3's storm (pid $W2)" eval '[ "$(worker_of $G2)" = "$W2" ]'
check "xnbd still running after g3's storm" kill -0 $XNBD
check "xl destroy g3" xl destroy g3
check "g3's vif$D3.0 removed" wait_until 30 link_gone "vif$D3.0"
check "g3's backend dir removed" wait_until 30 eval '! xenstore-read /local/domain/0/backend/vif/$D3/0/state >/dev/null 2>&1'
check "g2: ping dom0 -> domU after g3 is gone" ping -c 3 -W 3 10.199.0.2
[ -x /tmp/xnbctl ] && { note "xnbctl stats:"; timeout 5 /tmp/xnbctl stats 2>&1 | sed 's/^/#   /'; }

# ---- a 2-vcpu guest: Linux's netfront asks for two queues; both carry traffic
if D4=$(guest_create g4 "vcpus=2" "extra='console=hvc0 xnblab.ip=10.199.0.4/24 xnblab.peer=10.199.0.1'"); then
	ok "xl create g4 with vcpus=2 (domid $D4)"
else bail "xl create g4 with vcpus=2"; fi
serve_check g4 "$D4"
check "g4: Linux's netfront asked for 2 queues (multi-queue-num-queues)" \
	xs_is "/local/domain/$D4/device/vif/0/multi-queue-num-queues" 2
check "g4: xnbd offers $(xenstore-read /local/domain/0/backend/vif/$D4/0/multi-queue-max-queues) queues" \
	eval '[ "$(xenstore-read /local/domain/0/backend/vif/$D4/0/multi-queue-max-queues)" -ge 2 ]'
tcp_step "g4: iperf3 -P 4 dom0 -> domU" $OUT/a-g4-mq.json -c 10.199.0.4 -t 5 -P 4
tcp_step "g4: iperf3 -P 4 domU -> dom0 (-R)" $OUT/a-g4-mq-r.json -c 10.199.0.4 -t 5 -P 4 -R
check "g4: both queues carried traffic both ways (rx $(queue_counters vif$D4.0 rx_packets), tx $(queue_counters vif$D4.0 tx_packets))" \
	eval 'queue_counters vif$D4.0 rx_packets | awk "{ exit !(NF == 2 && \$1 > 100 && \$2 > 100) }" &&
	      queue_counters vif$D4.0 tx_packets | awk "{ exit !(NF == 2 && \$1 > 100 && \$2 > 100) }"'
check "xl destroy g4" xl destroy g4
check "g4's vif$D4.0 removed" wait_until 30 link_gone "vif$D4.0"
check "xl destroy g2" xl destroy g2
check "vif$D.0 removed" wait_until 30 link_gone "vif$D.0"

# SIGTERM leaves guests Connected (none are left here) and exits 0.
kill -TERM $XNBD
check "xnbd exits on SIGTERM" wait_until 15 eval '! kill -0 $XNBD 2>/dev/null'
wait $XNBD; rc=$?
check "xnbd exit status 0 (was $rc)" test $rc = 0
check "no worker left" eval '! pgrep -f xnbd-worker > /dev/null'
check "no worker was killed by its seccomp filter in the whole job" no_sigsys
finish
