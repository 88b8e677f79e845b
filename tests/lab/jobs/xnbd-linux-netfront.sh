# SPDX-License-Identifier: MIT
# Interop (a): xnbd serving Linux's xen-netfront. dom0 boots without the
# kernel's xen-netback (run.sh --netback=0); xnbd (from the 9p share) serves
# an ordinary `vif = [ 'bridge=xenbr0' ]` guest through the unchanged vif-bridge
# hotplug script. Steps: connect, ping and TCP both ways, jumbo MTU, xl reboot,
# xl destroy under load, a new guest afterwards.
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

lsmod | grep -q '^xen_netback' && bail "dom0 booted without xen-netback (boot with --netback=0)"
ok "xen-netback is not loaded"
cp /mnt/host/xnbd /mnt/host/xnbctl /tmp/
mkdir -p /run/xnb
/tmp/xnbd --platform xen ${XNBD_ARGS:-} > "$XNBD_LOG" 2>&1 &
XNBD=$!
export XNBD_PID=$XNBD
sleep 1
kill -0 $XNBD 2>/dev/null || { cat "$XNBD_LOG"; bail "xnbd --platform xen starts"; }
ok "xnbd --platform xen is running (pid $XNBD)"
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
[ -x /tmp/xnbctl ] && { note "xnbctl stats:"; timeout 5 /tmp/xnbctl stats 2>&1 | sed 's/^/#   /'; }
check "xl destroy g2" xl destroy g2
check "vif$D.0 removed" wait_until 30 link_gone "vif$D.0"

kill -TERM $XNBD
check "xnbd exits on SIGTERM" wait_until 15 eval '! kill -0 $XNBD 2>/dev/null'
wait $XNBD; note "xnbd exit status $?"
finish
