#!/usr/bin/python3
"""Writes a test PKI with python3-trustme into DIR (RELIABILITY "test CA"):
ca.pem            the test CA
server.pem/.key   leaf for localhost and 127.0.0.1 signed by the CA (chain in server.pem)
wrong.pem/.key    leaf for other.test only, signed by the CA (wrong host)
rogue.pem/.key    leaf for localhost and 127.0.0.1 signed by another CA (not trusted)
"""
import sys
from pathlib import Path

import trustme


def write_leaf(ca, out: Path, stem: str, *names: str) -> None:
    cert = ca.issue_cert(*names)
    (out / f"{stem}.pem").write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    (out / f"{stem}.key").write_bytes(cert.private_key_pem.bytes())


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(out / "ca.pem"))
    write_leaf(ca, out, "server", "localhost", "127.0.0.1")
    write_leaf(ca, out, "wrong", "other.test")
    write_leaf(trustme.CA(), out, "rogue", "localhost", "127.0.0.1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
