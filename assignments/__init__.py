"""Support package of the deep-learning course kit: data, gradient checks, plots, notebook tools, grading."""
