"""The peers: one module per library, one factory per workload returning a `bench.core.Runner`."""
