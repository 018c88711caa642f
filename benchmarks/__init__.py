"""Benchmarks run by `make bench`: each of our code paths beside a raw baseline of the same work."""
