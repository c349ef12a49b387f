#!/usr/bin/env bash
# Captures this machine's /proc and /sys files that boxmon's Linux collectors read, twice, a few
# seconds apart, into a fixture tree for tests:
#
#   scripts/capture-fixture.sh OUT_DIR [SECONDS]     (default 5 s between the two snapshots)
#
# OUT_DIR/t0 and OUT_DIR/t1 each hold proc/, sys/, statvfs.txt (what statvfs(3) said for every
# mount in mountinfo: "mountpoint frsize blocks bfree bavail files ffree", octal escapes as in
# mountinfo) and clock.txt (wall time in ms since the epoch, CLOCK_BOOTTIME in ns). Symlinked
# sysfs directories are stored as plain directories. Review the tree before committing it: it
# holds this machine's interface names, mount points and hostname-free kernel counters only.
set -euo pipefail
out=${1:?usage: capture-fixture.sh OUT_DIR [SECONDS]}
gap=${2:-5}

copy() {  # copy SRC DEST: one pseudo file, read with cat (sizes read as 0)
  local src=$1 dest=$2
  [ -r "$src" ] || return 0
  mkdir -p "$(dirname "$dest")"
  cat "$src" >"$dest" 2>/dev/null || rm -f "$dest"
}

snapshot() {  # snapshot DIR
  local d=$1 f dir n
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
      [ -f "$f" ] && copy "$f" "$d/sys/$n/$(basename "$f")"
    done
  done
  for dir in /sys/class/net/*; do
    n=${dir#/sys/}
    for f in operstate type speed carrier; do copy "$dir/$f" "$d/sys/$n/$f"; done
    # A physical interface has a device link; an empty folder would not survive git, hence .keep.
    [ -e "$dir/device" ] && mkdir -p "$d/sys/$n/device" && touch "$d/sys/$n/device/.keep"
  done
  for dir in /sys/block/*; do
    n=${dir#/sys/}
    mkdir -p "$d/sys/$n"
    for f in size queue/hw_sector_size queue/rotational; do copy "$dir/$f" "$d/sys/$n/$f"; done
  done
  # statvfs of every mount, read by python so a dead network mount is skipped after 2 s
  /usr/bin/python3 - "$d/statvfs.txt" <<'PY'
import os, sys, signal
out = open(sys.argv[1], "w")
def unescape(s):
    return s.encode().decode("unicode_escape") if "\\" in s else s
for line in open("/proc/self/mountinfo"):
    f = line.split()
    mp = f[4]
    signal.alarm(2)
    try:
        st = os.statvfs(unescape(mp))
    except Exception:
        continue
    finally:
        signal.alarm(0)
    out.write(f"{mp} {st.f_frsize} {st.f_blocks} {st.f_bfree} {st.f_bavail} {st.f_files} {st.f_ffree}\n")
PY
  /usr/bin/python3 -c 'import time; print(time.time_ns() // 1000000, time.clock_gettime_ns(time.CLOCK_BOOTTIME))' \
    >"$d/clock.txt"
}

snapshot "$out/t0"
sleep "$gap"
snapshot "$out/t1"
echo "captured $out/t0 and $out/t1 ${gap} s apart"
