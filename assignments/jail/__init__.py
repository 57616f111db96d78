"""The grading jail: nbgrader's Execute step replaced (`isolated_execute`), the student's kernel
under bubblewrap (`sandbox`), the wall between kernel and grader (`remote`), and the reaping of
whatever a submission leaves running (`reaper`). Students never get it (see `instructor.bundle`)."""
