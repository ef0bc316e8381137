"""Hypothesis profiles: ``fast`` for ``make test``, ``deep`` for ``make deep-test``.

``fast`` is derandomized: every run of ``make test`` draws the same examples, so CI never fails by
chance. Random exploration lives in ``deep`` (``make deep-test``), where every counterexample found is
saved under ``tests/regressions/`` and then replayed by ``tests/test_regressions.py``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fast",
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    max_examples=20_000,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile("dev", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))
