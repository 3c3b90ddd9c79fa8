"""光荣榜 — the 10·17 honor roll."""
from ..scheduling import every

# Every minute: an edition due at 10-17 00:00 in China is published by 00:01 at the latest.
every(60, "honor-roll-publish", "jobs.honor_roll.publish_due")
