"""The signing identity: a configured certificate chain and key, or a local development CA made on first use."""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent first starts are then the operator's problem
    fcntl = None  # type: ignore[assignment]

DEV_ORGANIZATION = "genserve local development CA"
DEV_COMMON_NAME = "genserve"
CA_FILE = "ca.pem"
CHAIN_FILE = "signer-chain.pem"
KEY_FILE = "signer-key.pem"

# Long enough that a development install rarely outlives its credentials (delete the directory to renew them).
_CA_DAYS = 3650
_LEAF_DAYS = 1825


@dataclass(frozen=True)
class Credentials:
    """PEM text for signing: the chain (leaf first), its private key and, when known, the trust anchor."""

    chain_pem: bytes
    key_pem: bytes
    ca_pem: bytes | None


def load_or_create(directory: Path, cert: Path | None = None, key: Path | None = None) -> Credentials:
    """Use the configured chain and key if both are given, otherwise the dev CA under `directory` (made if absent)."""
    if (cert is None) != (key is None):
        raise ValueError("a provenance certificate chain and its private key must be configured together")
    if cert is not None and key is not None:
        chain_pem = Path(cert).read_bytes()
        # The last certificate of a full chain is the closest thing to a trust anchor we can offer verify.
        certs = x509.load_pem_x509_certificates(chain_pem)
        ca_pem = certs[-1].public_bytes(serialization.Encoding.PEM) if len(certs) > 1 else None
        return Credentials(chain_pem=chain_pem, key_pem=Path(key).read_bytes(), ca_pem=ca_pem)
    return ensure_dev_credentials(Path(directory))


def ensure_dev_credentials(directory: Path) -> Credentials:
    """Return the development CA and signer stored in `directory`, creating them only if they are missing."""
    ca_path, chain_path, key_path = directory / CA_FILE, directory / CHAIN_FILE, directory / KEY_FILE
    paths = (ca_path, chain_path, key_path)
    if not all(path.exists() for path in paths):
        directory.mkdir(parents=True, exist_ok=True)
        # Two processes starting together on one data dir must not each write half of a different chain.
        with _exclusive(directory / ".lock"):
            if not all(path.exists() for path in paths):
                ca_pem, chain_pem, key_pem = _generate_dev_chain()
                # Key first with 0600 from the start, so the private key is never world-readable, not even briefly.
                _write_private(key_path, key_pem)
                _write_atomic(chain_path, chain_pem)
                _write_atomic(ca_path, ca_pem)
    return Credentials(chain_pem=chain_path.read_bytes(), key_pem=key_path.read_bytes(), ca_pem=ca_path.read_bytes())


def _generate_dev_chain() -> tuple[bytes, bytes, bytes]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{DEV_COMMON_NAME} root")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = _certificate(
        ca_name,
        ca_name,
        ca_key.public_key(),
        ca_key,
        _CA_DAYS,
        [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (_key_usage(cert_sign=True), True),
            (ca_ski, False),
        ],
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    # c2pa rejects signers without exactly this profile: end-entity, digitalSignature, an allowed EKU, SKI and AKI.
    leaf_cert = _certificate(
        _name(DEV_COMMON_NAME),
        ca_name,
        leaf_key.public_key(),
        ca_key,
        _LEAF_DAYS,
        [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_key_usage(cert_sign=False), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False),
            (x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), False),
            (x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False),
        ],
    )
    pem = serialization.Encoding.PEM
    ca_pem = ca_cert.public_bytes(pem)
    chain_pem = leaf_cert.public_bytes(pem) + ca_pem
    key_pem = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ca_pem, chain_pem, key_pem


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    signing_key: ec.EllipticCurvePrivateKey,
    days: int,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    """One certificate of the chain; each extension comes with whether it is critical."""
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        # Backdated a little so that a clock slightly behind on another machine still accepts the certificates.
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with open(lock_path, "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o600)  # the umask may have narrowed it further, never widened; make it exact
    os.replace(tmp, path)


def _write_atomic(path: Path, data: bytes) -> None:
    # Written aside and renamed, so a crash mid-write never leaves a truncated PEM that would be "reused" forever.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
