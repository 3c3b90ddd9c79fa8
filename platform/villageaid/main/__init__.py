"""The home page and site-wide pages."""
from ..scheduling import every

every(60, "home-figures", "jobs.home.refresh_figures")
