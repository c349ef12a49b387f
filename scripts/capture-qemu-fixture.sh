#!/usr/bin/env bash
# Boots a real Linux kernel in a QEMU guest of a given machine shape and captures a fixture tree
# there with scripts/capture-fixture.sh, for machines a developer does not have at hand:
#
#   scripts/capture-qemu-fixture.sh [--accel kvm|tcg] PROFILE KERNEL_DIR OUT_DIR
#
#   --accel     kvm (the default) or tcg: QEMU's own CPU emulation, slower (a few minutes) but it
#               needs no /dev/kvm; for hosts whose KVM cannot run the guest kernel (a nested or
#               paravirtual KVM that fails on it). The kernel and its files are the same; what
#               differs is CPU features, no steal time, and CPU time accounting: a busy vCPU that
#               the host does not run in time loses timer ticks, so busy shares read low.
#   PROFILE     qemu-server-12c  12 vCPUs in 2 sockets, 2 GiB, virtio + NVMe + SATA disks with
#                               ext4, xfs, btrfs (two subvolumes), vfat, a loop device, an overlay,
#                               a bind mount; virtio + 2 e1000e NICs, bond, VLAN, bridge, veth;
#                               the NVMe drive's temperature through hwmon. PSI on, no swap.
#               qemu-cloud-1c    1 vCPU, 256 MiB, a swap file, psi=0, NVMe root laid out like a
#                               Debian cloud image, a virtio data volume, one virtio NIC; meant
#                               for the Debian cloud kernel, which has no hwmon.
#   KERNEL_DIR  a Debian kernel package unpacked with dpkg-deb -x (boot/vmlinuz-*, lib/modules/*),
#               e.g. apt-get download linux-image-6.12.100+deb12-amd64 (qemu-server-12c) or
#               linux-image-6.1.0-50-cloud-amd64 (qemu-cloud-1c); depmod writes modules.dep there.
#   OUT_DIR     gets t0/ and t1/ (proc/, sys/, statvfs.txt, clock.txt as capture-fixture.sh
#               writes them) plus t0/tools/ and t1/tools/: what the guest's busybox df, free,
#               uptime, nproc and the sysfs statistics said right after each snapshot, free and
#               uptime just before it, and the dd and ping runs of the interval.
#
# A developer tool, not run by the build or CI. Needs the Debian packages
# qemu-system-x86 busybox-static e2fsprogs xfsprogs btrfs-progs dosfstools fdisk cpio kmod
# xz-utils iproute2. The guests' NICs lead nowhere (see sink below).
# (zstd too for a kernel whose modules end in .zst.) The kernel, the initramfs and the disk images
# stay in a temporary directory and are removed (BOXMON_QEMU_KEEP=1 keeps it, for debugging).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
die() { echo "capture-qemu-fixture: $*" >&2; exit 1; }
accel=kvm
if [ "${1:-}" = --accel ]; then
  accel=${2:-}
  shift 2 || true
fi
case $accel in
  kvm) accel_args=(-machine q35,accel=kvm -cpu host) ;;
  tcg) accel_args=(-machine q35,accel=tcg -cpu max) ;;
  *) die "--accel takes kvm or tcg, not \"$accel\"" ;;
esac
[ $# -eq 3 ] || die "usage: capture-qemu-fixture.sh [--accel kvm|tcg] PROFILE KERNEL_DIR OUT_DIR"
profile=$1
kdir=$(cd "$2" && pwd)
out=$3

for c in qemu-system-x86_64 busybox mkfs.ext4 mkfs.xfs mkfs.btrfs mkfs.vfat sfdisk cpio depmod modprobe xz \
         gzip base64 ldd; do
  command -v "$c" >/dev/null || die "$c not found; install the packages named at the top of this script"
done
[ "$accel" = tcg ] || [ -w /dev/kvm ] || die "/dev/kvm is not writable; use --accel tcg (slower)"
busybox_bin=$(command -v busybox)
ldd "$busybox_bin" >/dev/null 2>&1 && die "$busybox_bin is linked dynamically; install busybox-static"
versions=("$kdir"/lib/modules/*)
[ ${#versions[@]} -eq 1 ] && [ -d "${versions[0]}" ] || die "$kdir/lib/modules must hold exactly one kernel version"
version=${versions[0]##*/}
vmlinuz=$kdir/boot/vmlinuz-$version
[ -r "$vmlinuz" ] || die "$vmlinuz not found: unpack a linux-image package with dpkg-deb -x into $kdir"
depmod -b "$kdir" "$version"

work=$(mktemp -d)
[ -n "${BOXMON_QEMU_KEEP:-}" ] && echo "capture-qemu-fixture: keeping $work" || trap 'rm -rf "$work"' EXIT

# ---- the initramfs: busybox, the profile's modules (decompressed, in load order), /init --------
make_initramfs() {  # make_initramfs MODULE...
  local ir=$work/initramfs line path name
  mkdir -p "$ir/bin" "$ir/lib/modules"
  cp "$busybox_bin" "$ir/bin/busybox"
  install -m 0755 "$here/qemu-fixture/init" "$ir/init"
  : >"$ir/modules.order"
  for m in "$@"; do
    modprobe -d "$kdir" -S "$version" --show-depends "$m" 2>/dev/null | while read -r line path _; do
      [ "$line" = insmod ] || continue
      name=$(basename "$path")
      name=${name%.xz}
      name=${name%.zst}
      grep -qx "$name" "$ir/modules.order" && continue
      case $path in
        *.xz) xz -dc "$path" >"$ir/lib/modules/$name" ;;
        *.zst) zstd -qdc "$path" >"$ir/lib/modules/$name" ;;
        *) cp "$path" "$ir/lib/modules/$name" ;;
      esac
      echo "$name" >>"$ir/modules.order"
    done
  done
  (cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.gz"
}

