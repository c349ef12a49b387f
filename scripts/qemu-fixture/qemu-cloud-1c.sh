# The shape of the qemu-cloud-1c guest (sourced by guest.sh): a small cloud instance with one
# vCPU, 256 MiB of memory, a swap file, the Debian cloud kernel (no hwmon at all) booted with
# psi=0. Disks, as scripts/capture-qemu-fixture.sh attaches them: nvme0n1 laid out like a Debian
# cloud image (p1 ext4 root, p14 BIOS boot, p15 vfat EFI) and vda (virtio, ext4 data volume).

shape_setup() {
  mkdir -p /boot/efi /data /var/cache/fill
  mount -t vfat /dev/nvme0n1p15 /boot/efi
  mount -t ext4 /dev/vda /data
  dd if=/dev/zero of=/swapfile bs=1M count=256 2>/dev/null
  chmod 600 /swapfile
  mkswap /swapfile >/dev/null
  swapon /swapfile
  dd if=/dev/zero of=/data/db.bin bs=1M count=48 2>/dev/null
  mount -t tmpfs -o size=320m tmpfs /var/cache/fill
  for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 1 >"$f"; done
  ip addr add 10.0.2.15/24 dev eth0
  ip link set eth0 up
  ip neigh add 10.0.2.2 lladdr 52:54:00:00:02:02 dev eth0 nud permanent
}

# From before t0 until t1 is taken: one busy loop on the only vCPU.
shape_load() {
  sh -c 'while :; do :; done' &
  load_pids=$!
}

# Between t0 and t1: 200 MiB written to a tmpfs, which pushes pages out to the swap file on
# nvme0n1, and 10 pings of 500 bytes through eth0; then 5 s for the swapping to settle.
shape_between() {
  t=$1/t1/tools
  mkdir -p "$t"
  dd if=/dev/zero of=/var/cache/fill/blob bs=1M count=200 2>"$t/dd-fill.txt"
  ping -c 10 -i 0.2 -w 3 -s 500 -I eth0 10.0.2.2 >"$t/ping-eth0.txt" 2>&1
  sleep 5
}
