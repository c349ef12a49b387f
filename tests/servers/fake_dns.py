#!/usr/bin/python3
"""The "fake DNS" fixture (RELIABILITY D9): runs a command in a resolver world of its own.

Meant to run as `unshare -m -n -- fake_dns.py --mode MODE --dir DIR -- COMMAND...` (a new network
and mount namespace; unshare(1) makes the mounts private). It brings loopback up, bind-mounts
DIR/resolv.conf ("nameserver 127.0.0.1") over /etc/resolv.conf and DIR/nsswitch.conf ("hosts:
files dns") over /etc/nsswitch.conf, so no other name service (systemd-resolved, mDNS) answers,
then serves 127.0.0.1:53/udp as MODE says and runs COMMAND:

  absent    nothing listens on port 53 (queries are refused at once)
  swallow   a socket reads every query and never answers
  nxdomain  every query is answered NXDOMAIN (RCODE 3)

Every query seen is logged as one line in DIR/queries.log ("<name> <type>"). Prints
"SETUP-FAILED <step>: <why>" on stderr and exits 77 when the namespace cannot be prepared;
otherwise exits with COMMAND's status after it ends.
"""
import argparse
import ctypes
import fcntl
import os
import socket
import struct
import subprocess
import sys
import threading

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
MS_BIND = 4096
SETUP_FAILED = 77


def setup_failed(step, why):
    print(f"SETUP-FAILED {step}: {why}", file=sys.stderr, flush=True)
    sys.exit(SETUP_FAILED)


def loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))


def bind_mount(source, target):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(source.encode(), target.encode(), None, MS_BIND, None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount --bind {source} {target}: {os.strerror(err)}")


def question(packet):
    """(name, qtype, end offset of the question) of a DNS query."""
    labels, i = [], 12
    while i < len(packet) and packet[i] != 0:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype = struct.unpack("!H", packet[i + 1:i + 3])[0] if i + 3 <= len(packet) else 0
    return ".".join(labels), qtype, i + 5


def serve(sock, mode, log_path):
    while True:
        try:
            packet, peer = sock.recvfrom(4096)
        except OSError:
            return
        if len(packet) < 12:
            continue
        name, qtype, end = question(packet)
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{name} {qtype}\n")
        if mode == "swallow":
            continue
        # Same id, QR=1, opcode and RD copied, RA=1, RCODE=3; the question echoed, no answers.
        flags = 0x8000 | (struct.unpack("!H", packet[2:4])[0] & 0x7900) | 0x0080 | 3
        reply = packet[:2] + struct.pack("!HHHHH", flags, 1, 0, 0, 0) + packet[12:end]
        sock.sendto(reply, peer)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["absent", "swallow", "nxdomain"], required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not command:
        p.error("no command")
    os.makedirs(a.dir, exist_ok=True)
    resolv = os.path.join(a.dir, "resolv.conf")
    nsswitch = os.path.join(a.dir, "nsswitch.conf")
    log_path = os.path.join(a.dir, "queries.log")
    with open(resolv, "w", encoding="utf-8") as f:
        f.write("nameserver 127.0.0.1\noptions timeout:5 attempts:2\n")
    with open(nsswitch, "w", encoding="utf-8") as f:
        f.write("hosts: files dns\n")
    open(log_path, "w", encoding="utf-8").close()
    try:
        loopback_up()
    except OSError as e:
        setup_failed("loopback", e)
    for source, target in ((resolv, "/etc/resolv.conf"), (nsswitch, "/etc/nsswitch.conf")):
        try:
            bind_mount(source, target)
        except OSError as e:
            setup_failed("resolver files", e)
    if a.mode != "absent":
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("127.0.0.1", 53))
        except OSError as e:
            setup_failed("dns socket", e)
        threading.Thread(target=serve, args=(sock, a.mode, log_path), daemon=True).start()
    print("READY", file=sys.stderr, flush=True)
    return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
