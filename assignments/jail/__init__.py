"""The grading jail: nbgrader's Execute step replaced (`isolated_execute`), which starts the
student's kernel (`jailed_kernel`) under bubblewrap (`sandbox`), runs the hidden tests in the grader
(`hidden_tests`) across the wall between kernel and grader (`remote`), stops what a cell leaves
running (`strays`) and writes what happened into the notebook (`grading_record`); the reaping of
whatever a submission leaves running when grading ends (`reaper`). Students never get it (see
`instructor.bundle`)."""
