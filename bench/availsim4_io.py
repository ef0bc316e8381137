"""AvailSim4 2.2.1 inputs and results for the issue-11 benchmark (runs in the bench venv: needs openpyxl).

``python availsim4_io.py inputs DIR TIMELINES SEED`` writes ``DIR/system.xlsx`` (sites A and B: exponential
failures, mean 1,000 h, exponential repairs, mean 8 h; the witness: 2,000 h and 24 h; a 2oo3 root, so the
service is down while two of the three are down; every component repaired independently, as AvailSim4
does) and ``DIR/simulation.xlsx`` (TIMELINES Monte Carlo timelines of one year, 8,766 h, seed SEED).

``python availsim4_io.py result FILE`` prints the root's mean downtime per timeline (hours) and the standard
deviation AvailSim4 reports per row of its RESULTS sheet, as JSON. AvailSim4 prints no interval: the
interval computed from it combines the rows' standard deviations as if the rows were independent.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import openpyxl

YEAR_H = 8766


def _sheet(wb: openpyxl.Workbook, title: str, rows: list[tuple[object, ...]]) -> None:
    ws = wb.create_sheet(title)
    for r in rows:
        ws.append(list(r))


def inputs(folder: Path, timelines: int, seed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    cols = (
        "COMPONENT_NAME",
        "COMPONENT_TYPE",
        "COMPONENT_NUMBER",
        "CHILDREN_NAME",
        "CHILDREN_LOGIC",
        "IN_MRU",
        "TRIGGER_MRU",
    )
    _sheet(
        wb,
        "ARCHITECTURE",
        [
            cols,
            ("SYSTEM", "compound", 1, "SITEA,SITEB,WITNESS", "2oo3", "none", "none"),
            ("SITEA", "basic", 1, "none", "none", "none", "none"),
            ("SITEB", "basic", 1, "none", "none", "none", "none"),
            ("WITNESS", "basic", 1, "none", "none", "none", "none"),
        ],
    )
    fm = (
        "FAILURE_MODE_NAME",
        "FAILURE_LAW",
        "FAILURE_PARAMETERS",
        "REPAIR_LAW",
        "REPAIR_PARAMETERS",
        "TYPE_OF_FAILURE",
        "HELD_BEFORE_REPAIR",
        "INSPECTION_NAME",
        "PHASE_NAME",
        "NEXT_PHASE_IF_FAILURE",
        "PHASE_CHANGE_TRIGGER",
        "HELD_AFTER_REPAIR",
    )
    _sheet(
        wb,
        "FAILURE_MODES",
        [
            fm,
            (
                "SITEfail",
                "exp",
                1000,
                "exp",
                8,
                "detectable",
                "NEVER_HELD",
                "none",
                "None",
                "None",
                "after_repair",
                "never_held",
            ),
            (
                "WITNESSfail",
                "exp",
                2000,
                "exp",
                24,
                "detectable",
                "NEVER_HELD",
                "none",
                "None",
                "None",
                "after_repair",
                "never_held",
            ),
        ],
    )
    _sheet(
        wb,
        "PHASES",
        [
            (
                "PHASE_NAME",
                "PHASE_LAW",
                "PHASE_PARAMETERS",
                "NEXT_DEFAULT_PHASE",
                "FIRST_PHASE",
                "NEXT_DEFAULT_PHASE_IF_FAILURE",
            )
        ],
    )
    _sheet(
        wb,
        "FAILURE_MODE_ASSIGNMENTS",
        [
            ("COMPONENT_NAME", "FAILURE_MODE_NAME"),
            ("SITEA", "SITEfail"),
            ("SITEB", "SITEfail"),
            ("WITNESS", "WITNESSfail"),
        ],
    )
    _sheet(
        wb,
        "MRU",
        [
            (
                "MRU_NAME",
                "MRU_LAW",
                "MRU_PARAMETERS",
                "MRU_SCHEDULE",
                "LOWEST_COMMON_ANCESTOR_SCOPE",
                "TRIGGERING_STATUS",
            )
        ],
    )
    _sheet(wb, "INSPECTIONS", [("INSPECTION_NAME", "INSPECTION_PERIOD", "INSPECTION_DURATION")])
    _sheet(
        wb,
        "ROOT_CAUSE_ANALYSIS",
        [("TRIGGERING_COMPONENT_NAME", "TRIGGERED_BY_COMPONENT_STATUS", "TRIGGERED_IN_PHASE")],
    )
    _sheet(
        wb,
        "PHASE_JUMP",
        [("TRIGGERING_COMPONENT_NAME", "TRIGGERED_BY_COMPONENT_STATUS", "FROM_PHASE", "TO_PHASE")],
    )
    wb.save(folder / "system.xlsx")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    _sheet(
        wb,
        "SIMULATION",
        [
            (
                "SIMULATION_TYPE",
                "MIN_NUMBER_OF_SIMULATION",
                "MAX_NUMBER_OF_SIMULATION",
                "CONVERGENCE_MARGIN",
                "MAX_EXECUTION_TIME",
                "SEED",
                "DIAGNOSTICS",
                "SIMULATION_DURATION",
            ),
            ("MONTE_CARLO", timelines, timelines, 2, 36000, seed, '["summary"]', YEAR_H),
        ],
    )
    wb.save(folder / "simulation.xlsx")


def result(path: Path) -> dict[str, float]:
    wb = openpyxl.load_workbook(path, read_only=True)
    (_, (_up, down, total, _av)) = list(wb["RESULTS_ROOT_SUMMARY"].iter_rows(values_only=True))
    var = 0.0
    for row in wb["RESULTS"].iter_rows(values_only=True):
        # component, phase, status, description, occurrences (mean, max, std), ratio, duration (mean, max, std), ...
        if row and str(row[0]).startswith("SYSTEM") and row[2] in ("UNDER_REPAIR", "FAILED"):
            var += float(row[10]) ** 2
    return {"downtime_h": float(down), "total_h": float(total), "sd_h": math.sqrt(var)}


if __name__ == "__main__":
    if sys.argv[1] == "inputs":
        inputs(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        print(json.dumps(result(Path(sys.argv[2]))))
