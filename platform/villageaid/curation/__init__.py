"""The curators' console: verification queues scoped to a region."""
