"""Helpers: enterprises (民营企业) and social organisations (社会组织)."""
