"""Per-article tallies: counters kept with the rows, batched reads, caching."""
