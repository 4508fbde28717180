"""The indicator catalogue: typed entries, and errors that name the file, the line, the entry and the key.

Everything but the first tests runs on SYNTHETIC registries and catalogues written into tmp_path; the
expected line of an error is found by searching the synthetic text the test itself wrote.
"""

from __future__ import annotations

import math
import pickle

import pytest

from analysis.config.catalogue import (
    DOMAINS,
    GROUPS,
    Catalogue,
    CatalogueError,
    UnknownIndicatorError,
    load_catalogue,
)
from analysis.config.registry import load_registry
from analysis.core import settings
from analysis.core.errors import AnalysisError

# --------------------------------------------------------------------------------------------------
# The real data/indicators.toml: it loads, and it keeps the conventions other code relies on

OLDER_VINTAGE_SUFFIXES = ("_sdg2020", "_wpp", "_wb")


@pytest.fixture(scope="module")
def real():
    return load_catalogue()


def test_ids_named_in_code_are_in_the_real_catalogue(real):
    from analysis.store.themes import HEADLINE_INDICATOR

    named = {settings.WEIGHT_INDICATOR, *HEADLINE_INDICATOR.values()}
    assert sorted(i for i in named if i not in real) == []


def test_older_vintages_share_the_concept_of_their_newer_namesake(real):
    """The file convention (suffix on the older vintage) and the concept field must agree."""
    pairs = [(ind, real[ind.id.removesuffix(s)]) for ind in real for s in OLDER_VINTAGE_SUFFIXES
             if ind.id.endswith(s) and ind.id.removesuffix(s) in real.by_id]
    same_unit = [(old, new) for old, new in pairs if old.unit == new.unit]
    assert same_unit, "no older-vintage twin in the catalogue: this test checks nothing"
    assert [f"{old.id}: {old.concept}" for old, new in same_unit if old.concept != new.concept] == []


# --------------------------------------------------------------------------------------------------
# Synthetic registry and catalogue

SHA = "0" * 63 + "1"


def _file(file_id: str, dataset: str, role: str = "data") -> str:
    return (f'[[file]]\nid = "{file_id}"\ndataset = "{dataset}"\nrole = "{role}"\nparser = "synthetic"\n'
            f'path = "extracts/{file_id}.csv"\nurl = ""\norigin = "https://example.invalid/{file_id}"\n'
            f'sha256 = "{SHA}"\n')


SYNTHETIC_SOURCES = "\n".join([
    *(f'[[dataset]]\nid = "{ds}"\npublisher = "Synthetic"\ntitle = "Synthetic {ds}"\n'
      f'landing_page = "https://example.invalid/"\ndistributor = "tests"\nlicence = "CC0"\nvintage = "2000"\n'
      for ds in ("syn", "other")),
    _file("syn/share", "syn"), _file("syn/count", "syn"), _file("syn/age-2", "syn"), _file("syn/age-1", "syn"),
    _file("syn/meta", "syn", role="metadata"), _file("other/x", "other"),
])


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line of ``text`` that starts with ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if line.startswith(needle)]
    return hits[occurrence - 1]


def last_line_of(text: str, needle: str) -> int:
    return line_of(text, needle, occurrence=sum(line.startswith(needle) for line in text.splitlines()))


def selected(ident: str, *extra: str, **values: str) -> str:
    """One synthetic selected [[indicator]]: ``values`` replace default values (as TOML text), ``extra``
    lines are appended verbatim. The definition spans lines, as multi-line strings may."""
    fields = {"id": f'"{ident}"', "title": f'"Synthetic {ident}"',
              "definition": '"""Synthetic\n   indicator,\n   for tests."""', "unit": '"% of population"',
              "group": '"whole_population"', "domain": '"health"', "better": '"higher"', "source": '"syn"',
              "file": '"syn/share"', "code": '"SYN"'} | values
    return "\n".join(["[[indicator]]", *(f"{k} = {v}" for k, v in fields.items()), *extra]) + "\n"


def derived(ident: str, derive: str, *extra: str) -> str:
    lines = ["[[indicator]]", f'id = "{ident}"', f'title = "Synthetic {ident}"', 'definition = "Derived."',
             'unit = "ratio"', 'group = "whole_population"', 'domain = "health"', 'better = "neutral"', *extra,
             f"derive = {derive}"]
    return "\n".join(lines) + "\n"


