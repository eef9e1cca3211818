"""Guards for the performance-relevant structure of the code (no timings)."""
