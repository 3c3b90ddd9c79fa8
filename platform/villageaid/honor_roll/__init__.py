"""光荣榜 — the 10·17 honor roll."""
