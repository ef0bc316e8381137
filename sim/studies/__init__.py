"""Studies: what notebooks and the CLI call, and the one place a notebook imports the simulator from.

The top layer of the simulator: it may import every layer below. Entry points, by question:

- a scenario file: :func:`load_scenario` (a path), :func:`parse_scenario` (text), :class:`Scenario`,
  :class:`Expect`, :func:`faults_from_schedule` (a checker counterexample as scenario faults);
- a story (message level): :func:`run_scenario`, :class:`Runner`; its pictures: :func:`figure`,
  :data:`COLOURS`;
- years of random failures: :func:`run_years` (``start="steady"`` or ``"new"``);
- availability with its interval: :func:`estimate` (plain, control, importance; ``auto`` chooses and says
  why), :func:`exact` (the CTMC of the structure, exponential laws), :class:`LocalExecutor`,
  :func:`interval` (Student interval over replications);
- the Tier presets: :data:`TIERS`, :func:`single_site`;
- designs side by side: :func:`designs`, :func:`compare`, :func:`evaluate`; a field varied:
  :func:`sweep`;
- pictures: :func:`availability_nines` (availability against the Tier figures), :func:`audit` (what a
  figure says that its figures do not: a bar on a log axis, labels over each other, an interval below
  zero).
"""

from sim.availability.ctmc import exact
from sim.availability.estimate import estimate
from sim.availability.executors import LocalExecutor
from sim.availability.replicate import interval
from sim.story.report import COLOURS, figure
from sim.story.runner import Runner, run_scenario
from sim.story.scenario import Expect, Scenario, faults_from_schedule, load_scenario, parse_scenario
from sim.studies.compare import compare, designs
from sim.studies.evaluate import evaluate
from sim.studies.figures import audit, availability_nines
from sim.studies.sweep import sweep
from sim.years.engine import run_years
from sim.years.tiers import TIERS, single_site

__all__ = [
    "COLOURS",
    "TIERS",
    "Expect",
    "LocalExecutor",
    "Runner",
    "Scenario",
    "audit",
    "availability_nines",
    "compare",
    "designs",
    "estimate",
    "evaluate",
    "exact",
    "faults_from_schedule",
    "figure",
    "interval",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
    "run_years",
    "single_site",
    "sweep",
]
