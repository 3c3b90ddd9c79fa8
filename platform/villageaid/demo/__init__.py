"""Demo data: a living site built through the same services users go through."""