BASE = selected("syn_share") + "\n" + selected("syn_count", unit='"persons"', file='"syn/count"') + "\n"
#: the header line of the second entry of BASE (syn_count), as messages about other entries cite it
SECOND = line_of(BASE, "[[indicator]]", occurrence=2)
#: a gap in every cell, after the indicators, so an entry's lines do not depend on the gaps
ALL_GAPS = "".join(f'\n[[gap]]\ngroup = "{g}"\ndomain = "{d}"\nreason = "Synthetic."\n'
                   for g in GROUPS for d in DOMAINS)


@pytest.fixture
def write(tmp_path):
    registry_file = tmp_path / "sources.toml"
    registry_file.write_text(SYNTHETIC_SOURCES, encoding="utf-8")
    registry = load_registry(registry_file)

    def load(text: str, gaps: str = ALL_GAPS) -> Catalogue:
        path = tmp_path / "indicators.toml"
        path.write_text(text + gaps, encoding="utf-8")
        return load_catalogue(path, registry=registry)

    return load


def refused(write, text: str) -> CatalogueError:
    with pytest.raises(CatalogueError) as err:
        write(text)
    return err.value


# --------------------------------------------------------------------------------------------------
# What a valid synthetic catalogue parses into


def test_entries_are_typed_with_their_defaults(write):
    text = BASE + selected("syn_age", 'select = { age = ["a", "b"] }', 'combine = "sum"', "period = 5",
                           "window = 4", "tolerance = 0", "min_difference = 2", "headline = true",
                           file='"syn/age-*"', unit='"persons"')
    catalogue = write(text)
    share, count, age = catalogue["syn_share"], catalogue["syn_count"], catalogue["syn_age"]
    assert share.concept == "syn_share" and share.definition == "Synthetic indicator, for tests."
    assert share.bounds == (0.0, 100.0) and count.bounds == (0.0, math.inf)
    assert age.file_ids == ("syn/age-1", "syn/age-2") and age.select == {"age": ("a", "b")}
    assert (age.period, age.window, age.tolerance, age.min_difference, age.headline) == (5, 4, 0, 2.0, True)
    assert (share.window, share.tolerance, share.min_difference, share.headline) == (None, None, 0.0, False)
    assert catalogue.needed_files() == ["syn/share", "syn/count", "syn/age-1", "syn/age-2"]


def test_derived_indicators_and_their_order(write):
    text = (derived("syn_late", '{ method = "difference", of = ["syn_early", "syn_share"] }') + "\n"
            + derived("syn_early", '{ method = "ratio", of = ["syn_share", "syn_count"], scale = 100 }') + "\n"
            + BASE)
    catalogue = write(text)
    assert [i.id for i in catalogue.derivation_order()] == ["syn_early", "syn_late"]
    frame = catalogue.to_frame().set_index("indicator_id")
    assert frame.loc["syn_early", "derive"] == "ratio(syn_share, syn_count) x 100"
    assert frame.loc["syn_late", "derive"] == "difference(syn_early, syn_share)"
    assert catalogue["syn_early"].file_ids == () and catalogue["syn_early"].is_derived


def test_coverage_matrix_lists_ids_and_gaps_per_cell(write):
    gaps = ('\n[[gap]]\ngroup = "whole_population"\ndomain = "health"\nreason = "Partly   covered."\n'
            + "".join(f'\n[[gap]]\ngroup = "{g}"\ndomain = "{d}"\nreason = "None."\n'
                      for g in GROUPS for d in DOMAINS if (g, d) != ("whole_population", "health")))
    catalogue = write(BASE, gaps=gaps)
    matrix = catalogue.coverage_matrix()
    assert list(matrix.index) == list(GROUPS) and list(matrix.columns) == list(DOMAINS)
    assert matrix.loc["whole_population", "health"] == "syn_share, syn_count; gap: Partly covered."
    assert matrix.loc["children", "care"] == "gap: None."
    assert catalogue.uncovered_cells() == []


def test_concepts_group_ids_measuring_the_same_thing(write):
    rule = '[[concept]]\nid = "syn_share"\ntitle = "Share"\nprefer = ["other", "syn"]\nnote = "Synthetic order."\n'
    catalogue = write(BASE + selected("syn_share_old", 'concept = "syn_share"', source='"other"', file='"other/x"')
                      + rule)
    assert catalogue.concepts()["syn_share"] == ["syn_share", "syn_share_old"]
    frame = catalogue.to_frame().set_index("indicator_id")
    assert frame.loc["syn_share_old", "concept"] == "syn_share"
    # the rule ranks the sources, not the order of the entries in the file
    assert frame["current"].to_dict() == {"syn_share": False, "syn_count": True, "syn_share_old": True}


