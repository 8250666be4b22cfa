"""Benchmark of the publishing reader (issue 4, item 6): records/s and peak RSS at two sizes.

Generates Alma-shaped publishing files of 20,000 and 200,000 records with two ITM fields each
(half of them without an NZ id, so half the records are also serialised as local bibs, rule I7),
then reads each through ``MarcPublishingFiles.read_items`` in a fresh subprocess, so that one run's
memory cannot hide in the other's peak. Target: peak RSS under 150 MB, and growing less than 20 %
from 20k to 200k records (streaming means memory follows the record, not the file).

Run from the repository root: ``/work/venv/bin/python bench/parse_publish.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
SIZES = (20_000, 200_000)
ITEMS_PER_RECORD = 2
RSS_TARGET_MB = 150.0
GROWTH_TARGET = 0.20


def generate(path: Path, records: int) -> None:
    """Write a publishing file line by line: the generator must not hold it either."""
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<collection>\n')
        for n in range(records):
            nz = (
                f'<datafield tag="035" ind1=" " ind2=" "><subfield code="a">'
                f"(EXLNZ-01WRLC_NETWORK)99{n:010d}3401</subfield></datafield>"
                if n % 2
                else ""
            )
            items = "".join(
                f'<datafield tag="ITM" ind1=" " ind2=" "><subfield code="b">39{n:010d}{k}'
                f'</subfield><subfield code="c">MAIN</subfield><subfield code="l">rs_shared_1'
                f'</subfield><subfield code="n">Box {k}</subfield><subfield code="8">23{n:012d}'
                f"{k}</subfield></datafield>"
                for k in range(ITEMS_PER_RECORD)
            )
            out.write(
                "<record><leader>01334cam a2200361 a 4500</leader>"
                '<controlfield tag="005">20200824142410.0</controlfield>'
                '<controlfield tag="008">991123s1999    bl       b    000 0 por  </controlfield>'
                f'<controlfield tag="001">99{n:012d}06421</controlfield>'
                f'<datafield tag="035" ind1=" " ind2=" "><subfield code="a">(OCoLC){n}'
                f"</subfield></datafield>{nz}"
                '<datafield tag="100" ind1="1" ind2=" "><subfield code="a">Stédile, João Pedro.'
                "</subfield></datafield>"
                f'<datafield tag="245" ind1="1" ind2="0"><subfield code="a">Title number {n} :'
                '</subfield><subfield code="b">a subtitle /</subfield><subfield code="c">'
                "Some Author.</subfield></datafield>"
                '<datafield tag="650" ind1=" " ind2="0"><subfield code="a">Organ</subfield>'
                '<subfield code="x">Methods.</subfield></datafield>'
                '<datafield tag="AVA" ind1=" " ind2=" "><subfield code="b">MAIN</subfield>'
                '<subfield code="j">rs_shared_1</subfield><subfield code="e">available'
                f"</subfield></datafield>{items}</record>\n"
            )
        out.write("</collection>\n")


def parse(path: Path) -> dict[str, float]:
    """Child process: read every item of ``path``; the figures as a dict."""
    if str(REPOSITORY) not in sys.path:
        sys.path.insert(0, str(REPOSITORY))
    from adapters.scf.formats.publishing import MarcPublishingFiles

    async def read_all() -> tuple[int, int]:
        items = 0
        last_record = 0
        async for item in MarcPublishingFiles().read_items(path, "01AAA_AB"):
            items += 1
            last_record = item.record_position
        return items, last_record

    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    items, records = asyncio.run(read_all())
    seconds = time.perf_counter() - started
    # Linux reports ru_maxrss in kilobytes.
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "records": records,
        "items": items,
        "seconds": seconds,
        "rss_before_mb": rss_before_kb / 1024,
        "rss_mb": rss_kb / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--parse", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.parse is not None:
        print(json.dumps(parse(arguments.parse)))
        return 0

    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="parse_publish-") as folder:
        for size in SIZES:
            path = Path(folder) / f"bench_{size}_new.xml"
            generate(path, size)
            megabytes = path.stat().st_size / 1024**2
            child = subprocess.run(  # noqa: S603 - our own interpreter running this very script
                [sys.executable, __file__, "--parse", str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            figures = json.loads(child.stdout)
            results[size] = figures
            path.unlink()
            print(
                f"{size:>7} records ({megabytes:6.1f} MB, {int(figures['items'])} items): "
                f"{figures['records'] / figures['seconds']:>8.0f} records/s "
                f"({figures['seconds']:.1f} s), peak RSS {figures['rss_mb']:.1f} MB "
                f"(after imports {figures['rss_before_mb']:.1f} MB)"
            )
    small, large = (results[size]["rss_mb"] for size in SIZES)
    growth = large / small - 1
    within = max(small, large) < RSS_TARGET_MB and growth < GROWTH_TARGET
    print(
        f"peak RSS growth {SIZES[0]} -> {SIZES[1]} records: {growth:+.1%} "
        f"(target < {GROWTH_TARGET:.0%}, peak < {RSS_TARGET_MB:.0f} MB): "
        f"{'within target' if within else 'OUT OF TARGET'}"
    )
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
