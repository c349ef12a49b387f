#!/bin/sh
# Captures this machine's /proc and /sys files that boxmon's Linux collectors read, twice, a few
# seconds apart, into a fixture tree for tests:
#
#   scripts/capture-fixture.sh OUT_DIR [SECONDS]     (default 5 s between the two snapshots)
#   scripts/capture-fixture.sh --snapshot DIR        (one snapshot into DIR; the caller decides
#                                                     what happens between two of them)
#
# OUT_DIR/t0 and OUT_DIR/t1 each hold proc/, sys/, statvfs.txt (what statvfs(3) said for every
# mount in mountinfo: "mountpoint frsize blocks bfree bavail files ffree", octal escapes as in
# mountinfo) and clock.txt (wall time in ms since the epoch, CLOCK_BOOTTIME in ns). Symlinked
# sysfs directories are stored as plain directories. Review the tree before committing it: it
# holds this machine's interface names, mount points and hostname-free kernel counters only.
#
# POSIX sh: it runs under bash, dash and busybox sh (scripts/capture-qemu-fixture.sh runs it inside
# a busybox guest). Needs cat, sed, stat -f and timeout (coreutils or busybox). With python3 the
# clock is CLOCK_BOOTTIME in ns and the wall time in ms; without it, /proc/uptime (10 ms steps) and
# whole seconds of date(1).
set -eu

copy() {  # copy SRC DEST: one pseudo file, read with cat (sizes read as 0)
  [ -r "$1" ] || return 0
  mkdir -p "$(dirname "$2")"
  cat "$1" >"$2" 2>/dev/null || rm -f "$2"
}

# The mount point of a mountinfo field with its octal escapes (\040 for a space) decoded.
unescape() {
  printf '%b' "$(printf '%s' "$1" | sed 's/\\\([0-7][0-7][0-7]\)/\\0\1/g')"
}

# statvfs of every mount; a dead network mount is given up after 2 s (killed: an NFS wait is
# killable, not interruptible).
statvfs_all() {  # statvfs_all OUT_FILE
  : >"$1"
  while read -r _ _ _ _ mp _; do
    line=$(timeout -s KILL 2 stat -f -c '%S %b %f %a %c %d' "$(unescape "$mp")" 2>/dev/null) || continue
    echo "$mp $line" >>"$1"
  done </proc/self/mountinfo
}

clock_now() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import time; print(time.time_ns() // 1000000, time.clock_gettime_ns(time.CLOCK_BOOTTIME))'
    return
  fi
  # /proc/uptime is CLOCK_BOOTTIME in hundredths of a second ("1234.56 ...").
  read -r up _ </proc/uptime
  echo "$(date +%s)000 $(echo "$up" | sed 's/\.//; s/^0*//')0000000"
}

snapshot() {  # snapshot DIR
  d=$1
  mkdir -p "$d/proc" "$d/sys"
  for f in stat meminfo loadavg uptime diskstats net/dev self/mountinfo sys/kernel/random/boot_id \
           pressure/cpu pressure/memory pressure/io; do
    copy "/proc/$f" "$d/proc/$f"
  done
  for dir in /sys/class/hwmon/* /sys/class/thermal/thermal_zone*; do
    [ -e "$dir" ] || continue
    n=${dir#/sys/}
    for f in "$dir"/name "$dir"/type "$dir"/temp "$dir"/temp*_input "$dir"/temp*_label "$dir"/temp*_crit \
             "$dir"/temp*_max; do
      if [ -f "$f" ]; then copy "$f" "$d/sys/$n/$(basename "$f")"; fi
    done
  done
  for dir in /sys/class/net/*; do
    [ -e "$dir" ] || continue
    n=${dir#/sys/}
    for f in operstate type speed carrier; do copy "$dir/$f" "$d/sys/$n/$f"; done
    # A physical interface has a device link; an empty folder would not survive git, hence .keep.
    if [ -e "$dir/device" ]; then mkdir -p "$d/sys/$n/device" && touch "$d/sys/$n/device/.keep"; fi
  done
  for dir in /sys/block/*; do
    [ -e "$dir" ] || continue
    n=${dir#/sys/}
    mkdir -p "$d/sys/$n"
    for f in size queue/hw_sector_size queue/rotational; do copy "$dir/$f" "$d/sys/$n/$f"; done
  done
  statvfs_all "$d/statvfs.txt"
  clock_now >"$d/clock.txt"
}

if [ "${1:-}" = "--snapshot" ]; then
  snapshot "${2:?usage: capture-fixture.sh --snapshot DIR}"
  exit 0
fi
out=${1:?usage: capture-fixture.sh OUT_DIR [SECONDS] | --snapshot DIR}
gap=${2:-5}
snapshot "$out/t0"
sleep "$gap"
snapshot "$out/t1"
echo "captured $out/t0 and $out/t1 ${gap} s apart"