def test_lines_inside_multi_line_strings_are_not_entries(write):
    fake = '"""Looks like TOML:\n[[indicator]]\nid = "fake"\nbetter = "up"\n"""'
    text = selected("syn_a", definition=fake) + BASE + selected("syn_third", better='"more"')
    error = refused(write, text)
    assert error.entry == "[[indicator]] #4 (syn_third)"
    assert error.line == line_of(text, 'better = "more"')


# --------------------------------------------------------------------------------------------------
# Aliases


def test_an_alias_finds_the_renamed_indicator(write):
    catalogue = write(BASE + selected("syn_new", 'aliases = ["syn_old", "syn_older"]'))
    assert catalogue["syn_old"].id == "syn_new" and catalogue.resolve("syn_older").id == "syn_new"
    assert "syn_old" in catalogue and "syn_old" not in catalogue.ids


def test_an_unknown_id_is_a_catalogue_error_and_a_key_error(write):
    catalogue = write(BASE)
    with pytest.raises(UnknownIndicatorError) as err:
        catalogue["syn_shar"]
    assert isinstance(err.value, KeyError) and isinstance(err.value, AnalysisError)
    assert str(err.value) == f"{err.value.file}: no indicator 'syn_shar' (did you mean 'syn_share'?)"


@pytest.mark.parametrize(("text", "fragment"), [
    pytest.param(BASE + selected("syn_new", 'aliases = ["syn_count"]'),
                 f"alias 'syn_count' is the id of [[indicator]] #2 (syn_count) (line {SECOND})",
                 id="alias-is-another-id"),
    pytest.param(BASE + selected("syn_new", 'aliases = ["syn_new"]'),
                 "aliases list the indicator's own id 'syn_new'", id="alias-is-own-id"),
    pytest.param(BASE + selected("syn_a", 'aliases = ["syn_old"]') + selected("syn_b", 'aliases = ["syn_old"]'),
                 "alias 'syn_old' is already an alias of [[indicator]] #3 (syn_a)", id="alias-twice"),
    pytest.param(BASE + selected("syn_new", 'aliases = ["syn_old", "syn_old"]'),
                 "aliases: lists 'syn_old' more than once", id="alias-repeated"),
])
def test_alias_rules(write, text, fragment):
    error = refused(write, text)
    assert fragment in error.problem
    assert error.line == last_line_of(text, "aliases")


def test_derive_must_name_the_current_id_not_an_alias(write):
    text = (BASE + selected("syn_new", 'aliases = ["syn_old"]')
            + derived("syn_d", '{ method = "ratio", of = ["syn_old", "syn_share"] }'))
    error = refused(write, text)
    assert error.problem == "derive refers to 'syn_old', an earlier id of 'syn_new': use the current id"
    assert error.line == line_of(text, "derive")


# --------------------------------------------------------------------------------------------------
# Errors: the type, and the message naming file, line, entry and key


def test_catalogue_error_is_the_projects_error_type():
    assert issubclass(CatalogueError, AnalysisError)


def test_the_derive_typo_names_file_line_and_entry(write):
    text = BASE + derived("le_hale_gap", '{ method = "difference", of = ["life_expectancy_brth", "syn_share"] }')
    error = refused(write, text)
    assert str(error) == (f"{error.file}, line {line_of(text, 'derive')}, [[indicator]] #3 (le_hale_gap): "
                          "derive refers to unknown indicator 'life_expectancy_brth'")
    assert error.file.endswith("indicators.toml") and error.key == "derive"


