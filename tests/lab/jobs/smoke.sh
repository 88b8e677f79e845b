# SPDX-License-Identifier: MIT
# Lab smoke job: Xen and dom0 are up, the tools and devices the other jobs need exist.
. /mnt/host/lib.sh
check "xl info answers" xl info
check "xenstored answers" xenstore-read /local/domain/0/name
check "grant and event channel devices" test -c /dev/xen/gntdev -a -c /dev/xen/evtchn -a -c /dev/xen/gntalloc
check "xenbr0 is up" ip link show xenbr0
check "/dev/net/tun" test -c /dev/net/tun
if grep -q 'xnblab.netback=0' /proc/cmdline; then
	check "xen-netback not loaded" eval '! lsmod | grep -q "^xen_netback"'
else
	check "xen-netback loaded" eval 'lsmod | grep -q "^xen_netback"'
fi
finish
