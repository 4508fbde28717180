"""Errors the user is meant to read: each message names the file, the row and the problem.

The CLI prints these without a traceback and exits with status 2.
"""


class AnalysisError(Exception):
    """Base class: the message is complete for the user."""


class FetchError(AnalysisError):
    """An input could not be obtained or failed its sha256 check."""


class InputError(AnalysisError):
    """An input file is malformed (parse or schema violation)."""

    def __init__(self, file: str, problem: str, row: int | None = None, rule: str | None = None):
        self.file, self.problem, self.row, self.rule = file, problem, row, rule
        where = f"{file}" + (f", row {row}" if row is not None else "")
        rule_txt = f" [rule: {rule}]" if rule else ""
        super().__init__(f"{where}: {problem}{rule_txt}")


class StoreError(AnalysisError):
    """The store is missing or out of date."""
