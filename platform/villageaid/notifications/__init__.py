"""The in-site inbox and the e-mail that goes with it."""
