"""Configuration validation: bad values are refused with a message naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from quorum.core import Policy, QuorumConfig


def test_defaults_match_the_reference_targets() -> None:
    """Defaults: 1 s heartbeat, 3 misses, 10 s lease that the holder stops using at 7 s."""
    c = QuorumConfig()
    assert c.policy is Policy.WITNESS_PREFERRED
    assert (c.heartbeat_interval, c.miss_threshold, c.lease_duration) == (1.0, 3, 10.0)
    assert c.lease_duration - c.lease_margin == 7.0
    assert c.consistency.value == "synchronous"


def test_margin_below_drift_bound_is_refused() -> None:
    """A lease margin smaller than lease*drift could let a slow holder outlive its lease."""
    with pytest.raises(ValidationError, match="lease_margin"):
        QuorumConfig(lease_duration=10, lease_margin=0.05, max_clock_drift=0.01)


def test_unknown_field_and_bad_policy_are_refused() -> None:
    with pytest.raises(ValidationError, match="lease_duraton"):
        QuorumConfig.model_validate({"lease_duraton": 5})
    with pytest.raises(ValidationError, match="policy"):
        QuorumConfig.model_validate({"policy": "coin-flip"})


def test_pre_election_needs_a_witness() -> None:
    with pytest.raises(ValidationError, match="pre_election"):
        QuorumConfig(policy="static-preferred", pre_election=True)


def test_lease_must_leave_room_to_renew() -> None:
    with pytest.raises(ValidationError, match="renew"):
        QuorumConfig(lease_duration=3, lease_margin=1, heartbeat_interval=1)


def test_liveness_bound_grows_with_the_lease() -> None:
    assert QuorumConfig(lease_duration=20, lease_margin=6).liveness_bound() > QuorumConfig().liveness_bound()


def test_options_that_would_do_nothing_are_refused() -> None:
    """Issue 14 item 5: under witness-race the first request wins before any tie rule, so
    keep_active_partition and auto_failback did nothing (three cuts moved service B, A, B, A with
    keep_active_partition on); without a witness there is no tie rule at all. Each combination is a
    configuration error naming the option; with pre_election they pick the proposer, so they are allowed."""
    import pytest
    from pydantic import ValidationError

    from quorum.core import QuorumConfig

    with pytest.raises(ValidationError, match="auto_failback=true has no effect under policy=witness-race"):
        QuorumConfig(policy="witness-race", auto_failback=True)
    assert QuorumConfig(policy="witness-race", pre_election=True, auto_failback=True).auto_failback
    for option in ("keep_active_partition", "auto_failback"):
        for policy in ("static-preferred", "both-continue"):
            with pytest.raises(ValidationError, match=f"{option}=true has no effect under policy={policy}"):
                QuorumConfig(policy=policy, **{option: True})
        assert getattr(QuorumConfig(policy="majority", **{option: True}), option)
        assert getattr(QuorumConfig(policy="witness-preferred", **{option: True}), option)


def test_keep_active_partition_is_refused_under_the_race_even_with_pre_election(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 22 item 4: witness-race + pre_election + keep_active_partition was accepted, yet a flapping
    link moved service B>A>B>A (19 of 20 seeds of the scenario below) while the README promises no
    ping-pong. The combination is now refused with one line naming the fields, by every command."""
    from pydantic import ValidationError

    from quorum.cli import main
    from quorum.core import QuorumConfig

    for pre in (False, True):
        with pytest.raises(
            ValidationError, match="keep_active_partition=true cannot hold under policy=witness"
        ):
            QuorumConfig(policy="witness-race", pre_election=pre, keep_active_partition=True)
    sc = tmp_path / "flap.yaml"
    sc.write_text(
        "name: flap\nduration: 600\n"
        "quorum: {policy: witness-race, pre_election: true, keep_active_partition: true}\n"
        "faults:\n  - {at: 60, do: flap, link: ab, period: 40, count: 6}\n"
    )
    for argv in (["sim", "validate", str(sc)], ["check", "--config", str(sc), "--schedules", "1"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("quorum: error: "), err
        assert "keep_active_partition" in err[0] and "witness-race" in err[0], err


def test_a_refused_option_is_one_line_and_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`quorum check --config` with witness-race and keep_active_partition: one error line, exit 2."""
    from quorum.cli import main

    cfg = tmp_path / "race.yaml"
    cfg.write_text("policy: witness-race\nkeep_active_partition: true\n")
    assert main(["check", "--config", str(cfg), "--schedules", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "keep_active_partition=true cannot hold" in err[0]
