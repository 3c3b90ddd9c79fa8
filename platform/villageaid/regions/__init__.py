"""行政区划 — the province → prefecture → county → township → village tree."""
