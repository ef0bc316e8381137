"""A fault-injecting TCP proxy for the lab: one listener per directed link, cut, healed or made lossy at will.

A cut link closes its open connections and closes every new one at once (the client sees a reset,
like a dropped route). Runs on its own asyncio loop in a daemon thread.

**Packet loss** (``set_loss(name, p, seed)``). The lab's traffic is HTTPS over TCP, and TCP does not lose
data when IP packets are lost: it retransmits them. What an application sees of IP loss is *latency*:
a lost segment arrives one retransmission timeout (RTO) later, a segment lost twice ``RTO + 2·RTO``
later (exponential back-off), and everything behind it on the same connection waits too (the byte
stream is in order). Only when the application's own timeout fires first (httpx's send timeout in
the agents) does a request fail — and it fails by the client closing its connection, not by a reset
from the network. The proxy models exactly that, per link and per direction:

* each chunk read from one side is cut into MSS-sized segments (1448 bytes); each segment is lost
  with probability ``p`` per transmission, independently, until one transmission gets through
  (at most ``max_retries`` losses); the chunk is forwarded after the longest of its segments'
  delays, ``rto·(2^k − 1)`` for ``k`` losses, counted from when it was read; a later chunk of the same
  direction goes at its own delay or together with the chunk ahead of it, whichever is later (the
  receiver delivers in order: head-of-line blocking, while the retransmission clocks run in parallel);
* a new connection's handshake (SYN, SYN-ACK) is lost with probability ``1 − (1 − p)²`` per
  attempt and retried after ``syn_rto·(2^k − 1)`` (Linux: 1 s initial SYN timeout), before the
  proxy connects upstream and forwards anything;
* no data is ever dropped and no connection is ever reset by the loss model (TCP would give up only
  after ~15 retransmissions, minutes).

The defaults are Linux's on a low-latency network: ``rto = 0.2`` s (``TCP_RTO_MIN``; a tail-loss
probe for a lone segment also waits about 200 ms) and ``syn_rto = 1.0`` s. Lost ACKs are not
modelled (cumulative ACKs hide most of them). Draws come from ``random.Random`` seeded per link from
the explicit ``seed``, never from the global generator.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import threading
from dataclasses import dataclass, field, replace


@dataclass
class Loss:
    """A lossy link: ``p`` per IP packet, turned into TCP retransmission delays (see the module doc)."""

    p: float
    rng: random.Random
    rto: float = 0.2
    syn_rto: float = 1.0
    mss: int = 1448
    max_retries: int = 6

    def _losses(self, q: float) -> int:
        k = 0
        while k < self.max_retries and self.rng.random() < q:
            k += 1
        return k

    def chunk_delay(self, nbytes: int) -> float:
        """Seconds until every segment of a chunk of ``nbytes`` has got through once."""
        worst = max(self._losses(self.p) for _ in range(max(1, math.ceil(nbytes / self.mss))))
        return self.rto * float(2**worst - 1)

    def connect_delay(self) -> float:
        """Seconds until a SYN and its SYN-ACK have both got through."""
        return self.syn_rto * float(2 ** self._losses(1 - (1 - self.p) ** 2) - 1)


@dataclass
class LinkStats:
    """Counters of one link: every chunk and connection, those that met the loss model, those it held back."""

    chunks: int = 0
    chunks_lossy: int = 0  # forwarded while the link was lossy
    chunks_delayed: int = 0
    connects: int = 0
    connects_lossy: int = 0
    connects_delayed: int = 0
    delay_s: float = 0.0


@dataclass
class Link:
    name: str
    port: int
    target: int
    up: bool = True
    loss: Loss | None = None
    stats: LinkStats = field(default_factory=LinkStats)
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

    def set_loss(self, name: str, p: float, seed: int = 0, rto: float = 0.2, syn_rto: float = 1.0) -> None:
        """Lose each packet of link ``name`` with probability ``p`` (0 heals); see the module doc."""
        if not 0.0 <= p < 1.0:
            raise ValueError(f"loss probability must be in [0, 1): {p}")

        async def apply() -> None:
            link = self.links[name]
            # str seeds are hashed deterministically (SHA-512), independent of PYTHONHASHSEED
            rng = random.Random(f"{seed}:{name}")
            link.loss = Loss(p, rng, rto=rto, syn_rto=syn_rto) if p > 0 else None

        asyncio.run_coroutine_threadsafe(apply(), self.loop).result(5)

    def stats(self, name: str) -> LinkStats:
        """A copy of the link's counters (also after ``close``)."""
        return replace(self.links[name].stats)

    async def _client(self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._relay(link, reader, writer)
        except asyncio.CancelledError:  # close(): end quietly (asyncio's stream callback would log it)
            writer.close()

    async def _relay(self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not link.up:
            writer.close()
            return
        link.conns.add(writer)
        link.stats.connects += 1
        if link.loss is not None:
            link.stats.connects_lossy += 1
            delay = link.loss.connect_delay()
            if delay > 0:
                link.stats.connects_delayed += 1
                link.stats.delay_s += delay
                await asyncio.sleep(delay)
            if not link.up:
                link.conns.discard(writer)
                writer.close()
                return
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", link.target)
        except OSError:
            link.conns.discard(writer)
            writer.close()
            return
        link.conns.update((writer, uw))

        await asyncio.gather(self._pipe(link, reader, uw), self._pipe(link, ur, writer))
        link.conns.discard(writer)
        link.conns.discard(uw)

    async def _pipe(self, link: Link, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        """One direction of a connection: read chunks as they come, each due at its own delay but never
        before the chunk ahead of it (TCP's receiver delivers in order); ``_forward`` writes them."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        forward = asyncio.create_task(self._forward(link, queue, w))
        last_due = 0.0
        try:
            while link.up:
                data = await r.read(65536)
                if not data or not link.up:
                    break
                link.stats.chunks += 1
                due = loop.time()
                if link.loss is not None:
                    link.stats.chunks_lossy += 1
                    delay = link.loss.chunk_delay(len(data))
                    if delay > 0:
                        link.stats.chunks_delayed += 1
                        link.stats.delay_s += delay
                        due += delay
                last_due = max(last_due, due)
                queue.put_nowait((last_due, data))
        except OSError:
            pass
        finally:
            queue.put_nowait(None)  # what was read still goes through, unless the link is cut
            await forward

    async def _forward(
        self, link: Link, queue: asyncio.Queue[tuple[float, bytes] | None], w: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            while (item := await queue.get()) is not None:
                due, data = item
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
                if not link.up:
                    break
                w.write(data)
                await w.drain()
        except OSError:
            pass
        finally:
            w.close()

    def close(self) -> None:
        async def stop() -> None:
            for s in self.servers:
                s.close()
            for link in self.links.values():
                for w in link.conns:
                    w.close()
            me = asyncio.current_task()
            pending = [t for t in asyncio.all_tasks() if t is not me]
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
