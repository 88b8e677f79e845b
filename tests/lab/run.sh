#!/bin/bash
# SPDX-License-Identifier: MIT
# One lab cycle: boot Xen + dom0 in QEMU with a run directory shared over 9p,
# dom0 runs the job, writes its results to out/ there and powers off.
#   run.sh [--netback=0|1] [--timeout S] [--dir RUNDIR] [--env K=V]... JOB.sh [FILE...]
#   run.sh --shell [--netback=0] [DIR]   interactive: root shell on the dom0 console,
#                                        DIR (default: none) on /mnt/host; QEMU: Ctrl-A x quits
# FILEs (e.g. the host-built xnbd) are copied next to the job (/mnt/host in dom0).
# A job that carries the line `# lab: netback=0` gets a dom0 without xen-netback.
# Exits with the job's status; 99 when the lab did not finish (timeout, crash).
# On failure it prints the failed steps and the logs that explain them.
. "$(dirname "$0")/lab.sh"

NETBACK= TIMEOUT=900 DIR= ENVS=() SHELL_MODE=0
while [ $# -gt 0 ]; do
	case $1 in
	--netback=0) NETBACK=0 ;;
	--netback=1) NETBACK=1 ;;
	--shell) SHELL_MODE=1 ;;
	--timeout) TIMEOUT=$2; shift ;;
	--dir) DIR=$2; shift ;;
	--env) ENVS+=("$2"); shift ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
XEN_ARGS="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all dom0_mem=$LAB_DOM0_MEM,max:$LAB_DOM0_MEM dom0_max_vcpus=$LAB_SMP sched=credit2"
BASE=(qemu-system-x86_64 -accel "$LAB_ACCEL" -cpu "$LAB_CPU" -smp "$LAB_SMP" -m "$LAB_RAM_MB"
      -machine pc -no-reboot -nic none -kernel "$LAB_XEN" -append "$XEN_ARGS")
for f in "$LAB_XEN" "$LAB_VMLINUZ" "$LAB_INITRD0" "$LAB_DISK"; do
	[ -e "$f" ] || die "$f is missing: run tests/lab/build.sh first"
done
DISK="file=$LAB_DISK,if=virtio,format=raw,cache=unsafe,snapshot=on"
if [ $SHELL_MODE = 1 ]; then
	SHARE=()
	[ $# -ge 1 ] && SHARE=(-virtfs "local,path=$(realpath "$1"),mount_tag=hostshare,security_model=none,id=hostshare")
	exec "${BASE[@]}" -nographic -drive "$DISK" "${SHARE[@]}" \
		-initrd "$LAB_VMLINUZ root=/dev/vda console=hvc0 init=/sbin/init xnblab.netback=${NETBACK:-1},$LAB_INITRD0"
fi
[ $# -ge 1 ] || { echo "usage: run.sh [--netback=0] [--timeout S] [--dir D] [--env K=V] JOB.sh [FILE...]" >&2; exit 2; }
JOB=$1; shift
NAME=$(basename "$JOB" .sh)
if [ -z "$NETBACK" ]; then
	NETBACK=1; grep -qx '# lab: netback=0' "$JOB" && NETBACK=0
fi

DIR=${DIR:-$LAB_RUNS/$NAME-$(date +%Y%m%d-%H%M%S)}
rm -rf "$DIR"; mkdir -p "$DIR/out"
{
	echo '#!/bin/bash'
	for e in "${ENVS[@]}"; do printf 'export %q\n' "$e"; done
	cat "$JOB"
} > "$DIR/job.sh"
cp "$LAB_DIR/jobs/lib.sh" "$DIR/"
for f in "$@"; do cp -aL "$f" "$DIR/"; done
: > "$DIR/out/job.log"

# The dom0 job gets most of QEMU's time limit; the rest is boot and power off.
JOB_LIMIT=$(( TIMEOUT > 120 ? TIMEOUT - 60 : TIMEOUT ))
DOM0_ARGS="root=/dev/vda console=hvc0 earlyprintk=xen init=/sbin/init xnblab.job=1 xnblab.netback=$NETBACK xnblab.jobtimeout=$JOB_LIMIT"
# (QEMU separates multiboot modules with commas: the dom0 arguments have none.)
QEMU=("${BASE[@]}" -display none -monitor none -serial stdio
      -initrd "$LAB_VMLINUZ $DOM0_ARGS,$LAB_INITRD0" -drive "$DISK"
      -virtfs "local,path=$DIR,mount_tag=hostshare,security_model=none,id=hostshare")

say "job $NAME (netback=$NETBACK, limit ${TIMEOUT}s), run dir $DIR"
T0=$(date +%s)
# Show the job's step lines as they come (the share is written through).
tail -n +1 -F "$DIR/out/job.log" 2>/dev/null | grep --line-buffered -E '^(not )?ok |^# ' &
TAILER=$!
set +e
timeout -k 10 "$TIMEOUT" "${QEMU[@]}" < /dev/null > "$DIR/out/serial.log" 2>&1
QRC=$?
set -e
sleep 0.5; kill $TAILER 2>/dev/null; wait $TAILER 2>/dev/null || true
WALL=$(( $(date +%s) - T0 ))
echo "qemu_rc=$QRC wall_s=$WALL" > "$DIR/out/timing.txt"

if [ -s "$DIR/out/rc" ]; then RC=$(cat "$DIR/out/rc"); else RC=99; fi
if [ "$RC" = 0 ]; then
	say "job $NAME passed in ${WALL}s"
	exit 0
fi

# ---- failure report
O=$DIR/out
section() { echo; echo "----- $NAME: $*"; }
if [ "$RC" = 99 ]; then
	if [ $QRC = 124 ]; then say "job $NAME: the lab timed out after ${TIMEOUT}s (step: boot/job did not finish)"
	else say "job $NAME: the lab did not finish (qemu rc $QRC, no result written)"; fi
	section "serial console (last 60 lines)"; tail -n 60 "$O/serial.log"
else
	say "job $NAME failed with rc $RC after ${WALL}s"
fi
section "failed steps"; grep -E '^not ok ' "$O/job.log" || echo "(none reported: the job stopped early)"
section "job log (last 80 lines)"; tail -n 80 "$O/job.log"
# The state at the first two failed steps in full; later ones only named.
n=0
for f in $(ls "$O"/diag-*.txt 2>/dev/null | sort -t- -k2 -n); do
	n=$((n + 1))
	if [ $n -le 2 ]; then section "$(basename "$f")"; cat "$f"
	else echo "(also: $f)"; fi
done
for f in "$O"/xnbd*.log; do [ -e "$f" ] && { section "$(basename "$f") (last 60 lines)"; tail -n 60 "$f"; }; done
[ -e "$O/xenstore-at-end.txt" ] && { section "xenstore at the end"; cat "$O/xenstore-at-end.txt"; }
for f in "$O"/xen-logs/console/guest-*.log; do
	[ -e "$f" ] && { section "guest console $(basename "$f") (last 60 lines)"; tail -n 60 "$f"; }
done
[ -e "$O/dmesg.txt" ] && { section "dom0 dmesg (xen/vif lines, last 30)"; grep -iE 'xen|vif|netback|tun' "$O/dmesg.txt" | tail -n 30; }
echo; say "all logs: $O"
exit "$RC"
