"""审计记录 — who did what, when, from which state to which, and why."""
