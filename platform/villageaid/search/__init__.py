"""Search wiring: rows become documents for `search_index`, indexed by jobs after commit."""
