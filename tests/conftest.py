"""Hypothesis without its per-example deadline: a deadline is a timed test, and timings
belong in bench/ (on a loaded 2-core machine a 200 ms deadline fails correct code)."""

from hypothesis import settings

settings.register_profile("celltrial", deadline=None)
settings.load_profile("celltrial")
