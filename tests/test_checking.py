"""grader_tests.checking: what a hidden check reports for each way a function can go wrong."""
import numpy as np
import pytest

from grader_tests.checking import Case, GradingFailure, Mutant, check_case, close, known_mistake_line, tolerances

CASE = Case("a 2 x 2 matrix", {"x": np.array([[1.0, -2.0], [3.0, 4.0]])}, np.array([[2.0, -4.0], [6.0, 8.0]]))


def double(x):
    return 2 * x


def test_a_correct_function_passes_and_its_value_is_returned():
    np.testing.assert_array_equal(check_case("double", double, CASE, []), CASE.expected)


def test_an_exception_is_reported_with_its_type_and_message():
    def broken(x):
        raise KeyError("oops")

    with pytest.raises(GradingFailure, match="double raised KeyError: 'oops'"):
        check_case("double", broken, CASE, [])


def test_in_place_modification_is_reported_even_with_the_right_result():
    def doubles_in_place(x):
        x *= 2
        return x

    with pytest.raises(GradingFailure, match="modified its input x in place"):
        check_case("double", doubles_in_place, CASE, [])


def test_the_matching_mutant_is_named_and_others_are_not():
    def triple(x):
        return 3 * x

    mutants = [Mutant("double", "tripled", "use 2", triple),
               Mutant("double", "negated", "no sign", lambda x: -2 * x),
               Mutant("other", "tripled elsewhere", "n/a", triple)]
    with pytest.raises(GradingFailure) as failure:
        check_case("double", lambda x: 3 * x, CASE, mutants)
    message = str(failure.value)
    assert "known mistake: tripled." in message
    assert "negated" not in message and "elsewhere" not in message
    assert failure.value.mistakes == (mutants[0],)
    assert message.endswith("\n" + known_mistake_line(mutants[0]))


def test_a_failure_names_its_mistakes_in_its_message_and_as_data():
    tripled = Mutant("double", "tripled", "Multiply by 2, not 3.", lambda x: 3 * x)
    assert known_mistake_line(tripled) == "  This looks like a known mistake: tripled. Multiply by 2, not 3."
    failure = GradingFailure("double failed a hidden check on a matrix.", [tripled])
    assert str(failure) == "double failed a hidden check on a matrix.\n" + known_mistake_line(tripled)
    longer = failure.with_line("The parts that differ: dx.")
    assert longer.mistakes == (tripled,)
    assert str(longer).splitlines() == ["double failed a hidden check on a matrix.", "  The parts that differ: dx.",
                                        known_mistake_line(tripled)]
    assert GradingFailure("no mistake recognised").mistakes == ()


def test_a_mistake_is_the_same_whatever_wraps_its_implementation():
    tripled = Mutant("double", "tripled", "use 2", lambda x: 3 * x)
    assert Mutant("double", "tripled", "use 2", lambda x: tripled.implementation(x)) == tripled
    assert Mutant("double", "tripled", "use 3", tripled.implementation) != tripled


def test_warnings_inside_the_student_function_are_silenced(recwarn):
    def noisy(x):
        np.log(np.zeros(1))  # RuntimeWarning: divide by zero
        return 2 * x

    check_case("double", noisy, CASE, [])
    assert len(recwarn) == 0


def test_tolerances_follow_the_least_precise_dtype():
    assert tolerances(np.zeros(2)) == (1e-6, 1e-9)
    assert tolerances(np.zeros(2), np.zeros(2, np.float32)) == (1e-4, 1e-6)


def test_close_compares_tuples_shapes_and_nans():
    assert close((np.ones(2), 1.0), (np.ones(2), 1.0), 1e-6, 1e-9)
    assert not close((np.ones(2),), (np.ones(2), 1.0), 1e-6, 1e-9)
    assert not close(np.ones((2, 1)), np.ones(2), 1e-6, 1e-9)
    assert close(np.array([np.nan]), np.array([np.nan]), 1e-6, 1e-9)
    assert not close("text", np.ones(2), 1e-6, 1e-9)


def test_failures_on_images_summarise_the_arrays():
    x = np.arange(2 * 3 * 8 * 8, dtype=float).reshape(2, 3, 8, 8)
    case = Case("a batch of images", {"x": x}, 2 * x)
    with pytest.raises(GradingFailure) as failure:
        check_case("double", lambda x: 3 * x, case, [])
    message = str(failure.value)
    assert "array of shape (2, 3, 8, 8), dtype float64: min 0, max 383" in message
    assert len(message.splitlines()) < 10
