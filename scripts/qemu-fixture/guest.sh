#!/bin/sh
# PID 1 of a capture guest (scripts/capture-qemu-fixture.sh puts it at /sbin/boxmon-guest): sets
# up the profile's shape (/etc/boxmon/shape.sh: shape_setup, shape_load, shape_between), starts
# the background load that spans the interval, takes snapshot t0 with scripts/capture-fixture.sh,
# lets shape_between run the rest of the interval's workload, takes t1, and writes both, with
# what the guest's own tools said right after each snapshot (tools/), to the second serial port
# as a base64 tar between two marker lines. Then it powers the guest off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
out=/run/capture
# Busybox sh runs its own applets before anything on PATH; iproute2's ip (bond, VLAN, bridge,
# veth, static neighbours), copied in where the profile needs it, has to be named.
if [ -x /usr/sbin/ip ]; then ip() { /usr/sbin/ip "$@"; }; fi

say() { echo "boxmon-guest: $*"; }

mount_base() {
  mount -t tmpfs -o mode=0755,size=64m tmpfs /run
  mount -t tmpfs -o mode=1777,size=128m tmpfs /tmp
  mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm
  hostname boxmon-fixture
  ip link set lo up
}

# free(1) and uptime(1) just before a snapshot: memory and the load averages move while a
# snapshot is taken (seconds, under TCG), so the tests bracket the snapshot's values between this
# reading and the one after.
tools_before() {  # tools_before SNAPSHOT_DIR
  mkdir -p "$1/tools"
  free >"$1/tools/free-before.txt"
  uptime >"$1/tools/uptime-before.txt"
}

# What the guest's own tools say right after a snapshot, for the tests to compare boxmon's
# values with.
tools() {  # tools SNAPSHOT_DIR
  t=$1/tools
  mkdir -p "$t"
  df -P -k >"$t/df.txt"
  df -P -i >"$t/df-inodes.txt"
  free >"$t/free.txt"
  uptime >"$t/uptime.txt"
  nproc >"$t/nproc.txt"
  for i in /sys/class/net/*; do
    s=$i/statistics
    [ -d "$s" ] || continue  # bonding_masters is a file
    echo "${i##*/} $(cat "$s/rx_bytes") $(cat "$s/tx_bytes") $(cat "$s/rx_errors") $(cat "$s/tx_errors")" \
         "$(cat "$s/rx_dropped") $(cat "$s/tx_dropped")"
  done >"$t/net.txt"
  for b in /sys/block/*; do
    echo "${b##*/} $(cat "$b/stat")"
  done >"$t/block.txt"
  uname -r >"$t/uname.txt"
}

send() {
  stty -F /dev/ttyS1 raw -echo 2>/dev/null
  {
    echo "BOXMON-CAPTURE-BEGIN"
    tar -C "$out" -cf - . | gzip -9 | base64
    echo "BOXMON-CAPTURE-END"
  } >/dev/ttyS1
}

mount_base
. /etc/boxmon/shape.sh
say "setting up the shape"
shape_setup
sync
sleep 3  # let link-up chatter and writeback settle before t0
load_pids=
shape_load  # background jobs whose PIDs it adds to $load_pids; they run until t1's tools have run
say "snapshot t0"
tools_before "$out/t0"
/usr/local/bin/capture-fixture.sh --snapshot "$out/t0"
tools "$out/t0"
say "workload"
shape_between "$out"
say "snapshot t1"
tools_before "$out/t1"
/usr/local/bin/capture-fixture.sh --snapshot "$out/t1"
tools "$out/t1"  # with the load still on, so the load averages keep rising across t1
[ -z "$load_pids" ] || kill $load_pids
wait 2>/dev/null
send
say "done"
sync
poweroff -f