ENTRY_ERRORS = [
    # (id, third entry's extra lines, its replaced values, key whose line is named, fragment of the message)
    ("bad-direction", [], {"better": '"more"'}, "better", "better = 'more' is not allowed; one of 'higher'"),
    ("unknown-key", ['colour = "blue"'], {}, "colour", "unknown key 'colour'"),
    ("misspelt-key", ["headlin = true"], {}, "headlin", "unknown key 'headlin' (did you mean 'headline'?)"),
    ("strict-integer", ['window = "5"'], {}, "window", "window = '5': input should be a valid integer"),
    ("zero-window", ["window = 0"], {}, "window", "window = 0: input should be greater than or equal to 1"),
    ("strict-bool", ['headline = "yes"'], {}, "headline", "headline = 'yes': input should be a valid boolean"),
    ("negative-min-difference", ["min_difference = -1"], {}, "min_difference", "min_difference = -1"),
    ("bounds-reversed", ["bounds = [5, 1]"], {}, "bounds", "bounds: must be [low, high]"),
    ("list-without-combine", ['select = { sex = ["f", "m"] }'], {}, "select",
     'select lists several values of sex: set combine = "sum"'),
    ("combine-without-list", ['combine = "sum"'], {}, "combine", 'combine = "sum" needs a select with a list'),
    ("select-value-type", ["select = { sex = 1 }"], {}, "select", "select: sex must be a string or a non-empty list"),
    ("computed-key", ['file_ids = ["syn/share"]'], {}, "file_ids", "'file_ids' is computed from `file`"),
    ("concept-unit", ['concept = "syn_count"'], {}, "concept",
     f"concept 'syn_count' is measured in 'persons' by [[indicator]] #2 (syn_count) (line {SECOND}) "
     "but in '% of population' here"),
    ("concept-bad-id", ['concept = "Syn Share"'], {}, "concept", "concept: 'Syn Share' is not a snake_case id"),
    ("unknown-source", [], {"source": '"sin"'}, "source", "unknown source 'sin' (did you mean 'syn'?)"),
    ("unknown-file", [], {"file": '"syn/shar"'}, "file", "unknown file 'syn/shar'"),
    ("file-of-other-dataset", [], {"file": '"other/x"'}, "file", "file 'other/x' belongs to dataset 'other'"),
    ("file-not-data", [], {"file": '"syn/meta"'}, "file", "file 'syn/meta' has role 'metadata', not data"),
    ("empty-title", [], {"title": '"  "'}, "title", "title: must not be empty"),
]


@pytest.mark.parametrize(("extra", "values", "key", "fragment"), [pytest.param(*c[1:], id=c[0]) for c in ENTRY_ERRORS])
def test_entry_errors_point_at_the_offending_key(write, extra, values, key, fragment):
    text = BASE + selected("syn_third", *extra, **values)
    error = refused(write, text)
    assert fragment in error.problem
    assert error.entry == "[[indicator]] #3 (syn_third)"
    assert error.line == last_line_of(text, f"{key} =")
    assert str(error).startswith(f"{error.file}, line {error.line}, [[indicator]] #3 (syn_third): ")


def test_a_missing_key_points_at_the_entry_header(write):
    third = "\n".join(line for line in selected("syn_third").splitlines() if not line.startswith("title"))
    text = BASE + third + "\n"
    error = refused(write, text)
    assert error.problem == "missing required key 'title'"
    assert error.line == line_of(text, "[[indicator]]", occurrence=3)


def test_every_problem_of_an_entry_is_listed_with_its_line(write):
    text = BASE + selected("syn_third", "period = 0", better='"up"')
    message = str(refused(write, text))
    assert f"line {last_line_of(text, 'better')}, [[indicator]] #3 (syn_third): better = 'up'" in message
    assert f"\n  line {line_of(text, 'period')}: period = 0" in message


def test_duplicate_id_points_at_the_second_entry(write):
    text = BASE + selected("syn_share")
    error = refused(write, text)
    assert error.problem == "duplicate id 'syn_share', already the id of [[indicator]] #1 (syn_share) (line 1)"
    assert error.line == last_line_of(text, 'id = "syn_share"')


def test_an_id_that_is_not_snake_case(write):
    error = refused(write, BASE + selected("Syn-Third"))
    assert error.entry == "[[indicator]] #3 (Syn-Third)" and "is not a snake_case id" in error.problem


@pytest.mark.parametrize(("derive", "extra", "key", "fragment"), [
    pytest.param('{ method = "mean", of = ["syn_share", "syn_count"] }', (), "derive",
                 "derive.method = 'mean' is not allowed; one of 'ratio', 'difference' or 'product'", id="method"),
    pytest.param('{ method = "ratio", of = ["syn_share"] }', (), "derive",
                 "derive: ratio is made of 2 indicators; of lists 1", id="arity"),
    pytest.param('{ method = "ratio", of = ["syn_share", "syn_count"], scale = 0 }', (), "derive",
                 "derive: scale must not be 0", id="zero-scale"),
    pytest.param('{ method = "ratio", of = ["syn_share", "syn_count"], by = 1 }', (), "derive",
                 "unknown key 'derive.by'", id="unknown-derive-key"),
    pytest.param('{ method = "ratio", of = ["syn_share", "syn_count"] }', ('source = "syn"',), "source",
                 "a derived indicator has no 'source'", id="derived-with-source"),
    pytest.param('{ method = "ratio", of = ["syn_share", "syn_d"] }', (), "derive",
                 "derive cycle syn_d -> syn_d", id="self-cycle"),
])
def test_derive_errors(write, derive, extra, key, fragment):
    text = BASE + derived("syn_d", derive, *extra)
    error = refused(write, text)
    assert fragment in error.problem
    assert error.line == last_line_of(text, f"{key} =")


