"""docs/compatibility.md covers every profile, and every real profile's cell says where it was read."""

from __future__ import annotations

from pathlib import Path

from conduit_widget.server.profiles import PROFILES

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
# What a cell of each real profile must carry: a citation of that version's source or of ASP.NET's, or a statement
# that it is the same as a column that has one.
SOURCED = {
    "conduit-2025.08": ("[H ", "[A ", "the same"),
    "conduit-gateway": ("[G ", "[A ", "the same"),
    "js-client-docs": ("[D ", "[D:", "as 2025.08", "the same"),
}


def _tables(text: str) -> list[list[list[str]]]:
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            current.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables


def test_every_contract_table_has_a_column_per_profile_and_every_real_cell_a_source():
    tables = [t for t in _tables(DOC.read_text(encoding="utf-8")) if t[0][0] == "point"]
    assert len(tables) >= 3, "the REST, hub and event tables"
    rows = 0
    for header, _rule, *body in tables:
        columns = [cell.strip("`") for cell in header[1:]]
        assert columns == [*list(PROFILES)[1:], "default"], columns
        for row in body:
            rows += 1
            assert len(row) == len(header), row
            for profile, cell in zip(columns, row[1:], strict=True):
                assert cell, (row[0], profile)
                if profile in SOURCED:
                    assert any(mark in cell for mark in SOURCED[profile]), f"{row[0]} / {profile}: no source: {cell}"
    assert rows >= 40