# ---- the root filesystem: busybox, the capture scripts, the shape, a few host tools -----------
copy_with_libs() {  # copy_with_libs ROOT BINARY: the binary and the shared libraries it loads
  local root=$1 bin=$2 lib
  install -D "$bin" "$root$bin"
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    [ -e "$root$lib" ] || install -D "$lib" "$root$lib"
  done
}

make_root_tree() {  # make_root_tree TOOL...
  local root=$work/root a
  mkdir -p "$root"/{bin,sbin,etc/boxmon,proc,sys,dev,run,tmp,usr/local/bin,var/lib,srv,mnt,opt,home}
  cp "$busybox_bin" "$root/bin/busybox"
  for a in $(busybox --list); do [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"; done
  install -m 0755 "$here/qemu-fixture/guest.sh" "$root/sbin/boxmon-guest"
  install -m 0755 "$here/capture-fixture.sh" "$root/usr/local/bin/capture-fixture.sh"
  install -m 0644 "$here/qemu-fixture/$profile.sh" "$root/etc/boxmon/shape.sh"
  for a in "$@"; do copy_with_libs "$root" "$a"; done
}

fs_image() {  # fs_image FILE SIZE_MIB TYPE LABEL [TREE]
  local file=$1 size=$2 type=$3 label=$4 tree=${5:-}
  rm -f "$file"
  truncate -s "${size}M" "$file"
  case $type in
    ext4) mkfs.ext4 -q -F -L "$label" -E lazy_itable_init=0,lazy_journal_init=0 ${tree:+-d "$tree"} "$file" ;;
    xfs) mkfs.xfs -q -f -L "$label" "$file" ;;
    btrfs) mkfs.btrfs -q -f -L "$label" "$file" >/dev/null 2>&1 ;;
    vfat) mkfs.vfat -n "$label" "$file" >/dev/null ;;
    *) die "fs_image: unknown type $type" ;;
  esac
}

put_partition() {  # put_partition DISK START_MIB FS_IMAGE
  dd if="$3" of="$1" bs=1M seek="$2" conv=notrunc,sparse status=none
}

# ---- profiles: the virtual hardware; the guest side is in qemu-fixture/PROFILE.sh --------------
# A NIC backend that takes every frame and delivers none: UDP from an ephemeral port of the host's
# loopback to the discard port, where nothing listens. (A QEMU hub with one port never takes a
# frame: the guest's transmit queue stalls.)
sink() { echo "socket,id=$1,udp=127.0.0.1:9,localaddr=127.0.0.1:0"; }

