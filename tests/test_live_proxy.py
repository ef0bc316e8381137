"""The lab's fault-injecting proxy: packet loss becomes TCP retransmission delay, never lost data.

Outcomes only (how much traffic was held back, that every byte arrived in order), never durations:
the retransmission timeouts are shrunk to a millisecond so the test is fast on a loaded machine.
"""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Iterator

import pytest

from quorum.live.proxy import FaultProxy, Loss


@pytest.fixture
def echo() -> Iterator[int]:
    """A TCP echo server on 127.0.0.1 (one thread per connection); yields its port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)

    def serve(c: socket.socket) -> None:
        with c:
            while data := c.recv(65536):
                c.sendall(data)

    def accept() -> None:
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield srv.getsockname()[1]
    finally:
        srv.close()


def exchange(port: int, messages: int) -> list[bytes]:
    """Send ``messages`` numbered lines one at a time over one connection; return what came back."""
    got: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        f = s.makefile("rb")
        for i in range(messages):
            s.sendall(b"heartbeat %d\n" % i)
            got.append(f.readline())
    return got


def test_loss_delays_a_fraction_of_chunks_and_loses_no_data(echo: int) -> None:
    """20 % loss, fixed seed: about a fifth of the chunks are held back, every byte arrives in order."""
    proxy = FaultProxy()
    try:
        port = proxy.add("L", echo)
        proxy.set_loss("L", 0.2, seed=42, rto=0.001, syn_rto=0.001)
        got = exchange(port, 300)
        assert got == [b"heartbeat %d\n" % i for i in range(300)]
        st = proxy.stats("L")
        assert st.chunks == st.chunks_lossy == 600  # one chunk each way per message
        assert 0.12 < st.chunks_delayed / st.chunks < 0.28
        assert st.delay_s > 0
    finally:
        proxy.close()


def test_loss_delays_handshakes_and_zero_heals(echo: int) -> None:
    """Handshakes are held back too (SYN or SYN-ACK lost); loss 0 forwards everything at once."""
    proxy = FaultProxy()
    try:
        port = proxy.add("L", echo)
        proxy.set_loss("L", 0.2, seed=7, rto=0.001, syn_rto=0.001)
        for _ in range(40):
            assert exchange(port, 1) == [b"heartbeat 0\n"]
        st = proxy.stats("L")
        assert st.connects == 40 and 0 < st.connects_delayed < 40
        proxy.set_loss("L", 0.0)
        before = proxy.stats("L")
        assert exchange(port, 50) == [b"heartbeat %d\n" % i for i in range(50)]
        after = proxy.stats("L")
        assert after.chunks == before.chunks + 100 and after.chunks_lossy == before.chunks_lossy
        assert after.chunks_delayed == before.chunks_delayed and after.connects_delayed == st.connects_delayed
        with pytest.raises(ValueError):
            proxy.set_loss("L", 1.0)
    finally:
        proxy.close()


def test_loss_draws_come_from_the_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same seed, same delays (no global random); the delays are TCP's back-off, rto·(2^k − 1)."""

    def no_global(*_: object) -> float:
        raise AssertionError("the global random generator was used")

    monkeypatch.setattr(random, "random", no_global)
    a = Loss(0.2, random.Random(3))
    b = Loss(0.2, random.Random(3))
    da = [a.chunk_delay(100) for _ in range(500)]
    assert da == [b.chunk_delay(100) for _ in range(500)]
    allowed = {0.2 * (2**k - 1) for k in range(7)}
    assert all(any(abs(d - x) < 1e-9 for x in allowed) for d in da)
    assert 0 < sum(d > 0 for d in da) < 500
    assert max(Loss(0.2, random.Random(3)).chunk_delay(1448 * 20) for _ in range(50)) > 0  # 20 segments
    c = Loss(0.2, random.Random(4))
    assert [c.chunk_delay(100) for _ in range(500)] != da  # another seed, other draws
    quiet = Loss(0.0, random.Random(5))
    assert {quiet.chunk_delay(65536) for _ in range(100)} | {quiet.connect_delay() for _ in range(100)} == {
        0.0
    }


def test_cut_during_a_held_back_chunk_closes_the_connection(echo: int) -> None:
    """A link cut while a chunk waits for its retransmission forwards nothing more (the cut wins)."""
    proxy = FaultProxy()
    try:
        port = proxy.add("L", echo)
        proxy.set_loss("L", 0.99, seed=1, rto=0.5, syn_rto=0.001)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"x\n")
            proxy.set("L", False)
            s.settimeout(30)
            try:
                data = s.recv(10)
            except (ConnectionResetError, TimeoutError):
                data = b""
            assert data == b""
    finally:
        proxy.close()
