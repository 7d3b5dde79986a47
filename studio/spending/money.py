"""How an amount of US dollars reads, the same in the CLI and the dashboard."""

from __future__ import annotations


def usd(amount: float) -> str:
    """Dollars as a user reads them: ``$0.00`` when nothing was paid, cents down to a tenth.

    Per-call prices go down to tenths of a cent ($0.002 a review, $0.039 a Gemini image), so
    amounts under a dollar keep up to three decimals (four below $0.001) instead of rounding a
    real charge to ``$0.00``; from a dollar up, two decimals and thousands separators.

    Examples: ``usd(0) == "$0.00"``, ``usd(0.039) == "$0.039"``, ``usd(0.1) == "$0.10"``,
    ``usd(1234.5) == "$1,234.50"``.
    """
    size = abs(amount)
    if size == 0 or size >= 1:
        text = f"{size:,.2f}"
    else:
        text = f"{size:.{3 if size >= 0.001 else 4}f}".rstrip("0")
        if len(text.split(".")[1]) < 2:
            text = f"{size:.2f}"
    return f"{'-' if amount < 0 else ''}${text}"
