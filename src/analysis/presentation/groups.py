"""The population groups as every output titles them: the chart pack's chapters and key-message pages,
the notebooks' key messages. A module of its own so that a notebook showing key messages does not import
the report package (its PDF and workbook writers) for these few words."""

from __future__ import annotations

GROUP_TITLES = {
    "older_persons": "Older persons",
    "children": "Children",
    "mothers": "Mothers and newborns",
    "persons_with_disabilities": "Persons with disabilities",
    "whole_population": "Whole population: health, health financing and social protection",
    "meetings": "The meetings",
}
