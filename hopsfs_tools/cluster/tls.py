"""TLS material for a local cluster's HTTPS endpoints: a self-signed CA and a server certificate.

Hadoop's HTTP servers read a PKCS12 keystore named in ssl-server.xml; Java clients (swebhdfs)
trust a PKCS12 truststore named in ssl-client.xml; Python clients trust the CA's PEM file
(`ca_cert=` / HOPSFS_CA_CERT). Everything is generated with `cryptography` (extra `[tls]`).
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_HOSTS = ("localhost", "127.0.0.1")
_VALID_DAYS = 30


@dataclass(frozen=True)
class TlsMaterial:
    """Where a cluster's CA, keystore and truststore are, and the names its certificate covers."""

    directory: str
    hosts: tuple[str, ...]
    password: str  # of the keystore, its key and the truststore

    @property
    def ca_cert(self) -> Path:
        """The CA certificate (PEM) clients verify the cluster's HTTPS servers against."""
        return Path(self.directory) / "ca.pem"

    @property
    def keystore(self) -> Path:
        """The servers' private key and certificate chain (PKCS12)."""
        return Path(self.directory) / "keystore.p12"

    @property
    def truststore(self) -> Path:
        """The CA as a Java truststore (PKCS12), for Java clients."""
        return Path(self.directory) / "truststore.p12"

    @classmethod
    def create(
        cls, directory: str | Path, hosts: tuple[str, ...] | list[str] = DEFAULT_HOSTS
    ) -> TlsMaterial:
        """Generate a CA and a certificate it signs for `hosts` (DNS names or IP addresses)."""
        try:
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.serialization import pkcs12
            from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
        except ImportError as e:
            raise ImportError(
                "generating TLS material needs `cryptography`: pip install 'hopsfs-tools[tls]'"
            ) from e
        if not hosts:
            raise ValueError("a TLS certificate needs at least one host name or IP address")
        material = cls(str(Path(directory).resolve()), tuple(hosts), secrets.token_urlsafe(18))
        Path(material.directory).mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.UTC)

        def certificate(
            subject: str,
            key: ec.EllipticCurvePrivateKey,
            issuer: x509.Name | None,
            signer: ec.EllipticCurvePrivateKey,
            ca: bool,
        ) -> x509.Certificate:
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
            builder = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(issuer or name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            )
            if not ca:
                builder = builder.add_extension(
                    x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False
                ).add_extension(
                    x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
                )
            return builder.sign(signer, hashes.SHA256())

        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = (
            f"hopsfs-tools local CA {secrets.token_hex(4)}"  # unique: never mistaken for another
        )
        ca = certificate(ca_name, ca_key, None, ca_key, ca=True)
        key = ec.generate_private_key(ec.SECP256R1())
        server = certificate(hosts[0], key, ca.subject, ca_key, ca=False)
        secret = serialization.BestAvailableEncryption(material.password.encode())
        material.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        material.keystore.write_bytes(
            pkcs12.serialize_key_and_certificates(b"server", key, server, [ca], secret)
        )
        material.truststore.write_bytes(
            pkcs12.serialize_java_truststore([pkcs12.PKCS12Certificate(ca, b"ca")], secret)
        )
        return material

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TlsMaterial:
        """The material described by `to_dict()` (as kept in a cluster's state file)."""
        return cls(data["directory"], tuple(data["hosts"]), data["password"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def ssl_server_properties(self) -> dict[str, str]:
        """ssl-server.xml: the keystore Hadoop's HTTPS servers present."""
        return {
            "ssl.server.keystore.type": "pkcs12",
            "ssl.server.keystore.location": str(self.keystore),
            "ssl.server.keystore.password": self.password,
            "ssl.server.keystore.keypassword": self.password,
            "ssl.server.truststore.type": "pkcs12",
            "ssl.server.truststore.location": str(self.truststore),
            "ssl.server.truststore.password": self.password,
        }

    def ssl_client_properties(self) -> dict[str, str]:
        """ssl-client.xml: the truststore Hadoop's Java HTTPS clients verify servers with."""
        return {
            "ssl.client.truststore.type": "pkcs12",
            "ssl.client.truststore.location": str(self.truststore),
            "ssl.client.truststore.password": self.password,
        }


def _general_name(host: str) -> Any:
    """A subjectAltName entry: an IP address for an IP literal, else a DNS name."""
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)
