# SPDX-License-Identifier: MIT
# Settings and helpers shared by the lab's host-side scripts (sourced, not run).
# The lab is a real Xen 4.17 host (Debian's hypervisor, a Debian 12 dom0) booted
# in QEMU under TCG; everything large lives in $XNB_LAB_CACHE, outside the tree.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_CACHE=${XNB_LAB_CACHE:-/var/cache/xnb-lab}
LAB_SUITE=bookworm

# Artifacts in the cache.
LAB_DEBS=$LAB_CACHE/debs                  # downloaded Xen + kernel packages
LAB_UNPACKED=$LAB_CACHE/unpacked          # their dpkg -x tree
LAB_XEN=$LAB_CACHE/xen.elf                # multiboot image handed to qemu -kernel
LAB_VMLINUZ=$LAB_CACHE/vmlinuz            # one Debian kernel for dom0 and the domUs
LAB_KVER=$LAB_CACHE/kernel-release        # its release string (modules dir name)
LAB_ROOT=$LAB_CACHE/dom0-root             # the dom0 tree, from debootstrap
LAB_DISK=$LAB_CACHE/dom0.img              # ext4 image of that tree (virtio-blk)
LAB_INITRD0=$LAB_CACHE/initrd-dom0.gz     # dom0 early userspace
LAB_INITRDU=$LAB_CACHE/initrd-domU.gz     # the whole domU userland
LAB_RUNS=$LAB_CACHE/runs                  # one directory per job run (9p share)

# QEMU. /dev/kvm on these hosts cannot run Xen, so TCG; no SMAP in the CPU
# model (Xen's PV bounce frames fault on it under TCG).
LAB_ACCEL=${XNB_LAB_ACCEL:-tcg,thread=multi}
LAB_CPU=${XNB_LAB_CPU:-Haswell-noTSX-IBRS}
LAB_SMP=${XNB_LAB_SMP:-2}
LAB_RAM_MB=${XNB_LAB_RAM_MB:-4096}
LAB_DOM0_MEM=${XNB_LAB_DOM0_MEM:-1536M}

say() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

# The mirrors this host's apt already uses (deb822 or one-line format).
host_mirror() {   # $1: main | security
	local u
	for u in $(awk '/^URIs:/{for(i=2;i<=NF;i++)print $i}' /etc/apt/sources.list.d/*.sources 2>/dev/null) \
		 $(awk '$1=="deb"{print $2}' /etc/apt/sources.list 2>/dev/null); do
		case $1:$u in
		security:*debian-security*) echo "$u"; return ;;
		main:*debian-security*) ;;
		main:*/debian|main:*/debian/) echo "$u"; return ;;
		esac
	done
	[ "$1" = main ] && echo http://deb.debian.org/debian || echo http://deb.debian.org/debian-security
}
