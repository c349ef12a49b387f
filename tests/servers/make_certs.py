#!/usr/bin/python3
"""Writes a test PKI with python3-trustme into DIR (RELIABILITY "test CA"):
ca.pem            the test CA
server.pem/.key   leaf for localhost and 127.0.0.1 signed by the CA (chain in server.pem)
wrong.pem/.key    leaf for other.test only, signed by the CA (wrong host)
rogue.pem/.key    leaf for localhost and 127.0.0.1 signed by another CA (not trusted)
expired.pem/.key  leaf for localhost and 127.0.0.1 signed by the CA, expired on 2020-01-01
future.pem/.key   leaf for localhost and 127.0.0.1 signed by the CA, valid only from 2090-01-01
"""
import datetime
import ipaddress
import sys
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def write_leaf(ca, out: Path, stem: str, *names: str, **options) -> None:
    cert = ca.issue_cert(*names, **options)
    (out / f"{stem}.pem").write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    (out / f"{stem}.key").write_bytes(cert.private_key_pem.bytes())


def write_future_leaf(ca, out: Path, stem: str) -> None:
    # trustme 0.9 fixes notBefore at 2000-01-01, so a not-yet-valid leaf is built by hand and
    # signed with the CA's key.
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = ca._certificate.subject  # pylint: disable=protected-access
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2090, 1, 1))
        .not_valid_after(datetime.datetime(2091, 1, 1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=True,
        )
        .sign(ca._private_key, hashes.SHA256())  # pylint: disable=protected-access
    )
    (out / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (out / f"{stem}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def main() -> int:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(out / "ca.pem"))
    write_leaf(ca, out, "server", "localhost", "127.0.0.1")
    write_leaf(ca, out, "wrong", "other.test")
    write_leaf(trustme.CA(), out, "rogue", "localhost", "127.0.0.1")
    write_leaf(ca, out, "expired", "localhost", "127.0.0.1", not_after=datetime.datetime(2020, 1, 1))
    write_future_leaf(ca, out, "future")
    return 0


if __name__ == "__main__":
    sys.exit(main())
