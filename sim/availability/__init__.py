"""Availability statistics: estimators, the exact CTMC of the structure, Student intervals, stopping rules
and the executors that run replications (local processes, Dask). Imports :mod:`sim.story` and
:mod:`sim.years`, never :mod:`sim.studies`."""
