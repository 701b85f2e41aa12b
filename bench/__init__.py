"""The codex-db benchmark suite: generated code against the alternatives, in the same run.

Run it with ``scripts/bench`` (see docs/benchmarks.md); ``python -m bench --help``
lists the flags.
"""
