"""uvicorn's HTTP protocol with Nagle's algorithm off, for servers that run several processes
on one port (the web app and the tracking API): `uvicorn.run(..., workers=N, http=NO_DELAY_HTTP)`.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol

#: What `uvicorn.run(http=...)` takes to use the protocol below.
NO_DELAY_HTTP = f"{__name__}:NoDelayHTTPProtocol"


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol with Nagle's algorithm off on every connection.

    The listening socket uvicorn shares between processes is made without a protocol number,
    so asyncio does not set TCP_NODELAY on the connections it accepts, and a response's
    separate header and body writes then wait on the client's delayed ACK (about 40 ms).
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
