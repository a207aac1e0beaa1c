# mmdepthseg: the two commands are `make demo` and `make test`.
# Both build the virtual environment first when it is missing (`make install`).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmdepthseg-installed
DEMO_DIR ?= work_dirs/demo
DEMO_DATA ?= data/synthetic_kitti
DEMO_CONFIG ?= configs/synthetic/fsre_r18_synthkitti.py
DEMO_LAYOUT ?= kitti
PYTEST_ARGS ?=

.PHONY: install demo test test-fast test-numerics learning-spread lint clean

install: $(STAMP)

$(STAMP): tools/install.sh setup.py requirements/runtime.txt requirements/tests.txt requirements/build.txt requirements/mminstall.txt requirements/optional.txt
	bash tools/install.sh
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) tools/misc/run_demo.py --config $(DEMO_CONFIG) --data-root $(DEMO_DATA) --layout $(DEMO_LAYOUT) --work-dir $(DEMO_DIR)

# two pytest workers (pytest-xdist), one thread each: on 2 cores most of the
# suite is single-threaded Python (tool start-ups, data generation), so two
# files at a time finish in about 60 % of the serial time; PYTEST_WORKERS=0
# runs everything in one process
PYTEST_WORKERS ?= 2
XDIST = -n $(PYTEST_WORKERS) --dist loadfile

test: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest tests $(XDIST) $(PYTEST_ARGS)

# the inner loop: everything but the learning tests and other slow ones
test-fast: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest tests -m "not slow" $(XDIST) $(PYTEST_ARGS)

# the learning tests once more with the oneDNN kernels of an older CPU
# (AVX2 only): a margin that holds only for this machine's rounding fails
# here before it fails on someone else's machine
# (the methods' learning tests; not the own-video one, which trains FSRE-Depth again)
LEARNING_TESTS := $(wildcard tests/test_models/test_segmentors/test_*_learns.py)
test-numerics: $(STAMP)
	ONEDNN_MAX_CPU_ISA=AVX2 $(PY) -m pytest $(LEARNING_TESTS) $(PYTEST_ARGS)

# the learning tests' metrics over seeds and CPU numerics, against the
# trivial predictors (to set or re-check their margins; long)
SPREAD_ARGS ?=
learning-spread: $(STAMP)
	$(PY) tests/learning_spread.py $(SPREAD_ARGS)

lint: $(STAMP)
	$(PY) -m pip install -q -r requirements/lint.txt
	$(PY) -m flake8 mmdepthseg tools tests configs setup.py
	$(PY) -m isort --check-only mmdepthseg tools tests setup.py

clean:
	rm -rf work_dirs .pytest_cache
