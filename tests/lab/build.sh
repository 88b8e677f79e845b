#!/bin/bash
# SPDX-License-Identifier: MIT
# Build (or bring up to date) every artifact the lab boots, in $XNB_LAB_CACHE:
# host packages, Debian's Xen + kernel .debs, the dom0 tree (debootstrap),
# the dom0/domU initramfs images and the dom0 ext4 disk. Each stage keeps a
# stamp holding the hash of its inputs and is redone only when that changes
# or its output is missing.  Usage: build.sh [--force]
. "$(dirname "$0")/lab.sh"

FORCE=0; [ "${1:-}" = --force ] && FORCE=1
mkdir -p "$LAB_CACHE/stamps"
T_START=$(date +%s)

# stage_current NAME KEY FILE...: true if the stage's stamp holds KEY and the FILEs exist
stage_current() {
	local name=$1 key=$2 f; shift 2
	[ $FORCE = 0 ] || return 1
	[ "$(cat "$LAB_CACHE/stamps/$name" 2>/dev/null)" = "$key" ] || return 1
	for f in "$@"; do [ -e "$f" ] || return 1; done
}
stage_done() { echo "$2" > "$LAB_CACHE/stamps/$1"; }
# run_logged NAME CMD...: run CMD with its output in the cache; on failure show the tail
run_logged() {
	local name=$1; shift
	if ! "$@" > "$LAB_CACHE/$name.log" 2>&1; then
		tail -n 40 "$LAB_CACHE/$name.log" >&2
		die "step '$name' (log: $LAB_CACHE/$name.log)"
	fi
}

# ---- 1. host packages
HOST_PKGS="qemu-system-x86 qemu-utils debootstrap e2fsprogs busybox-static kmod cpio gzip
	   file ca-certificates python3 libxen-dev meson ninja-build pkg-config build-essential"
