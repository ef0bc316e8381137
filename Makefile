# quorum: every target creates .venv when it is missing and installs the project into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
JOBS   ?= 2

.PHONY: demo test deep-test bench lint typecheck clean live-demo figures fuzz postgres

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

## postgres: the PostgreSQL server binaries the live tests need (initdb, pg_ctl, pg_rewind, pg_basebackup),
## found (PATH, pg_config --bindir, /usr/lib/postgresql/*/bin) or installed (apt-get, when root); as root the
## servers run as the `postgres` OS user (created if missing). Nothing found and nothing installable: an error
## (the PostgreSQL tests fail, they never skip).
FIND_PG := $(BIN)/python -c "from quorum.live.pgserver import find_bin_dir; print(find_bin_dir())"
postgres: $(TSTAMP)
	@$(FIND_PG) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "PostgreSQL server binaries not found: apt-get install -y postgresql"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q postgresql >/dev/null 2>&1 || \
	      { apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }; \
	  fi; }
	@$(FIND_PG) | sed 's/^/PostgreSQL binaries: /'
	@if [ "$$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then useradd --system --no-create-home postgres; fi

## demo: `quorum check` on a safe and an unsafe policy (its counterexample is the expected outcome:
## --expect violated exits 0 when one is found), then the reference scenario (summary + plot).
demo: $(STAMP)
	$(BIN)/quorum check --policy witness-preferred --schedules 300 --seed 1
	@echo
	$(BIN)/quorum check --policy both-continue --schedules 300 --seed 1 --expect violated
	@echo
	$(BIN)/quorum sim run scenarios/reference.yaml --plot out/reference.png

## lint / typecheck: ruff and mypy strict (run inside `make test`).
lint: $(TSTAMP)
	$(BIN)/ruff check quorum sim tests bench
	$(BIN)/ruff format --check quorum sim tests bench

typecheck: $(TSTAMP)
	$(BIN)/mypy quorum sim

## test: lint, types, and the whole test suite with the fast hypothesis profile (derandomized: the
## same examples every run).
test: $(TSTAMP) lint typecheck postgres
	HYPOTHESIS_PROFILE=fast $(BIN)/python -m pytest -n $(JOBS) -p no:cacheprovider -m "not deep"; \
	  rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$rc

## deep-test: the long property runs (20,000 random schedules per configuration; the seed is printed,
## QUORUM_DEEP_SEED=S repeats it, QUORUM_DEEP_SCHEDULES=N shortens it); every counterexample found is
## saved to tests/regressions/, which `make test` replays.
deep-test: $(TSTAMP) postgres
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -n $(JOBS) -p no:cacheprovider -m deep tests

## the bench venv: AvailSim4 2.2.1 (CERN) to compare the availability engine with; not a project dependency
BENCH_VENV := .venv-bench
$(BENCH_VENV)/bin/availsim4:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet 'availsim4==2.2.1'

## fuzz: hypothesis over scenario files, command-line numbers and the witness's HTTP bodies, each case
## under a time bound; about FUZZ_SECONDS per fuzzer (3 fuzzers); ends with the count of tracebacks,
## hangs and 500s (exit 1 unless all are 0). A short deterministic version runs in `make test`.
FUZZ_SECONDS ?= 120
fuzz: $(TSTAMP)
	$(BIN)/python -m quorum.fuzz --seconds $(FUZZ_SECONDS)

## bench: figures, not tests: schedules/s; simulated years/s beside bare SimPy events/s; live failover,
## loss, throughput, memory; availability to +-10 % beside AvailSim4 2.2.1 (its own venv). About 25 minutes:
## live failover ~2.5 min, 20 % loss ~7 min, throughput
## ~30 s, memory ~11 min (600 s).
## (bench/beside.py: schedules/s, driver runs/s, scenario runs/s and years/s of this tree beside
## BESIDE_REF, the main before the one world (issue 15), measured alternately in one run: ~3 minutes)
BESIDE_REF ?= 69272ae
## bench/years_speed.py: the years engine beside main before the bulk engine (issue 20 item 4), in one run
YEARS_REF ?= eb39b59
bench: $(TSTAMP) postgres $(BENCH_VENV)/bin/availsim4
	$(BIN)/python -m quorum.bench
	$(BIN)/python bench/years_speed.py --beside $(YEARS_REF)
	$(BIN)/python bench/rare.py
	$(BIN)/python bench/beside.py --ref $(BESIDE_REF)
	$(BIN)/python bench/availability.py --availsim4 $(BENCH_VENV)/bin/availsim4 \
	  --bench-python $(BENCH_VENV)/bin/python
	$(BIN)/python -m quorum.live.bench --trials 20
	$(BIN)/python -m quorum.live.bench --storage postgres --trials 20
	$(BIN)/python -m quorum.live.bench --pg-throughput --seconds 10
	$(BIN)/python -m quorum.live.bench --loss 0.2 --trials 20
	$(BIN)/python -m quorum.live.bench --throughput
	$(BIN)/python -m quorum.live.bench --memory --pairs 1000 --duration 600

## figures: the notebooks re-run at full size (a few minutes): their figures as PNG under
## out/figures/<notebook>/, the executed notebooks (outputs included) under out/notebooks/.
figures: $(TSTAMP)
	$(BIN)/python notebooks/run.py --size full --figures out/figures --save out/notebooks

## live-demo: a witness and two agents on 127.0.0.1; kill -9 the serving agent; timeline + failover time.
live-demo: $(STAMP)
	$(BIN)/quorum lab --fault kill-serving

clean:
	rm -rf $(VENV) $(BENCH_VENV) .hypothesis .pytest_cache .mypy_cache .ruff_cache out runs
