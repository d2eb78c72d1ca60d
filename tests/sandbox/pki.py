"""Certificates for the sandbox, made with the openssl command line (EC keys: fast)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _key(path: Path) -> None:
    _openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-out", str(path), cwd=path.parent,
    )  # fmt: skip


def make_ca(dir_: Path, name: str) -> tuple[Path, Path]:
    dir_.mkdir(parents=True, exist_ok=True)
    key, crt = dir_ / f"{name}.key", dir_ / f"{name}.crt"
    _key(key)
    _openssl(
        "req", "-x509", "-new", "-key", str(key), "-out", str(crt), "-days", "3650",
        "-subj", f"/CN={name}", cwd=dir_,
    )  # fmt: skip
    return crt, key


def make_cert(
    dir_: Path,
    name: str,
    ca: tuple[Path, Path],
    *,
    cn: str,
    org: str | None = None,
    dns: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
) -> tuple[Path, Path]:
    """A leaf certificate good for both serving and client auth."""
    dir_.mkdir(parents=True, exist_ok=True)
    key, csr, crt = dir_ / f"{name}.key", dir_ / f"{name}.csr", dir_ / f"{name}.crt"
    ext = dir_ / f"{name}.ext"
    sans = [f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips]
    lines = [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth,clientAuth",
    ]
    if sans:
        lines.append("subjectAltName=" + ",".join(sans))
    ext.write_text("\n".join(lines) + "\n")
    subject = f"/CN={cn}" + (f"/O={org}" if org else "")
    _key(key)
    _openssl("req", "-new", "-key", str(key), "-out", str(csr), "-subj", subject, cwd=dir_)
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-out", str(crt), "-days", "3650", "-extfile", str(ext), cwd=dir_,
    )  # fmt: skip
    csr.unlink()
    ext.unlink()
    return crt, key


def make_keypair(dir_: Path, name: str) -> tuple[Path, Path]:
    """A bare key pair (the apiserver's service-account signing key)."""
    dir_.mkdir(parents=True, exist_ok=True)
    key, pub = dir_ / f"{name}.key", dir_ / f"{name}.pub"
    _key(key)
    _openssl("pkey", "-in", str(key), "-pubout", "-out", str(pub), cwd=dir_)
    return key, pub
