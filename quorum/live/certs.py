"""A private CA and certificates for a lab on 127.0.0.1 / localhost (``quorum certs init DIR``)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)


def init_certs(directory: Path, days: float = 30.0, names: tuple[str, ...] = ("server",)) -> dict[str, Path]:
    """Write ``ca.pem`` and, per name, ``NAME.pem`` / ``NAME.key`` valid for 127.0.0.1 and localhost.

    ``days`` may be negative to make an already-expired certificate (for tests).
    """
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "quorum lab CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=max(days, 1) * 10))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    out = {"ca": directory / "ca.pem", "ca_key": directory / "ca.key"}
    out["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _write_key(out["ca_key"], ca_key)
    for name in names:
        key = _key()
        start = now - dt.timedelta(days=1) if days > 0 else now + dt.timedelta(days=days * 2)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"quorum {name}")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        out[name] = directory / f"{name}.pem"
        out[f"{name}_key"] = directory / f"{name}.key"
        out[name].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(out[f"{name}_key"], key)
    return out
