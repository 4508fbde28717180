"""Pure rules on frames: latest value in a window, nearest year, group aggregates, bands, threshold
crossings, change since a meeting, group membership on a date.

The bottom layer: these modules import nothing else of the project (an import-linter contract in
``pyproject.toml`` keeps it so). Every fact they need (a window, a tolerance, the membership date,
an indicator's direction) arrives as an argument from the catalogue or the settings, so the
pipeline and the API apply the same rule with the same declared values.
"""
