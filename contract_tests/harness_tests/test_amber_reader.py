"""Snapshots read back are the documents syrupy wrote, for every committed snapshot file."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from syrupy.extensions.amber.serializer import AmberDataSerializer

from harness.amber_reader import parse_value, read_snapshots
from harness.provenance import snapshot_files


def test_a_document_survives_amber_and_back() -> None:
    document: dict[str, Any] = {
        "jobs": [{"kwargs": {"track_id": "<track a.mp3>"}, "success": False, "tries": 2}],
        "player": {"current_track_id": None, "volume": 0.4},
        "run_order": ["high_priority: handle_file_created x 1"],
        "text": 'it\'s "quoted" })] dict({',
        "empty": {"list": [], "dict": {}},
    }
    assert parse_value(AmberDataSerializer.serialize(document)) == document


def test_every_committed_snapshot_reads_back_to_what_syrupy_would_write() -> None:
    files = snapshot_files()
    assert files, "no snapshot files found"
    for path in files:
        documents = read_snapshots(path)
        assert documents, f"{path.name}: no snapshot read"
        for name, document in documents.items():
            rewritten = AmberDataSerializer.serialize(document)
            block = path.read_text().split(f"# name: {name}\n", 1)[1].split("\n# ---", 1)[0]
            assert rewritten == textwrap.dedent(block), f"{Path(path).name}::{name} differs"
