"""Helpers shared by test modules that are neither tests nor fixtures.

Test modules import from here (and from tests/backends.py, tests/providers/fakes.py and the
other non-test helper modules), never from another ``test_*.py`` module or a ``conftest.py``:
fixtures live in conftest files, where pytest finds them without an import.
"""
