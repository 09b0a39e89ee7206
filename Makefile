# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
# uv comes from PyPI when the machine has none; it never downloads a Python (UV_PYTHON_DOWNLOADS).
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv >/dev/null 2>&1 && echo uv || echo "python3.11 -m uv")
.PHONY: demo test lint bench uv sync

uv:
	@command -v uv >/dev/null 2>&1 || python3.11 -m uv --version >/dev/null 2>&1 \
		|| python3.11 -m pip install --quiet "uv==0.13.9"

sync: uv
	@$(UV) sync --frozen --quiet

demo: sync
	$(UV) run --frozen celltrial demo

test: sync
	$(UV) run --frozen pytest -n 2 tests

lint: sync
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench

bench: sync
	$(UV) run --frozen python bench/run_all.py
