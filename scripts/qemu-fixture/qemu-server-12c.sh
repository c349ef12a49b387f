# The shape of the qemu-server-12c guest (sourced by guest.sh): a 12-vCPU storage and network
# server. Disks, as scripts/capture-qemu-fixture.sh attaches them: vda (virtio, ext4 root), vdb
# (virtio, xfs), nvme0n1 (NVMe: p1 vfat EFI, p2 btrfs with two subvolumes), sda (SATA: p1 ext4).
# NICs: eth0 (virtio), eth1 and eth2 (e1000e) bonded, a VLAN on the bond, a bridge on the VLAN
# with one end of a veth pair in it. Each NIC's frames go to a UDP port on the host's loopback
# that nobody listens on: nothing answers.

shape_setup() {
  mkdir -p /srv/data /home /.snapshots /boot/efi "/mnt/backup disk" /mnt/scratch /opt/models /mnt/btrfs-top
  mount -t xfs /dev/vdb /srv/data
  mount -t vfat /dev/nvme0n1p1 /boot/efi
  mount -t btrfs /dev/nvme0n1p2 /mnt/btrfs-top
  btrfs -q subvolume create /mnt/btrfs-top/@home
  btrfs -q subvolume create /mnt/btrfs-top/@snapshots
  umount /mnt/btrfs-top && rmdir /mnt/btrfs-top
  mount -t btrfs -o subvol=@home /dev/nvme0n1p2 /home
  mount -t btrfs -o subvol=@snapshots /dev/nvme0n1p2 /.snapshots
  mount -t ext4 /dev/sda1 "/mnt/backup disk"
  # A loop device holding an ext2 image that lives on the xfs disk.
  mkdir -p /srv/data/images /srv/data/models
  dd if=/dev/zero of=/srv/data/images/scratch.img bs=1M count=64 2>/dev/null
  losetup /dev/loop0 /srv/data/images/scratch.img
  mke2fs -L scratch /dev/loop0 >/dev/null
  mount -t ext2 /dev/loop0 /mnt/scratch
  # An overlay like a container runtime's (not the root: not a filesystem of its own), a bind mount.
  mkdir -p /var/lib/containers/upper /var/lib/containers/work /var/lib/containers/merged
  mount -t overlay overlay -o lowerdir=/usr/local,upperdir=/var/lib/containers/upper,workdir=/var/lib/containers/work \
    /var/lib/containers/merged
  mount --bind /srv/data/models /opt/models
  # Some data, so that the filesystems are not empty.
  dd if=/dev/zero of=/srv/data/models/model.bin bs=1M count=96 2>/dev/null
  mkdir -p /home/user && dd if=/dev/zero of=/home/user/notes.bin bs=1M count=40 2>/dev/null
  dd if=/dev/zero of="/mnt/backup disk/backup.tar" bs=1M count=24 2>/dev/null
  dd if=/dev/zero of=/mnt/scratch/tmp.bin bs=1M count=8 2>/dev/null

  # No IPv6, so no router solicitations or MLD reports move the counters between the readings.
  for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 1 >"$f"; done
  ip addr add 10.0.0.1/24 dev eth0
  ip link set eth0 up
  ip link del bond0 2>/dev/null  # the module made one with default settings
  ip link add bond0 type bond mode balance-rr miimon 100
  ip link set eth1 master bond0
  ip link set eth2 master bond0
  ip link set bond0 up
  ip link add link bond0 name bond0.100 type vlan id 100
  ip link add br0 type bridge stp_state 0 forward_delay 0
  ip link add veth0 type veth peer name veth1
  ip link set bond0.100 master br0
  ip link set veth0 master br0
  for i in bond0.100 veth0 veth1 br0; do ip link set "$i" up; done
  ip addr add 10.0.100.1/24 dev br0
  # Neighbours that do not exist: pings go out without ARP and nothing comes back.
  ip neigh add 10.0.0.99 lladdr 52:54:00:00:00:99 dev eth0 nud permanent
  ip neigh add 10.0.100.99 lladdr 52:54:00:00:01:99 dev br0 nud permanent
}

# From before t0 until t1 is taken: three of the twelve vCPUs (1, 2, 3) spin.
shape_load() {
  for c in 1 2 3; do
    taskset -c "$c" sh -c 'while :; do :; done' &
    load_pids="$load_pids $!"
  done
}

# Between t0 and t1: 64 MiB are read from vdb and 32 MiB from nvme0n1 with O_DIRECT, and 15
# pings of 1000 bytes leave through eth0 and through br0 (so bond0.100, bond0 and its slaves, and
# veth0 to veth1). The traffic ends 2 s before t1, so the readings of tools/ match those of the
# snapshot exactly.
shape_between() {
  t=$1/t1/tools
  mkdir -p "$t"
  dd if=/dev/vdb of=/dev/null bs=1M count=64 iflag=direct 2>"$t/dd-vdb.txt"
  dd if=/dev/nvme0n1 of=/dev/null bs=1M count=32 iflag=direct 2>"$t/dd-nvme0n1.txt"
  ping -c 15 -i 0.2 -w 4 -s 1000 -I eth0 10.0.0.99 >"$t/ping-eth0.txt" 2>&1 &
  p1=$!
  ping -c 15 -i 0.2 -w 4 -s 1000 -I br0 10.0.100.99 >"$t/ping-br0.txt" 2>&1 &
  p2=$!
  wait "$p1" "$p2"
  sleep 2
}
