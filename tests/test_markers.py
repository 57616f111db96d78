"""The one parser of nbgrader's region markers, on real cells and on the edge cases."""
import nbformat

from assignments import paths
from assignments.instructor.markers import HIDDEN, MARKERS, SOLUTION, parse
from assignments.jail.hidden_tests import split_hidden_tests
from tests import hostile


def _regions(source):
    return [(line.region, line.marker, line.terminated) for line in parse(source)]


def _source_cell(grade_id):
    nb = nbformat.read(paths.SOURCE_DIR / "01_softmax" / "01_softmax.ipynb", as_version=4)
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_the_marker_texts_are_nbgrader_s():
    assert MARKERS == ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def test_a_real_test_cell_splits_into_its_hidden_tests_and_its_visible_checks():
    source = _source_cell("test_softmax").source
    lines = parse(source)
    assert "".join(line.text for line in lines) == source
    hidden, visible = split_hidden_tests(source)
    assert "grader_tests" in hidden and "BEGIN HIDDEN TESTS" not in hidden + visible
    assert "grader_tests" not in visible and visible.startswith('"""')
    assert [line.text.strip() for line in lines if line.marker] == ["### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"]
    assert all(line.terminated for line in lines)


def test_a_real_answer_cell_has_its_solution_region():
    lines = parse(_source_cell("softmax").source)
    inside = [line for line in lines if line.region == SOLUTION and not line.marker]
    assert inside and all(line.terminated for line in inside)
    assert lines[0].region is None and "def softmax" in lines[0].text


def test_indentation_several_hashes_and_spaces_make_a_marker():
    source = "def f():\n    ## BEGIN SOLUTION \n    return 1\n\t####   END SOLUTION\t\n"
    assert _regions(source) == [(None, False, True), (SOLUTION, True, True), (SOLUTION, False, True),
                                (SOLUTION, True, True)]


def test_a_line_that_merely_mentions_a_marker_is_no_marker():
    assert {line.region for line in parse(hostile.MENTIONS_HIDDEN_MARKERS)} == {None}
    assert _regions("x = 1  # BEGIN SOLUTION\nprint('### BEGIN HIDDEN TESTS')\nBEGIN SOLUTION\n") == [
        (None, False, True)] * 3
    assert split_hidden_tests(hostile.MENTIONS_HIDDEN_MARKERS) == ("", hostile.MENTIONS_HIDDEN_MARKERS)


def test_an_unterminated_region_runs_to_the_end_and_says_so():
    source = "a\n### END HIDDEN TESTS\n### BEGIN HIDDEN TESTS\nb\n"
    assert _regions(source) == [(None, False, True), (None, False, True), (HIDDEN, True, False),
                                (HIDDEN, False, False)]
    assert split_hidden_tests(source) == ("", source), "the grader runs it as visible code"


def test_inside_a_region_only_its_own_end_marker_counts():
    source = ("### BEGIN HIDDEN TESTS\n### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\nx\n### END SOLUTION\n"
              "### END HIDDEN TESTS\ny")
    assert _regions(source) == [(HIDDEN, True, True), *[(HIDDEN, False, True)] * 4, (HIDDEN, True, True),
                                (None, False, True)]
    assert split_hidden_tests(source) == ("### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\nx\n### END SOLUTION\n", "y")


def test_several_regions_in_one_cell_and_no_line_ending_at_the_end():
    source = "a\n# BEGIN HIDDEN TESTS\nb\n# END HIDDEN TESTS\nc\n# BEGIN HIDDEN TESTS\nd\n# END HIDDEN TESTS"
    assert split_hidden_tests(source) == ("b\nd\n", "a\nc\n")
    assert parse("") == []
