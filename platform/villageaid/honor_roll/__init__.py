"""光荣榜 — the 10·17 honor roll."""
from .. import pagecache
from ..scheduling import every

# Every minute: an edition due at 10-17 00:00 in China is published by 00:01 at the latest.
every(60, "honor-roll-publish", "jobs.honor_roll.publish_due")

# Spike mode: the roll is what everyone opens on 10·17. A page with the objection form carries a
# CSRF token and is never cached; a change to any honor-roll row shows on the next visit.
pagecache.cacheable("honor_roll.current", "honor_roll.edition", "honor_roll.entry")
pagecache.WATCHED_TABLES.update({"honor_roll_edition", "honor_roll_candidate", "honor_roll_revision",
                                 "honor_roll_objection"})
