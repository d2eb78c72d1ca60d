"""The HC's OIDC issuer (T17): where its discovery and JWKS documents live, and their contents,
derived from the HCP's `sa-signing-key` as HyperShift's operator writes them (support/oidc). The
key is read with a small DER reader: the zipapp carries no compiled crypto library."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import urlparse

DISCOVERY, JWKS = ".well-known/openid-configuration", "openid/v1/jwks"
SIGNING_KEY_SECRET = "sa-signing-key"
_RSA_OID = bytes.fromhex("06092a864886f70d010101")  # 1.2.840.113549.1.1.1, DER-encoded


def location(issuer_url: str, bucket: str | None = None) -> tuple[str, list[str]]:
    """(bucket, [discovery key, JWKS key]) for an issuer `https://<bucket>.s3.<region>.amazonaws.com/<path>`
    (or any host fronting a bucket of its name; `bucket` overrides)."""
    u = urlparse(issuer_url)
    host = u.hostname or ""
    name = bucket or (host.split(".s3.", 1)[0] if ".s3." in host or host.endswith(".s3.amazonaws.com") else host)
    prefix = u.path.strip("/")
    return name, [f"{prefix}/{DISCOVERY}" if prefix else DISCOVERY, f"{prefix}/{JWKS}" if prefix else JWKS]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tlv(der: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, value, next offset) of the DER element at `at`."""
    tag, length, at = der[at], der[at + 1], at + 2
    if length & 0x80:
        n = length & 0x7F
        length, at = int.from_bytes(der[at : at + n], "big"), at + n
    return tag, der[at : at + length], at + length


def _children(der: bytes) -> list[tuple[int, bytes]]:
    out, at = [], 0
    while at < len(der):
        tag, value, at = _tlv(der, at)
        out.append((tag, value))
    return out


def _encode(tag: int, value: bytes) -> bytes:
    n = len(value)
    size = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + size + value


def _int(n: int) -> bytes:
    return _encode(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big"))  # a leading 0 keeps it positive


def rsa_public(pem: str) -> tuple[int, int]:
    """(n, e) of an RSA key in PEM: PKCS#1 or PKCS#8 private, PKCS#1 or SubjectPublicKeyInfo public."""
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    try:
        seq = _children(base64.b64decode(body))[0][1]
        parts = _children(seq)
        if parts[0][0] == 0x30 and parts[1][0] == 0x03:  # SubjectPublicKeyInfo: the key in a BIT STRING
            parts = _children(_children(parts[1][1][1:])[0][1])
            return int.from_bytes(parts[0][1], "big"), int.from_bytes(parts[1][1], "big")
        if parts[0][0] == 0x02 and len(parts) == 3 and parts[1][0] == 0x30:  # PKCS#8: PKCS#1 in an OCTET STRING
            parts = _children(_children(parts[2][1])[0][1])
        if all(tag == 0x02 for tag, _ in parts) and len(parts) in (2, 9, 10):
            i = 0 if len(parts) == 2 else 1  # a PKCS#1 public key is (n, e); a private one starts with its version
            return int.from_bytes(parts[i][1], "big"), int.from_bytes(parts[i + 1][1], "big")
    except (ValueError, IndexError) as e:
        raise ValueError(f"not an RSA key in PEM ({e})") from None
    raise ValueError("not an RSA key in PEM")


def key_id(n: int, e: int) -> str:
    """Kubernetes' kid: base64url(sha256(the SubjectPublicKeyInfo DER of the key))."""
    spki = _encode(
        0x30, _encode(0x30, _RSA_OID + b"\x05\x00") + _encode(0x03, b"\x00" + _encode(0x30, _int(n) + _int(e)))
    )
    return _b64url(hashlib.sha256(spki).digest())


def documents(issuer_url: str, signing_key_pem: str) -> tuple[bytes, bytes]:
    """(discovery document, JWKS document) for the issuer, as HyperShift's operator writes them."""
    n, e = rsa_public(signing_key_pem)
    issuer = issuer_url.rstrip("/")
    discovery = {
        "issuer": issuer, "jwks_uri": f"{issuer}/{JWKS}", "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
    }  # fmt: skip
    key = {"use": "sig", "kty": "RSA", "kid": key_id(n, e), "alg": "RS256",
           "n": _b64url(n.to_bytes((n.bit_length() + 7) // 8, "big")),
           "e": _b64url(e.to_bytes((e.bit_length() + 7) // 8, "big"))}  # fmt: skip
    return json.dumps(discovery, indent=2).encode(), json.dumps({"keys": [key]}, indent=2).encode()
