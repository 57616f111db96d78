"""Support package of the deep-learning course kit, laid out by who uses it.

- `assignments.*` (this folder's modules): what students and their notebooks import: data, plots,
  gradient checks, experiment helpers and timings, model I/O, `split_batch`, the allocator,
  `previous`, the `check` command.
- `assignments.instructor`: releasing, grading, feedback, the student bundle, the hub, LMS uploads.
- `assignments.jail`: nbgrader's Execute step, run in a jailed kernel behind a wall.

The student side never imports the other two (tests/test_layout.py); the student bundle ships only it.
"""
