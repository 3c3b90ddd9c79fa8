"""“10·17” — the National Poverty Alleviation Day campaign page: a countdown and the campaign year's verified help."""
