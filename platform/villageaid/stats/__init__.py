"""/stats and GET /api/v1/stats: what the campaign has achieved, verified only unless labelled otherwise."""
from ..scheduling import every

every(300, "stats-refresh", "jobs.stats.refresh")
