# SPDX-License-Identifier: MIT
# Interop (b): our xnb-netfront against Linux's xen-netback. dom0 has the
# kernel's netback; the guest's initramfs gets xnb-netfront and its libraries
# under /xnb/ and boots with xnblab.netfront=user: Linux's xen-netfront is not
# loaded, xenfs/evtchn/gntdev/gntalloc are, and xnb-netfront makes eth0.
. /mnt/host/lib.sh
IPERF_T=${IPERF_T:-5}

lsmod | grep -q '^xen_netback' || bail "dom0 has the kernel's xen-netback loaded"
ok "xen-netback is loaded"

# The guest's initramfs: the lab's, plus /xnb/ (binary + the libraries it needs,
# as resolved in this Debian 12 dom0). Uncompressed: libxenguest mishandles a
# concatenation of gzip members.
T=$(mktemp -d)
mkdir -p "$T/xnb/lib"
cp /mnt/host/xnb-netfront "$T/xnb/"
for lib in $(ldd "$T/xnb/xnb-netfront" | awk '$2 == "=>" { print $3 }'); do cp -L "$lib" "$T/xnb/lib/"; done
INITRD=/tmp/initrd-xnb-netfront.cpio
{ zcat /etc/xnblab/initrd-domU.gz; (cd "$T" && find . | busybox cpio -o -H newc 2>/dev/null); } > $INITRD
rm -rf "$T"
check "guest initramfs with xnb-netfront ($(ls /mnt/host/xnb-netfront >/dev/null && ldd /mnt/host/xnb-netfront | grep -c '=>') libraries)" test -s $INITRD

t0=$(now)
if D=$(guest_create nf "ramdisk='$INITRD'" \
	"extra='console=hvc0 xnblab.ip=10.199.0.2/24 xnblab.peer=10.199.0.1 xnblab.netfront=user'"); then
	ok "xl create (domid $D, $(since $t0)s)"
else bail "xl create"; fi
check "vif$D.0 (kernel netback) is a port of xenbr0" wait_until 30 in_bridge "vif$D.0" xenbr0
check "xnb-netfront started in the guest" wait_console nf XNBLAB-DOMU-NETFRONT-PID 120
check "Linux netback reaches Connected (4)" wait_until 120 xs_is "/local/domain/0/backend/vif/$D/0/state" 4
check "xnb-netfront reaches Connected (4)" wait_until 60 xs_is "/local/domain/$D/device/vif/0/state" 4
wait_console nf XNBLAB-DOMU-READY 120 || bail "guest booted (console READY)"
ok "guest booted, eth0 up"
check "Linux netfront not loaded in the guest" gexec nf 30 "! grep -q xen_netfront /proc/modules"
check "guest's first ping to dom0 (at boot)" eval 'grep -q "XNBLAB-DOMU-BOOTPING rc=0" "$(guest_log nf)"'
check "ping dom0 -> domU" ping -c 5 -W 3 10.199.0.2
check "ping domU -> dom0" gexec nf 60 "ping -c 5 -W 3 10.199.0.1"
tcp_step "iperf3 TCP dom0 -> domU" $OUT/b-tcp-to-domU.json -c 10.199.0.2 -t $IPERF_T
tcp_step "iperf3 TCP domU -> dom0 (-R)" $OUT/b-tcp-from-domU.json -c 10.199.0.2 -t $IPERF_T -R
# The kernel's rate limiter, as a reference for xnbd's in job (a): the
# same rate=10Mb/s, written live, the same 10 s after a 2 s warm-up.
xenstore-write "/local/domain/0/backend/vif/$D/0/rate" 62500,50000
sleep 1
if timeout 60 iperf3 -J -c 10.199.0.2 -t 10 -O 2 -R > $OUT/b-rate.json 2>&1; then
	note "kernel netback, guest TX under rate=10Mb/s: $(awk '/"sum_received"/ { f = 1 } f && /"bits_per_second"/ { gsub(/[ ,]/, ""); split($0, a, ":"); printf "%.2f", a[2] / 1e6; exit }' $OUT/b-rate.json) Mbit/s"
fi
xenstore-rm "/local/domain/0/backend/vif/$D/0/rate"
iperf3 -s -D --logfile /tmp/iperf3-server.log
check "iperf3 TCP, domU as the client" gexec nf 60 "iperf3 -c 10.199.0.1 -t 3 | tail -n 3"
check "xl destroy" xl destroy nf
check "vif$D.0 removed" wait_until 30 link_gone "vif$D.0"
finish
