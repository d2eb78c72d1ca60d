"""`--resolver`: the records as one DNS server answers them. A tiny DNS server on 127.0.0.1 answers
each name the way a real one does (an A record, a CNAME chain, NXDOMAIN, an empty answer, an error,
or silence), so the client's reading of each answer is proven over real UDP."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from kubectl_hcmigrate.adapters import dns_query
from kubectl_hcmigrate.adapters.cloud import ResolvedRecords, records_for
from kubectl_hcmigrate.core.options import CloudTarget
from kubectl_hcmigrate.core.report import HcmigrateError


def _name(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"


def _rr(rtype: int, rdata: bytes) -> bytes:
    # the owner name as a pointer to the question (offset 12), as servers compress it
    return b"\xc0\x0c" + struct.pack(">HHIH", rtype, 1, 60, len(rdata)) + rdata


# name -> (rcode, answer records); a name not here gets no response at all
ZONE: dict[str, tuple[int, list[bytes]]] = {
    "api.a.example.com": (0, [_rr(1, bytes([10, 0, 0, 1]))]),
    "api.cname.example.com": (0, [_rr(5, _name("elb.aws.example.net")), _rr(1, bytes([10, 0, 0, 2]))]),
    "only-cname.example.com": (0, [_rr(5, _name("gone.example.net"))]),
    "api.nx.example.com": (3, []),
    "api.empty.example.com": (0, [_rr(16, b"\x03txt")]),  # NOERROR with no A/CNAME: nothing to reach
    "api.servfail.example.com": (2, []),
}


class Server:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.sock.settimeout(0.05)  # closing a socket does not wake its recvfrom: the loop looks at `stop`
        self.stop = threading.Event()
        self.asked: list[str] = []

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                query, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            end = query.index(b"\x00", 12)
            labels, i = [], 12
            while i < end:
                labels.append(query[i + 1 : i + 1 + query[i]].decode())
                i += 1 + query[i]
            name = ".".join(labels)
            self.asked.append(name)
            if name not in ZONE:
                continue  # silence: a resolver that is not there, or drops the question
            rcode, answers = ZONE[name]
            header = struct.pack(">HHHHHH", struct.unpack(">H", query[:2])[0], 0x8180 | rcode, 1, len(answers), 0, 0)
            self.sock.sendto(header + query[12 : end + 5] + b"".join(answers), peer)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setattr(dns_query, "TIMEOUT", 0.2)  # the silence test waits TRIES of these
    s = Server()
    thread = threading.Thread(target=s.serve, daemon=True)
    thread.start()
    yield s
    s.stop.set()
    thread.join(2)
    s.sock.close()


@pytest.mark.parametrize(
    ("name", "resolves"),
    [
        ("api.a.example.com", True),
        ("api.cname.example.com", True),
        ("only-cname.example.com", True),
        ("api.nx.example.com", False),
        ("api.empty.example.com", False),
    ],
)
def test_answer_read_as_resolves_or_gone(server: Server, name: str, resolves: bool) -> None:
    assert dns_query.resolves(server.address, name) is resolves
    assert server.asked == [name]


def test_silent_resolver_fails_naming_it_after_its_tries(server: Server) -> None:
    with pytest.raises(HcmigrateError, match=rf"the resolver {server.address} did not answer for api.silent"):
        dns_query.resolves(server.address, "api.silent.example.com")
    assert server.asked == ["api.silent.example.com"] * dns_query.TRIES


def test_error_answer_fails_naming_the_resolver(server: Server) -> None:
    with pytest.raises(HcmigrateError, match=rf"the resolver {server.address} failed for .*: answered SERVFAIL"):
        dns_query.resolves(server.address, "api.servfail.example.com")


def test_nothing_listening_fails_naming_the_resolver() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    # the port is closed now: the refusal (or, off loopback, the silence) is an error, never "gone"
    with pytest.raises(HcmigrateError, match=rf"the resolver {address} "):
        dns_query.resolves(address, "api.a.example.com")


def test_records_for_asks_the_resolver_given(server: Server) -> None:
    records = records_for(CloudTarget(resolver=server.address))
    assert isinstance(records, ResolvedRecords)
    assert records.describe() == f"the resolver {server.address}"
    hosts = ["api.a.example.com", "api.nx.example.com", "api.cname.example.com"]
    assert records.owners(hosts) == {"api.a.example.com": None, "api.cname.example.com": None}
    assert records_for(CloudTarget()).describe() == "the system resolver"


def test_records_wait_cannot_take_silence_for_gone(server: Server) -> None:
    """The handoff's wait asks owners() each poll: an unreachable resolver fails it, not 'gone'."""
    with pytest.raises(HcmigrateError, match="did not answer"):
        records_for(CloudTarget(resolver=server.address)).owners(["api.silent.example.com"])


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("10.0.0.2", ("10.0.0.2", 53)), ("10.0.0.2:5353", ("10.0.0.2", 5353)), ("[::1]:54", ("::1", 54)),
     ("::1", ("::1", 53)), ("[fd00::2]", ("fd00::2", 53))],
)  # fmt: skip
def test_parse_address(value: str, parsed: tuple[str, int]) -> None:
    assert dns_query.parse_address(value) == parsed


@pytest.mark.parametrize("value", ["", ":53", "10.0.0.2:", "10.0.0.2:0", "10.0.0.2:99999", "[::1", "[::1]x"])
def test_parse_address_refuses_malformed(value: str) -> None:
    with pytest.raises(ValueError, match="ADDR"):
        dns_query.parse_address(value)


def test_query_is_an_a_question_with_recursion() -> None:
    q = dns_query.build_query(0x1234, "api.example.com.")
    assert q[:4] == b"\x12\x34\x01\x00" and q[12:] == _name("api.example.com") + b"\x00\x01\x00\x01"
