"""The shared tests of every exercise, generated from grader_tests/registry.py.

For each graded question of each assignment: its hidden test calls what the registry declares,
the reference solution passes (leaving the global random state alone), the released stub fails
(naming the function still to write), and a stub of a function it is graded with is named as the
thing to fix first. For each catalogued mistake: every check of its function that it fails names
it (in `GradingFailure.mistakes` and in the message), at least one fails, and no warning leaks
out; the catalogue's working definitions pass; mistake names are unique and every graded function
has some. The assignment's own kit tests (the registry's `kit_tests`) hold what is particular to it.
"""
from __future__ import annotations

import ast
import re
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from assignments import paths
from assignments.jail.hidden_tests import split_hidden_tests
from assignments.notebooks import cell_by_grade_id, read_notebook
from grader_tests.checking import GradingFailure, known_mistake_line
from grader_tests.registry import ASSIGNMENTS, Assignment, describe
from tests.notebook_definitions import reference, released

QUESTIONS = [(a, q) for a in ASSIGNMENTS.values() for q in a.questions]
SHARED = [(a, q) for a, q in QUESTIONS if q.shared_tests]
MUTANTS = [(a, m) for a in ASSIGNMENTS.values() for module in a.mutant_modules() for m in module.MUTANTS]


def _id(pair) -> str:
    assignment, item = pair
    return f"{assignment.name[:2]} {getattr(item, 'grade_id', None) or f'{item.function}: {item.name}'}"


def _working(assignment: Assignment) -> dict:
    """The catalogues' correct definitions (`WORKING` of each mutants module), merged."""
    return {k: v for module in assignment.mutant_modules() for k, v in module.WORKING.items()}


# ---------------------------------------------------------------------------- the registry


@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.name)
def test_the_registry_finds_every_part_of_the_assignment(assignment):
    assert assignment.source_notebook.is_file() and assignment.release_notebook.is_file()
    assert all((paths.REPO_ROOT / path).is_file() for path in assignment.kit_tests)
    graded = {c.metadata.nbgrader["grade_id"] for c in read_notebook(assignment.source_notebook).cells
              if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    assert graded == {q.grade_id for q in assignment.questions} | set(assignment.visible_only)


@pytest.mark.parametrize("assignment, question", QUESTIONS, ids=map(_id, QUESTIONS))
def test_the_hidden_test_calls_what_the_registry_declares(assignment, question):
    source = cell_by_grade_id(read_notebook(assignment.source_notebook), question.grade_id).source
    assert ast.dump(ast.parse(split_hidden_tests(source)[0])) == ast.dump(ast.parse(question.hidden_test))
    student = cell_by_grade_id(read_notebook(assignment.release_notebook), question.grade_id).source
    assert "HIDDEN TESTS" not in student and question.check not in student
    for name in question.args:
        assert hasattr(reference(assignment.name), name) and hasattr(released(assignment.name), name), name


# ---------------------------------------------------------------------------- the notebooks


def _global_random_state() -> tuple:
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return kind, keys.tobytes(), position, has_gauss, cached


@pytest.mark.parametrize("assignment, question", SHARED, ids=map(_id, SHARED))
def test_the_reference_solution_passes_and_the_global_random_state_is_left_alone(assignment, question):
    before = _global_random_state()
    question.grade(reference(assignment.name))
    assert _global_random_state() == before


@pytest.mark.parametrize("assignment, question", SHARED, ids=map(_id, SHARED))
def test_the_released_stub_fails(assignment, question):
    # graded with the reference of the functions it uses, so that its own stub is what fails
    namespace = SimpleNamespace(**{name: getattr(reference(assignment.name), name) for name in question.uses},
                                **{question.function: getattr(released(assignment.name), question.function)})
    with pytest.raises(GradingFailure) as failure:
        question.grade(namespace)
    expected = question.stub_failure or rf"{question.function}[\w.+ ]* raised NotImplementedError"
    assert re.search(expected, str(failure.value))


USING = [(a, q, used) for a, q in SHARED for used in q.uses if q.function.endswith("backward")]


@pytest.mark.parametrize("assignment, question, used", USING, ids=[f"{_id((a, q))} with a stub {u}"
                                                                     for a, q, u in USING])
def test_a_stub_forward_is_named_as_what_to_fix_first(assignment, question, used):
    namespace = SimpleNamespace(**{name: getattr(reference(assignment.name), name) for name in question.args})
    setattr(namespace, used, getattr(released(assignment.name), used))
    with pytest.raises(GradingFailure) as failure:
        question.grade(namespace)
    assert f"{used} raised NotImplementedError" in str(failure.value)
    assert f"fix {used} first" in str(failure.value)


# ------------------------------------------------------------------------------ the mistakes


@pytest.mark.parametrize("assignment, mutant", MUTANTS, ids=map(_id, MUTANTS))
def test_each_mistake_fails_with_its_name(assignment, mutant):
    working = _working(assignment)
    failures = []
    for question in assignment.questions_of(mutant.function):
        if not question.names_mistakes:
            continue
        namespace = SimpleNamespace(**{name: working[name] for name in question.uses},
                                    **{mutant.function: mutant.implementation})
        with warnings.catch_warnings(record=True) as leaked:
            warnings.simplefilter("always")
            try:
                question.grade(namespace)
            except GradingFailure as failure:
                failures.append(failure)
        assert not leaked, f"{question.check} let a warning through: {leaked[0].message}"
    assert failures, f"no check of {mutant.function} fails {mutant.name!r}"
    for failure in failures:
        assert mutant in failure.mistakes
        assert str(failure).startswith(f"{mutant.function} ")
        assert known_mistake_line(mutant) in str(failure)


@pytest.mark.parametrize("assignment", [a for a in ASSIGNMENTS.values() if a.mutants], ids=lambda a: a.name)
def test_mistake_names_are_unique_and_every_graded_function_has_some(assignment):
    mutants = [m for module in assignment.mutant_modules() for m in module.MUTANTS]
    names = [(m.function, m.name) for m in mutants]
    assert len(names) == len(set(names))
    assert {m.function for m in mutants} == {q.function for q in assignment.questions if q.names_mistakes}


WORKING = [(a, q) for a, q in QUESTIONS if q.names_mistakes and set(q.args) <= set(_working(a))]


@pytest.mark.parametrize("assignment, question", WORKING, ids=map(_id, WORKING))
def test_the_catalogues_working_definitions_pass(assignment, question):
    question.grade(SimpleNamespace(**_working(assignment)))



@pytest.mark.parametrize("assignment", ASSIGNMENTS.values(), ids=lambda a: a.name)
def test_the_registry_says_where_each_part_of_an_exercise_lives(assignment):
    text = describe(assignment)
    assert all(f"{q.grade_id}: {q.function}" in text and f"grader_tests/{q.module}.py {q.check}" in text
               for q in assignment.questions)
    named = set(re.findall(r"[\w/]+\.(?:py|ipynb)", text))
    assert named and all((paths.REPO_ROOT / path).is_file() for path in named), named
