"""Benchmarks of the shared kernel, run against the local stack (`python -m bench` runs them all).

Each benchmark measures the kernel's way of doing something against a baseline in the same run,
alternating rounds of the two and comparing medians, and reports whether the ratio meets its
target; none asserts a wall-clock limit."""
