"""The simulator, in four layers; each imports only the layers below it (and ``quorum.core`` /
``quorum.testing``, never ``quorum.live``):

- :mod:`sim.story`: the scenario format and schema, the runner on the one world, the report and plots;
- :mod:`sim.years`: one replication over years (component processes, calendar, backups, common cause,
  structure, Tier presets); imports ``sim.story``;
- :mod:`sim.availability`: estimators, the exact CTMC, statistics, stopping, executors; imports the two
  above;
- :mod:`sim.studies`: compare, sweep and the entry points notebooks call; imports all three.

:mod:`sim.cli` (the ``quorum sim`` commands) sits on top. A test (``tests/test_purity.py``) enforces the
direction.
"""