profile_qemu_server_12c() {
  smp=12,sockets=2,cores=6,threads=1
  mem=2048
  cmdline_extra=
  make_initramfs virtio_pci virtio_blk virtio_net e1000e ahci sd_mod nvme ext4 xfs btrfs vfat nls_cp437 nls_ascii loop \
    overlay bonding 8021q bridge veth drivetemp
  make_root_tree "$(command -v ip)" "$(command -v btrfs)"
  fs_image "$work/vda.img" 1024 ext4 bxroot "$work/root"
  fs_image "$work/vdb.img" 512 xfs data
  # NVMe: GPT, p1 64 MiB EFI (vfat), p2 btrfs.
  truncate -s 1536M "$work/nvme.img"
  printf 'label: gpt\nstart=2048, size=131072, type=U\nstart=133120, type=L\n' | sfdisk -q "$work/nvme.img"
  fs_image "$work/p1.img" 64 vfat EFI
  fs_image "$work/p2.img" 1470 btrfs home
  put_partition "$work/nvme.img" 1 "$work/p1.img"
  put_partition "$work/nvme.img" 65 "$work/p2.img"
  # SATA: MBR, p1 ext4.
  truncate -s 512M "$work/sda.img"
  printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q "$work/sda.img"
  fs_image "$work/sda1.img" 510 ext4 backup
  put_partition "$work/sda.img" 1 "$work/sda1.img"
  rm -f "$work"/p1.img "$work"/p2.img "$work"/sda1.img
  devices=(
    -drive if=none,id=vda,file="$work/vda.img",format=raw -device virtio-blk-pci,drive=vda
    -drive if=none,id=vdb,file="$work/vdb.img",format=raw -device virtio-blk-pci,drive=vdb
    -drive if=none,id=nvme,file="$work/nvme.img",format=raw -device nvme,drive=nvme,serial=BOXMON0001
    -drive if=none,id=sata,file="$work/sda.img",format=raw -device ide-hd,drive=sata,bus=ide.0
    -netdev "$(sink n0)" -device virtio-net-pci,netdev=n0,mac=52:54:00:12:00:01
    -netdev "$(sink n1)" -device e1000e,netdev=n1,mac=52:54:00:12:00:02
    -netdev "$(sink n2)" -device e1000e,netdev=n2,mac=52:54:00:12:00:03
  )
}

profile_qemu_cloud_1c() {
  smp=1
  mem=256
  cmdline_extra=psi=0
  make_initramfs virtio_pci virtio_blk virtio_net vfat nls_cp437 nls_ascii
  make_root_tree "$(command -v ip)"
  # NVMe like a Debian cloud image: p14 BIOS boot, p15 EFI, p1 root (ext4) after them.
  truncate -s 1536M "$work/nvme.img"
  printf 'label: gpt\n%s\n%s\n%s\n' "nvme.img1 : start=262144, size=2881536, type=L" \
    "nvme.img14 : start=2048, size=6144, type=21686148-6449-6E6F-744E-656564454649" \
    "nvme.img15 : start=8192, size=253952, type=U" | (cd "$work" && sfdisk -q nvme.img)
  fs_image "$work/p15.img" 124 vfat EFI
  fs_image "$work/p1.img" 1407 ext4 bxroot "$work/root"
  put_partition "$work/nvme.img" 4 "$work/p15.img"
  put_partition "$work/nvme.img" 128 "$work/p1.img"
  rm -f "$work"/p1.img "$work"/p15.img
  fs_image "$work/vda.img" 512 ext4 data
  devices=(
    -drive if=none,id=nvme,file="$work/nvme.img",format=raw -device nvme,drive=nvme,serial=BOXMON0002
    -drive if=none,id=vda,file="$work/vda.img",format=raw -device virtio-blk-pci,drive=vda
    -netdev "$(sink n0)" -device virtio-net-pci,netdev=n0,mac=52:54:00:34:00:01
  )
}

case $profile in
  qemu-server-12c) profile_qemu_server_12c ;;
  qemu-cloud-1c) profile_qemu_cloud_1c ;;
  *) die "unknown profile \"$profile\"; known: qemu-server-12c, qemu-cloud-1c" ;;
esac

# ---- boot, wait for the guest to power off, unpack what it sent over the second serial port ----
echo "capture-qemu-fixture: booting $profile on Linux $version under $accel (console: $work/console.log)"
timeout 1800 qemu-system-x86_64 -nodefaults -no-user-config "${accel_args[@]}" \
  -smp "$smp" -m "$mem" -display none -no-reboot \
  -kernel "$vmlinuz" -initrd "$work/initramfs.gz" \
  -append "console=ttyS0 loglevel=4 panic=-1 $cmdline_extra" \
  -serial file:"$work/console.log" -serial file:"$work/capture.b64" \
  "${devices[@]}" || { tail -40 "$work/console.log" >&2; die "qemu failed or timed out"; }
grep -q BOXMON-CAPTURE-END "$work/capture.b64" || { tail -40 "$work/console.log" >&2; die "the guest sent no capture"; }
mkdir -p "$out"
rm -rf "$out/t0" "$out/t1"
tr -d '\r' <"$work/capture.b64" | sed -n '/^BOXMON-CAPTURE-BEGIN$/,/^BOXMON-CAPTURE-END$/p' | sed '1d;$d' |
  base64 -d | tar -xz -C "$out"
# What the guest's scripts said (kernel messages start with "[").
tr -d '\r' <"$work/console.log" | grep -v -e '^\[' -e '^$' || true
echo "capture-qemu-fixture: $out/t0 and $out/t1 from a $profile guest on Linux $version under $accel"
