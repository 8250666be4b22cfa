"""Rule I3: records are streamed, so reading a file takes memory bounded by a record, not a file."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from adapters.scf.formats.publishing import MarcPublishingFiles

from .support import write_publishing_file

RECORDS = 20_000


async def test_I3_reading_20000_records_keeps_memory_bounded(tmp_path: Path) -> None:
    path = write_publishing_file(tmp_path / "big_new.xml", RECORDS)
    files = MarcPublishingFiles()

    tracemalloc.start()  # traces every thread, the parser's included
    try:
        count = 0
        last_position = 0
        async for item in files.read_items(path, "01AAA_AB"):
            count += 1
            last_position = item.record_position
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 2 * RECORDS
    assert last_position == RECORDS
    # The file is ~20 MB; holding it, or its records, would show here. The bound covers the
    # 64 KiB read chunk, one record, and the queued batches of items (with their local bibs).
    assert path.stat().st_size > 15 * 1024 * 1024
    assert peak < 3 * 1024 * 1024, f"peak {peak} bytes"
