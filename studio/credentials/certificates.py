"""The certificate and key the studio signs content credentials with.

Either the creator's own (``STUDIO_C2PA_CERT`` / ``STUDIO_C2PA_KEY``: PEM text or the path of a
PEM file; the certificate file holds the chain, signing certificate first), or one made here on
first use and kept under ``STUDIO_HOME/c2pa/`` (key mode 0600). A certificate made here is a
valid signature that no trust list knows: a reader says "valid" but never "trusted".

The key only ever lives in the worker's memory and in its file: it is read where signing
happens and never enters a workflow payload, the catalog, a log or an error message.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import SecretBytes

from studio.credentials.errors import CredentialsError
from studio.settings import Settings

FOLDER = "c2pa"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
SELF_MADE_YEARS = 10
_CURVES = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}


@dataclass(frozen=True)
class Signing:
    """Everything needed to sign: made by :func:`signing_from_settings`, handed to publishing.

    Attributes:
        cert_pem: The certificate chain, signing certificate first.
        key: The private key (PEM); a secret, so its repr never shows it.
        algorithm: ``"es256"``, ``"es384"``, ``"es512"``, ``"ps256"`` or ``"ed25519"``, from the key.
        tsa_url: A timestamp authority to ask at each signing, or ``None`` (no network).
        self_made: Whether the certificate was made by this install (valid but untrusted).
        serial: The signing certificate's serial number, as the C2PA reader prints it.
    """

    cert_pem: bytes
    key: SecretBytes = field(repr=False)
    algorithm: str
    tsa_url: str | None
    self_made: bool
    serial: str


def signing_from_settings(settings: Settings) -> Signing:
    """The creator's certificate from the settings, else this install's own (made once).

    Raises:
        CredentialsError: Only one of the two settings is set, a file is missing, or the
            certificate and key cannot be read or do not belong together.
    """
    tsa = settings.c2pa_tsa_url or None
    if settings.c2pa_cert is None and settings.c2pa_key is None:
        cert_pem, key_pem = self_made_certificate(settings.home / FOLDER)
        return _signing(cert_pem, key_pem, tsa, self_made=True)
    if settings.c2pa_cert is None or settings.c2pa_key is None:
        missing = "STUDIO_C2PA_KEY" if settings.c2pa_key is None else "STUDIO_C2PA_CERT"
        raise CredentialsError("certificate", f"{missing} is not set (set both, or neither for a self-made one)")
    cert_pem = _pem(settings.c2pa_cert, "STUDIO_C2PA_CERT")
    key_pem = _pem(settings.c2pa_key.get_secret_value(), "STUDIO_C2PA_KEY")
    return _signing(cert_pem, key_pem, tsa, self_made=False)


def self_made_certificate(folder: Path) -> tuple[bytes, bytes]:
    """This install's certificate chain and key (PEM), made on first use in ``folder``.

    Two processes that start together make one each; the first to rename its folder into
    place wins and both read that one back, so every worker signs with the same key.
    """
    cert, key = folder / CERT_FILE, folder / KEY_FILE
    if not (cert.exists() and key.exists()):
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-c2pa-"))  # mode 0700
        try:
            chain, private = _make_chain()
            (staging / CERT_FILE).write_bytes(chain)
            descriptor = os.open(staging / KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(private)
            os.rename(staging, folder)
        except OSError:
            if not key.exists():  # not a lost race: a real failure
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return cert.read_bytes(), key.read_bytes()


def _signing(cert_pem: bytes, key_pem: bytes, tsa_url: str | None, *, self_made: bool) -> Signing:
    try:
        chain = x509.load_pem_x509_certificates(cert_pem)
    except ValueError as err:
        raise CredentialsError("certificate", f"the certificate is not PEM ({err})") from None
    try:
        private = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        # The parser's own words could quote the key's text; say only what is wrong.
        raise CredentialsError("certificate", "the key is not an unencrypted PEM private key") from None
    if private.public_key() != chain[0].public_key():
        raise CredentialsError("certificate", "the key does not belong to the first certificate")
    return Signing(cert_pem, SecretBytes(key_pem), _algorithm(private), tsa_url, self_made, str(chain[0].serial_number))


def _algorithm(private: object) -> str:
    if isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name in _CURVES:
        return _CURVES[private.curve.name]
    if isinstance(private, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise CredentialsError("certificate", "the key must be EC (P-256, P-384, P-521), RSA or Ed25519")


def _pem(value: str, name: str) -> bytes:
    """PEM text given inline, or read from the file ``value`` names."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode()
    path = Path(value).expanduser()
    try:
        return path.read_bytes()
    except OSError as err:
        raise CredentialsError("certificate", f"{name}: cannot read {path} ({err.strerror or err})") from None


def _make_chain() -> tuple[bytes, bytes]:
    """A root and a signing certificate under it (C2PA refuses a self-signed signing certificate)."""
    tag = secrets.token_hex(3)
    root_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"studio install {tag} root")
    root = _certificate(root_name, root_name, root_key.public_key(), root_key, ca=True)
    leaf = _certificate(_name(f"studio install {tag}"), root_name, key.public_key(), root_key, ca=False)
    chain = leaf.public_bytes(serialization.Encoding.PEM) + root.public_bytes(serialization.Encoding.PEM)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain, private


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "the studio (self-made, untrusted)"),
        ]
    )


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public: ec.EllipticCurvePublicKey,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    """One certificate with the extensions the C2PA certificate profile asks for."""
    now = datetime.now(UTC)
    usage = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "encipher_only"), False
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))  # a clock a little behind still accepts it
        .not_valid_after(now + timedelta(days=365 * SELF_MADE_YEARS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, decipher_only=False, **usage),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        ).add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
    return builder.sign(signer, hashes.SHA256())
