"""The catalogue of student mistakes: one module per assignment, each with a `MUTANTS` list.

Every hidden check names the mutant whose behaviour matches a failing submission, and the kit's
tests prove that every mutant listed here fails the check of the function it breaks.
"""
