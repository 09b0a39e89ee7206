UV := UV_PYTHON_DOWNLOADS=never uv
.PHONY: demo test lint bench

demo:
	$(UV) run --frozen celltrial demo

test:
	$(UV) sync --frozen
	$(UV) run --frozen pytest -n 2 tests

lint:
	$(UV) run --frozen ruff check src tests bench
	$(UV) run --frozen ruff format --check src tests bench

bench:
	$(UV) run --frozen python bench/run_all.py
