"""A minimal DNS client: asks one DNS server (UDP) whether a hostname resolves, for `--resolver`.
Only an A query and the answer's record types are read: the handoff needs "resolves or gone",
not the addresses, and the project takes no DNS library for that."""

from __future__ import annotations

import secrets
import socket
import struct

from kubectl_hcmigrate.core.report import HcmigrateError

DEFAULT_PORT = 53
TIMEOUT = 2.0  # seconds per try: a resolver on the path answers in milliseconds
TRIES = 2  # UDP may drop one datagram; a second silence means the resolver is not there

TYPE_A, TYPE_CNAME, CLASS_IN = 1, 5, 1
RCODE_OK, RCODE_NXDOMAIN = 0, 3
RCODES = {1: "FORMERR", 2: "SERVFAIL", 4: "NOTIMP", 5: "REFUSED"}


def parse_address(value: str) -> tuple[str, int]:
    """`ADDR[:PORT]` (an IPv6 address with a port as `[ADDR]:PORT`) -> (host, port); ValueError if malformed."""
    host, port = value.strip(), str(DEFAULT_PORT)
    if host.startswith("["):
        inner, sep, rest = host[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"{value!r} is not ADDR[:PORT]")
        host, port = inner, rest[1:] or port
    elif host.count(":") == 1:
        host, port = host.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not ADDR[:PORT] (a port from 1 to 65535)")
    return host, int(port)


def build_query(qid: int, name: str) -> bytes:
    """A recursion-desired query for the A record of `name`."""
    header = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(p)]) + p for p in (s.encode("idna") for s in name.rstrip(".").split(".")) if p)
    return header + labels + b"\x00" + struct.pack(">HH", TYPE_A, CLASS_IN)


def _skip_name(msg: bytes, i: int) -> int:
    """The offset after the (possibly compressed) name at `i`."""
    while True:
        n = msg[i]
        if n & 0xC0 == 0xC0:  # a pointer ends the name in two bytes
            return i + 2
        if n == 0:
            return i + 1
        i += 1 + n


def answer_resolves(msg: bytes) -> bool:
    """Whether a response answers with an A or a CNAME record (NXDOMAIN or no answer: gone).
    IndexError/struct.error on a malformed response, ValueError on a failing rcode."""
    _, flags, qd, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
    rcode = flags & 0x000F
    if rcode == RCODE_NXDOMAIN:
        return False
    if rcode != RCODE_OK:
        raise ValueError(f"answered {RCODES.get(rcode, f'rcode {rcode}')}")
    i = 12
    for _ in range(qd):
        i = _skip_name(msg, i) + 4
    for _ in range(an):
        i = _skip_name(msg, i)
        rtype, _, _, rdlength = struct.unpack(">HHIH", msg[i : i + 10])
        if rtype in (TYPE_A, TYPE_CNAME):
            return True
        i += 10 + rdlength
    return False


def _exchange(sock: socket.socket, qid: int, query: bytes) -> bytes | None:
    """One try: the response with our id, or None after TIMEOUT (a stray datagram is ignored)."""
    sock.send(query)
    sock.settimeout(TIMEOUT)
    try:
        while True:
            msg = sock.recv(4096)
            if len(msg) >= 12 and struct.unpack(">H", msg[:2])[0] == qid and msg[2] & 0x80:
                return msg
    except TimeoutError:
        return None


def resolves(server: str, name: str) -> bool:
    """Whether `server` ("ADDR[:PORT]") resolves `name`; HcmigrateError naming the server when it
    does not answer, refuses, or answers with an error: a wait must fail, not take silence for "gone"."""
    host, port = parse_address(server)
    qid = secrets.randbelow(0x10000)
    query = build_query(qid, name)
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.connect(addr)  # a connected socket hears only this server (and its ICMP refusals)
            for _ in range(TRIES):
                if (msg := _exchange(sock, qid, query)) is not None:
                    return answer_resolves(msg)
    except (OSError, ValueError, IndexError, struct.error) as e:
        why = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}".rstrip(": ")
        raise HcmigrateError(f"the resolver {server} failed for {name}: {why}") from None
    raise HcmigrateError(f"the resolver {server} did not answer for {name} ({TRIES} tries of {TIMEOUT:.0f}s)")
