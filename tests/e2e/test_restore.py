"""restore on the sandbox, after a real backup of `example` on `source`: every object lands on
`destination` cleaned and accepted by the real CRDs, the HC carries one presigned URL that
serves the snapshot byte for byte, re-runs change nothing, and every refusal changes nothing."""

from __future__ import annotations

import select
import socket
import ssl
import threading
from pathlib import Path


class TlsFront:
    """HTTPS in front of the sandbox's plain-HTTP S3, passing bytes through unchanged.

    HyperShift accepts only https:// restore URLs, and the sandbox serves S3 over HTTP. The
    Host header reaches S3 as the client sent it, so SigV4 signatures made for this address
    verify there.
    """

    def __init__(self, upstream: tuple[str, int], cert: Path, key: Path) -> None:
        self.upstream = upstream
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(cert), str(key))
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.sock.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        # One thread per connection and no concurrent use of the TLS socket: OpenSSL objects
        # must not be read and written from two threads at once.
        try:
            conn.settimeout(30)
            with self.ctx.wrap_socket(conn, server_side=True) as tls, socket.create_connection(self.upstream) as up:
                tls.settimeout(None)
                while True:
                    ready, _, _ = select.select([tls, up], [], [], 120)
                    if not ready or not all(self._relay(s, up if s is tls else tls) for s in ready):
                        return
        except OSError:
            return
        finally:
            conn.close()

    @staticmethod
    def _relay(src: socket.socket, dst: socket.socket) -> bool:
        data = src.recv(1 << 16)
        if not data:
            return False
        dst.sendall(data)
        # Bytes OpenSSL has already decrypted do not wake select up again.
        while isinstance(src, ssl.SSLSocket) and src.pending():
            dst.sendall(src.recv(src.pending()))
        return True
