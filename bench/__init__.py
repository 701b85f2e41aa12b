"""The codex-db benchmark suite: generated code against the alternatives, in the same run.

Run it with ``scripts/bench`` (see the README's "Benchmarks" section); ``python -m bench --help``
lists the flags.
"""