missing=$(for p in $HOST_PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"; done)
if [ -n "$missing" ]; then
	say "installing host packages: $(echo $missing)"
	[ "$(id -u)" = 0 ] || die "host packages missing and not root: $(echo $missing)"
	export DEBIAN_FRONTEND=noninteractive
	run_logged host-apt-update apt-get update -q
	run_logged host-apt apt-get install -y -q --no-install-recommends $missing
fi
[ -x "$(command -v busybox)" ] && file -L "$(command -v busybox)" | grep -q 'statically linked' \
	|| die "busybox on PATH is not the static one (busybox-static)"

# ---- 2. Xen hypervisor + kernel packages, unpacked
[ -n "$(ls /var/lib/apt/lists/*_Packages* 2>/dev/null)" ] || run_logged host-apt-update apt-get update -q
XEN_PKG=xen-hypervisor-4.17-amd64
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1=="Depends:" && $2 ~ /^linux-image-/ {print $2; exit}')
[ -n "$KPKG" ] || die "cannot tell which linux-image package linux-image-amd64 stands for"
KEY_KERNEL="$XEN_PKG $(apt-cache policy $XEN_PKG | awk '/Candidate:/{print $2}') $KPKG"
if ! stage_current kernel "$KEY_KERNEL" "$LAB_XEN" "$LAB_VMLINUZ" "$LAB_KVER"; then
	say "fetching $XEN_PKG and $KPKG"
	rm -rf "$LAB_DEBS" "$LAB_UNPACKED"; mkdir -p "$LAB_DEBS" "$LAB_UNPACKED"
	(cd "$LAB_DEBS" && run_logged fetch-debs apt-get download "$XEN_PKG" "$KPKG")
	for deb in "$LAB_DEBS"/*.deb; do dpkg -x "$deb" "$LAB_UNPACKED"; done
	zcat "$LAB_UNPACKED"/boot/xen-4.17-amd64.gz > "$LAB_XEN"   # an ELF32 multiboot image
	cp "$LAB_UNPACKED"/boot/vmlinuz-* "$LAB_VMLINUZ"
	ls "$LAB_UNPACKED/lib/modules" | head -n 1 > "$LAB_KVER"
	depmod -b "$LAB_UNPACKED" "$(cat "$LAB_KVER")"
	stage_done kernel "$KEY_KERNEL"
fi
KREL=$(cat "$LAB_KVER")

# ---- 3. the dom0 tree (Debian 12 minbase + Xen tools and what the jobs use)
# systemd is PID 1 (systemd-sysv); the xnb package's runtime Depends are all
# here (libseccomp2, the libxen* libraries, systemd for sysusers), so that a
# job can `dpkg -i` it without a network.
DOM0_PKGS="xen-utils-4.17 xenstore-utils libxengnttab1 libxenevtchn1 libxenstore4 libxentoolcore1
	   libxentoollog1 libxencall1 libxenforeignmemory1 libxendevicemodel1 libxenmisc4.17
	   libseccomp2 systemd systemd-sysv udev
	   iperf3 bridge-utils iproute2 iputils-ping kmod procps busybox psmisc ethtool tcpdump
	   strace netbase"
MAIN_MIRROR=$(host_mirror main); SEC_MIRROR=$(host_mirror security)
KEY_ROOT=$(echo "$LAB_SUITE $MAIN_MIRROR $SEC_MIRROR $DOM0_PKGS" | sha256sum | cut -c1-16)
if ! stage_current rootfs "$KEY_ROOT" "$LAB_ROOT/usr/sbin/xl" "$LAB_ROOT/usr/bin/iperf3"; then
	say "debootstrap $LAB_SUITE into $LAB_ROOT (about a minute)"
	rm -rf "$LAB_ROOT"; mkdir -p "$LAB_ROOT" "$LAB_CACHE/debootstrap-pkgs"
	run_logged debootstrap debootstrap --variant=minbase --cache-dir="$LAB_CACHE/debootstrap-pkgs" \
		"$LAB_SUITE" "$LAB_ROOT" "$MAIN_MIRROR"
	printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
		"$MAIN_MIRROR" $LAB_SUITE "$MAIN_MIRROR" $LAB_SUITE "$SEC_MIRROR" $LAB_SUITE \
		> "$LAB_ROOT/etc/apt/sources.list"
	mount --bind /proc "$LAB_ROOT/proc"
	trap 'umount "$LAB_ROOT/proc" 2>/dev/null || true' EXIT
	say "installing in the dom0 tree: $(echo $DOM0_PKGS)"
	run_logged dom0-apt chroot "$LAB_ROOT" /bin/sh -c "apt-get update -q &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(echo $DOM0_PKGS) &&
		apt-get clean"
	umount "$LAB_ROOT/proc"; trap - EXIT
	stage_done rootfs "$KEY_ROOT"
fi

# ---- 4. initramfs images + the dom0 disk: redone when any lab file that goes
# into them changes (this script, lab.sh, image/, initramfs/).
KEY_IMAGE=$( { echo "$KEY_KERNEL $KEY_ROOT"; cat "$LAB_DIR/lab.sh" "$LAB_DIR/build.sh" \
	"$LAB_DIR"/image/* "$LAB_DIR"/initramfs/*; } | sha256sum | cut -c1-16)
if ! stage_current image "$KEY_IMAGE" "$LAB_DISK" "$LAB_INITRD0" "$LAB_INITRDU"; then
	say "packing initramfs images and the dom0 disk"
	MODS=$LAB_UNPACKED/lib/modules/$KREL
	# deps_of MODULE...: module files in load order (built-ins are skipped)
	deps_of() {
		local m
		for m in "$@"; do modprobe -d "$LAB_UNPACKED" -S "$KREL" --show-depends "$m"; done |
			awk '$1=="insmod" && !seen[$2]++ {print $2}'
	}
	# add_mods TREE LISTNAME MODULE...: copy modules into TREE/lib/modules, order in LISTNAME
	add_mods() {
		local tree=$1 list=$2 p; shift 2
		: > "$tree/lib/modules/$list"
		for p in $(deps_of "$@"); do
			cp "$p" "$tree/lib/modules/"; basename "$p" >> "$tree/lib/modules/$list"
		done
	}
	cpio_gz() { (cd "$1" && find . | cpio -o -H newc --quiet | gzip -1); }
	BB=$(command -v busybox)

	# dom0 early userspace: just enough to mount the virtio disk and switch to it
	T=$(mktemp -d)
	mkdir -p "$T"/{bin,dev,proc,sys,lib/modules,newroot}
	cp "$BB" "$T/bin/busybox"; install -m 0755 "$LAB_DIR/initramfs/dom0-init" "$T/init"
	add_mods "$T" boot.list virtio_pci virtio_blk ext4 9pnet_virtio 9p
	cpio_gz "$T" > "$LAB_INITRD0"; rm -rf "$T"

	# domU: the whole system. Linux netfront, or (for our netfront) the
	# modules that give userspace grant tables, event channels and XenStore.
	T=$(mktemp -d)
	mkdir -p "$T"/{bin,dev,proc,sys,tmp,lib64,lib/modules,lib/x86_64-linux-gnu}
	cp "$BB" "$T/bin/busybox"; install -m 0755 "$LAB_DIR/initramfs/domU-init" "$T/init"
	add_mods "$T" kernel-netfront.list xen-netfront
	add_mods "$T" user-netfront.list xenfs xen-evtchn xen-gntdev xen-gntalloc tun
	cp "$LAB_ROOT/usr/bin/iperf3" "$T/bin/"
	for lib in $(chroot "$LAB_ROOT" ldd /usr/bin/iperf3 | awk '$2=="=>"{print $3} /ld-linux/{print $1}'); do
		cp -L "$LAB_ROOT$lib" "$T/lib/x86_64-linux-gnu/"
	done
	ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$T/lib64/ld-linux-x86-64.so.2"
	cpio_gz "$T" > "$LAB_INITRDU"; rm -rf "$T"

	# dom0 tree: kernel modules (without the hardware we never emulate), our init
	rm -rf "$LAB_ROOT/lib/modules"; mkdir -p "$LAB_ROOT/lib/modules"
	tar -C "$LAB_UNPACKED/lib/modules" -cf - \
		--exclude="$KREL/kernel/drivers/gpu" --exclude="$KREL/kernel/drivers/media" \
		--exclude="$KREL/kernel/drivers/infiniband" --exclude="$KREL/kernel/drivers/net/wireless" \
		--exclude="$KREL/kernel/drivers/staging" --exclude="$KREL/kernel/drivers/bluetooth" \
		--exclude="$KREL/kernel/net/wireless" --exclude="$KREL/kernel/net/mac80211" \
		--exclude="$KREL/kernel/net/bluetooth" --exclude="$KREL/kernel/sound" "$KREL" |
		tar -C "$LAB_ROOT/lib/modules" -xf -
	depmod -b "$LAB_ROOT" "$KREL"
	# systemd boots it: Debian's /etc/init.d/xen (xen.service, from the sysv
	# generator), then our xnblab-setup.service and, with xnblab.job=1,
	# xnblab-job.service; a root shell on hvc0 (the Xen console).
	install -m 0644 "$LAB_DIR/image/xen-default" "$LAB_ROOT/etc/default/xen"
	install -D -m 0644 "$LAB_DIR/image/common.sh" "$LAB_ROOT/usr/local/lib/xnblab/common.sh"
	install -m 0755 "$LAB_DIR/image/xnblab-setup" "$LAB_DIR/image/xnblab-job" "$LAB_ROOT/usr/local/sbin/"
	install -m 0644 "$LAB_DIR/image/xnblab-setup.service" "$LAB_DIR/image/xnblab-job.service" \
		"$LAB_ROOT/etc/systemd/system/"
	mkdir -p "$LAB_ROOT/etc/systemd/system/multi-user.target.wants"
	for u in xnblab-setup.service xnblab-job.service; do
		ln -sf "/etc/systemd/system/$u" "$LAB_ROOT/etc/systemd/system/multi-user.target.wants/$u"
	done
	install -D -m 0644 "$LAB_DIR/image/autologin.conf" \
		"$LAB_ROOT/etc/systemd/system/serial-getty@hvc0.service.d/autologin.conf"
	install -D -m 0644 "$LAB_DIR/image/system.conf" "$LAB_ROOT/etc/systemd/system.conf.d/xnblab.conf"
	install -D -m 0644 "$LAB_DIR/image/journald.conf" "$LAB_ROOT/etc/systemd/journald.conf.d/xnblab.conf"
	install -m 0644 "$LAB_DIR/image/modprobe-lab.conf" "$LAB_ROOT/etc/modprobe.d/xnblab.conf"
	# Nothing the lab needs, each a process start under TCG: the periodic
	# jobs, gettys on VTs nobody sees, and xendomains (it would save or shut
	# down guests at power off).
	for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
		 e2scrub_reap.service fstrim.timer getty-static.service getty@tty1.service \
		 xendomains.service; do
		ln -sf /dev/null "$LAB_ROOT/etc/systemd/system/$u"
	done
	rm -f "$LAB_ROOT/etc/inittab"
	echo xnblab-dom0 > "$LAB_ROOT/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\txnblab-dom0\n' > "$LAB_ROOT/etc/hosts"
	echo '/dev/vda / ext4 rw,noatime 0 0' > "$LAB_ROOT/etc/fstab"   # a snapshot: no fsck
	sed -i 's/^root:[^:]*:/root::/' "$LAB_ROOT/etc/shadow"     # console login, lab only
	rm -rf "$LAB_ROOT/etc/xnblab"
	mkdir -p "$LAB_ROOT/etc/xnblab" "$LAB_ROOT/mnt/host" "$LAB_ROOT/var/log/xen/console" "$LAB_ROOT/var/lib/xen"
	cp "$LAB_VMLINUZ" "$LAB_ROOT/etc/xnblab/vmlinuz"
	cp "$LAB_INITRDU" "$LAB_ROOT/etc/xnblab/initrd-domU.gz"
	install -m 0644 "$LAB_DIR/image/guest.cfg" "$LAB_ROOT/etc/xnblab/guest.cfg"
	rm -f "$LAB_DISK"; truncate -s 3G "$LAB_DISK"
	run_logged mkfs mkfs.ext4 -q -F -L xnblab-dom0 -d "$LAB_ROOT" "$LAB_DISK"
	stage_done image "$KEY_IMAGE"
fi
say "lab up to date ($(( $(date +%s) - T_START )) s): kernel $KREL, cache $LAB_CACHE"
