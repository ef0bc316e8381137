"""A fault-injecting TCP proxy for the lab: one listener per directed link, cut and healed at will.

A cut link closes its open connections and closes every new one at once (the client sees a reset,
like a dropped route). Runs on its own asyncio loop in a daemon thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field


@dataclass
class Link:
    name: str
    port: int
    target: int
    up: bool = True
    conns: set[asyncio.StreamWriter] = field(default_factory=set)


class FaultProxy:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.links: dict[str, Link] = {}
        self.servers: list[asyncio.base_events.Server] = []
        self.thread = threading.Thread(target=self.loop.run_forever, name="fault-proxy", daemon=True)
        self.thread.start()

    def add(self, name: str, target: int) -> int:
        """Listen on a free 127.0.0.1 port forwarding to ``target``; returns the port."""

        async def start() -> int:
            link = Link(name, 0, target)
            server = await asyncio.start_server(lambda r, w: self._client(link, r, w), "127.0.0.1", 0)
            link.port = server.sockets[0].getsockname()[1]
            self.servers.append(server)
            self.links[name] = link
            return link.port

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(5)

    def set(self, name: str, up: bool) -> None:
        async def apply() -> None:
            link = self.links[name]
            link.up = up
            if not up:
                for w in list(link.conns):
                    w.close()
                link.conns.clear()

        asyncio.run_coroutine_threadsafe(apply(), self.loop).result(5)

    async def _client(self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not link.up:
            writer.close()
            return
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", link.target)
        except OSError:
            writer.close()
            return
        link.conns.update((writer, uw))

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while link.up:
                    data = await r.read(65536)
                    if not data or not link.up:
                        break
                    w.write(data)
                    await w.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                w.close()

        await asyncio.gather(pipe(reader, uw), pipe(ur, writer))
        link.conns.discard(writer)
        link.conns.discard(uw)

    def close(self) -> None:
        async def stop() -> None:
            for s in self.servers:
                s.close()
            for link in self.links.values():
                for w in link.conns:
                    w.close()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
