"""`check --hidden` hints: the catalogued mistake a hidden check names, and its hint."""
import re

import nbformat
import pytest

from assignments.cli import main
from assignments.notebooks import QuestionResult, cell_by_grade_id
from assignments.selfcheck import format_results
from grader_tests.checking import GradingFailure
from grader_tests.mutants import cnn, fully_connected, softmax
from grader_tests.softmax import check_softmax, check_softmax_cross_entropy_loss
from tests.builders import correct_submission, graded_test_cell


def _failure(check, implementation):
    with pytest.raises(GradingFailure) as failure:
        check(implementation)
    return failure.value


def _mutant(module, function, name):
    return next(m for m in module.MUTANTS if m.function == function and m.name == name)


def _recorded(mutant):
    """A mistake as the grading record names it."""
    return {"function": mutant.function, "name": mutant.name, "hint": mutant.hint}


def test_a_hidden_check_s_failure_gives_the_mutant_and_its_hint():
    mutant = _mutant(softmax, "softmax", "no max subtraction")
    failure = _failure(check_softmax, mutant.implementation)
    assert failure.mistakes == (mutant,)
    failed = QuestionResult("test_softmax", 0, 2, f"GradingFailure: {failure}", mistakes=(_recorded(mutant),))
    table = format_results([failed, QuestionResult("test_x", 1, 1)])
    lines = table.splitlines()
    assert lines[1].split() == ["test_softmax", "0/2", "FAILED", "looks", "like:", "no", "max", "subtraction"]
    assert lines[2].split() == ["test_x", "1/1", "passed"]
    assert f"  test_softmax: no max subtraction. Hint: {mutant.hint}" in lines


def test_a_name_several_functions_share_gives_the_failing_function_s_hint():
    # "no max subtraction" is a mistake of several functions, each with its own hint.
    shared = [m for m in softmax.MUTANTS + fully_connected.MUTANTS if m.name == "no max subtraction"]
    assert len({m.hint for m in shared}) == len(shared) > 1
    mutant = _mutant(softmax, "softmax_cross_entropy", "no max subtraction")
    failure = _failure(check_softmax_cross_entropy_loss, mutant.implementation)
    assert [(m.function, m.hint) for m in failure.mistakes] == [(mutant.function, mutant.hint)]


def test_no_hint_without_a_named_mistake():
    results = [QuestionResult("test_softmax", 0, 2, "NotImplementedError: "), QuestionResult("test_x", 1, 1)]
    assert results[0].mistakes == ()
    table = format_results(results)
    assert "Hint" not in table and "looks like" not in table


def test_the_table_names_the_recorded_mistakes_not_what_a_message_says():
    mutant = _mutant(softmax, "softmax", "no max subtraction")
    quoting = QuestionResult("test_softmax", 0, 2, f"AssertionError: This looks like a known mistake: {mutant.name}.")
    assert "looks like:" not in format_results([quoting]).splitlines()[1]
    named = format_results([QuestionResult("test_softmax", 0, 2, "AssertionError: wrong",
                                           mistakes=(_recorded(mutant),))])
    assert named.splitlines()[1].endswith(f"looks like: {mutant.name}")
    assert f"  test_softmax: {mutant.name}. Hint: {mutant.hint}" in named


@pytest.mark.nbgrader
def test_hidden_check_of_04_prints_the_table_and_the_hint_of_a_real_mistake(tmp_path, capsys):
    # A self-learner's 04 with every answer right but one realistic slip: the loss's 0.5 * reg dropped.
    nb = correct_submission("04_cnn/04_cnn.ipynb")
    cell = cell_by_grade_id(nb, "ThreeLayerConvNet")
    assert "loss += 0.5 * self.reg *" in cell.source
    cell.source = cell.source.replace("loss += 0.5 * self.reg *", "loss += self.reg *")
    path = tmp_path / "04_cnn" / "04_cnn.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    assert main(["check", str(path), "--hidden"]) == 1
    out = capsys.readouterr().out
    mutant = _mutant(cnn, "ThreeLayerConvNet", "0.5 missing from the regularisation term")
    assert re.search(r"test_conv_forward_naive +2/2 +passed\n", out)
    assert re.search(rf"test_ThreeLayerConvNet +0/3 +FAILED +looks like: {re.escape(mutant.name)}\n", out)
    assert f"test_ThreeLayerConvNet: {mutant.name}. Hint: {mutant.hint}" in out


def test_a_question_with_only_hidden_tests_is_reported_unchecked_not_passed(tmp_path, capsys):
    # Like 05's held-out accuracy: the released test cell is its docstring only.
    nb = nbformat.v4.new_notebook(cells=[
        graded_test_cell("test_visible", 2, '"""A visible check (2 points)."""\nassert 1 + 1 == 2'),
        graded_test_cell("test_hidden_only", 4, '"""Checked when graded (4 points)."""\n# nothing visible')])
    path = tmp_path / "self.ipynb"
    nbformat.write(nb, path)
    assert main(["check", str(path)]) == 0, "the only check that ran passed"
    out = capsys.readouterr().out
    assert re.search(r"test_visible +2/2 +passed\n", out)
    assert re.search(r"test_hidden_only +0/4 +hidden only\n", out)
    assert re.search(r"total +2/6\n", out)
    assert "run `python -m assignments check --hidden` to grade it" in out
