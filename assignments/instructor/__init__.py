"""The instructor's side of the kit: releasing, grading a course (nbgrader, in parallel or on Dask),
feedback, the student bundle, the hub and LMS uploads. Students never get it (see `bundle`)."""
