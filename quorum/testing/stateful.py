"""A hypothesis ``RuleBasedStateMachine`` over the in-memory driver (ship-with-the-library style).

Each rule injects one fault *now* or lets time pass; S1-S3 are ``@invariant``s checked after every
step; at teardown every fault is repaired and L1 is checked. Use it on your own configuration::

    from quorum.core import QuorumConfig
    from quorum.testing import make_state_machine

    TestMine = make_state_machine(QuorumConfig(policy="majority")).TestCase
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from quorum.core.config import QuorumConfig
from quorum.testing.driver import Driver
from quorum.testing.invariants import SAFETY
from quorum.testing.schedule import HealAll, Restart, Schedule, Step
from quorum.testing.strategies import fault_steps


def make_state_machine(config: QuorumConfig, *, drift: str = "within") -> type[RuleBasedStateMachine]:
    """Build a state machine class checking ``config``; its ``TestCase`` runs under pytest."""

    class QuorumMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.driver = Driver(config, Schedule(seed=0), trace=True)

        @initialize(seed=st.integers(0, 2**16))
        def seed_network(self, seed: int) -> None:
            import random

            self.driver.rng_net = random.Random(f"{seed}:network")

        @rule(step=fault_steps(config, horizon=0.0, drift=drift))
        def fault(self, step: Step) -> None:
            self.driver.inject(step.model_copy(update={"at": self.driver.now}))

        @rule(seconds=st.integers(1, 150).map(lambda n: n / 10))
        def wait(self, seconds: float) -> None:
            self.driver.advance(self.driver.now + seconds)

        @precondition(lambda self: self.driver.now > 0)
        @rule()
        def wait_a_lease(self) -> None:
            self.driver.advance(self.driver.now + config.lease_duration)

        @invariant()
        def safety(self) -> None:
            bad = [v for v in self.driver.checker.violations if v.property in SAFETY]
            assert not bad, self._explain(bad)

        def _explain(self, bad: Sequence[object]) -> str:
            lines = [f"{e.t:9.3f} {e.kind:<9} {e.node:<2} {e.text}" for e in self.driver.trace]
            return f"{bad}\n" + "\n".join(lines[-40:])

        def teardown(self) -> None:
            d = self.driver
            if d.checker.stop:
                return
            d.crash_after_persist.clear()  # every fault is repaired: a pending crash too
            d.inject(HealAll(at=d.now))
            for node in ("W", "A", "B"):
                d.inject(Restart(at=d.now, node=node))
            # the heal stops pending flaps; a fault that lasts beyond now (a pause, an unhealthy
            # window...) keeps the last fault where it is: never move it backwards
            d.last_fault_at = max(d.last_fault_at, d.now, *d.paused_until.values())
            d.advance(d.last_fault_at + config.liveness_bound())
            d.checker.check_liveness()
            bad = [v for v in d.checker.violations if v.property in (*SAFETY, "L1")]
            assert not bad, self._explain(bad)

    QuorumMachine.__name__ = f"QuorumMachine_{config.policy.value.replace('-', '_')}"
    return QuorumMachine
