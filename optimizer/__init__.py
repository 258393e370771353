"""Routing core of KombiTermin: pure Python, no web framework, no database.

Integer seconds and euro cents throughout; OR-Tools is used in `planner` alone.
"""