def test_a_cycle_through_two_indicators_is_shown_as_a_loop(write):
    text = (BASE + derived("syn_a", '{ method = "ratio", of = ["syn_b", "syn_share"] }')
            + derived("syn_b", '{ method = "ratio", of = ["syn_a", "syn_share"] }'))
    error = refused(write, text)
    assert error.problem == "derive cycle syn_a -> syn_b -> syn_a"
    assert error.entry == "[[indicator]] #4 (syn_b)" and error.line == last_line_of(text, "derive")


def test_derive_as_a_sub_table_points_at_it(write):
    sub_table = '[indicator.derive]\nmethod = "ratio"\nof = ["syn_share", "syn_cont"]'
    text = BASE + derived("syn_d", "X").replace("derive = X", sub_table)
    error = refused(write, text)
    assert "unknown indicator 'syn_cont' (did you mean 'syn_count'?)" in error.problem
    assert error.line == line_of(text, "[indicator.derive]")


def test_concept_named_after_an_indicator_must_be_its_concept(write):
    text = selected("syn_a", 'concept = "syn_b"') + selected("syn_b", 'concept = "syn_c"') + BASE
    error = refused(write, text)
    assert "concept 'syn_b' is the id of [[indicator]] #2 (syn_b)" in error.problem
    assert error.line == line_of(text, "concept")


# --------------------------------------------------------------------------------------------------
# Whole-file errors and gaps


def test_a_cell_without_indicator_or_gap_is_an_error(write):
    with pytest.raises(CatalogueError, match=r"cells with neither an indicator nor a \[\[gap\]\]: older_persons x"):
        write(BASE, gaps="")


def test_a_gap_twice_for_one_cell(write):
    text = BASE + ALL_GAPS + '\n[[gap]]\ngroup = "children"\ndomain = "care"\nreason = "Again."\n'
    with pytest.raises(CatalogueError) as err:
        write(text, gaps="")
    assert err.value.entry == f"[[gap]] #{len(GROUPS) * len(DOMAINS) + 1}"
    assert "the cell children x care already has a gap, [[gap]] #" in err.value.problem
    assert err.value.line == last_line_of(text, 'domain = "care"')


def test_a_gap_with_an_unknown_group(write):
    text = BASE + '\n[[gap]]\ngroup = "elders"\ndomain = "care"\nreason = "x"\n'
    error = refused(write, text)
    assert error.entry == "[[gap]] #1" and "group = 'elders' is not allowed" in error.problem
    assert error.line == line_of(text, 'group = "elders"')


def test_invalid_toml_names_the_line(write):
    text = BASE + '[[indicator]\nid = "x"\n'
    error = refused(write, text)
    assert error.problem.startswith("not valid TOML") and error.line == last_line_of(text, "[[indicator]")


@pytest.mark.parametrize(("text", "fragment"), [
    pytest.param("", "no [[indicator]] entries", id="empty"),
    pytest.param('title = "x"\n' + BASE, "unknown top-level key 'title'", id="top-level-key"),
])
def test_file_level_errors(write, text, fragment):
    assert fragment in refused(write, text).problem


def test_missing_catalogue(tmp_path):
    registry_file = tmp_path / "sources.toml"
    registry_file.write_text(SYNTHETIC_SOURCES, encoding="utf-8")
    with pytest.raises(CatalogueError, match="indicator catalogue not found"):
        load_catalogue(tmp_path / "absent.toml", registry=load_registry(registry_file))


def test_errors_survive_pickling_with_their_fields(write):
    error = refused(write, BASE + selected("syn_third", better='"more"'))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is CatalogueError and str(copy) == str(error)
    assert (copy.file, copy.line, copy.entry, copy.key) == (error.file, error.line, error.entry, error.key)


def test_the_cli_prints_the_message_without_a_traceback(tmp_path, monkeypatch, capsys):
    from analysis.cli import main

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sources.toml").write_text(SYNTHETIC_SOURCES, encoding="utf-8")
    text = BASE + selected("syn_third", better='"more"')
    (tmp_path / "data" / "indicators.toml").write_text(text + ALL_GAPS, encoding="utf-8")
    monkeypatch.setenv("ANALYSIS_PROJECT_ROOT", str(tmp_path))
    assert main(["build", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: data/indicators.toml, line {last_line_of(text, 'better')}, [[indicator]] #3 "
                          "(syn_third): better = 'more' is not allowed")
    assert "Traceback" not in err
