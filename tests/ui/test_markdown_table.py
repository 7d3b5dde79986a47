"""Small tables drawn as Markdown read back cell for cell, whatever the cells hold."""

from __future__ import annotations

from tests.ui.markdown_tables import field_values, table_columns
from ui.markdown_table import field_lines, markdown_table


def test_a_cell_with_pipes_dollars_and_brackets_stays_one_cell() -> None:
    columns = {
        "status": ["failed", "succeeded"],
        "error": ["ProviderError: 500 | retry [later] $5 *now*", None],
        "cost": ["$0.039", "$0.00"],
    }
    assert table_columns(markdown_table(columns)) == {
        "status": ["failed", "succeeded"],
        "error": ["ProviderError: 500 | retry [later] $5 *now*", ""],
        "cost": ["$0.039", "$0.00"],
    }


def test_recipe_lines_keep_each_field_and_its_value() -> None:
    rows = [("Prompt", "a kite: **bold** | [link](x) at dusk"), ("Seed", "42")]
    assert field_values(field_lines(rows)) == dict(rows)
