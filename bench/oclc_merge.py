"""Benchmark of the OCLC data-sync merge (issue 16, item 4): wall time and peak RSS of
`almabridge run oclc-sync --analytics-institution CODE` on two reports of 500,000 lines each.
Not a test; not run in CI.

**The reports** (made here, from a fixed seed, written to a temporary folder): ``--lines`` lines
each (default 500,000), pipe-delimited as OCLC writes them. The first is Carleton's (JobIDs
``CEF_1012688_1748084545832::bib::n``), the second Western's (``UWO_1012743_…``).

* Network Ids: 97 % end in the NZ's suffix 5151; 2.9 % in an OCUL institution's (the report's
  own institution's 4 times in 5, another of the built-in OCUL table otherwise); 0.1 % in a
  suffix of no institution (``unknown_suffix.csv``).
* 10 % of the second report's lines (``--overlap``) carry a Network Id of the first report; of
  them 1 % of the lines (``--conflicts``) disagree with it (another incoming number, one in five
  another action too): conflicts, the first report's row kept (O2). The others agree: the same
  numbers and action under Western's JobID. So 950,000 Network Ids are merged at the defaults.
* About 6 % of the rows are DIFF (``--diff``: the incoming 035a differs from the existing one;
  2 % of those have no existing number); the others are SAME. Actions are mostly ``match``:
  88 % of the DIFF rows (the others field transfer, create, unresolved, replace) and 99.5 % of
  the SAME rows.

**The doublecheck.** The fake Alma's Analytics serves the report at ``[oclc_sync]
analytics_path`` (the OCUL default) for the NZ's institution, in pages of 1,000 rows, its
columns in another order than the export's and empty cells left out (as the golden test's fake
does): one row for 95 % of the DIFF Network Ids (the others are "not in analytics"), its 035a
the existing number, or for 3 % of the ``match`` rows the incoming one beside it ("updated
records"), a 035z for one in five, lifecycle ``In Repository``, one or two OCUL institutions.

The workflow asks for the DIFF ids 50 to a call with a Network Id filter (O5), which Alma
applies when the report prompts on that column. The fake does not apply filters (it accepts
and logs them), so each call would page through the whole 57,000-row report: about 65,000
pages instead of 1,100. The bench's fake applies the filter itself (`FilteringAnalytics`, in
front of the fake's app, serving each filtered call a report of the rows asked, through the
fake's own paging and rendering), as Alma does for a prompted report.

**The run.** The fake Alma runs under uvicorn on 127.0.0.1 in this process (its state and the
generated data are frozen out of the collector, `gc.freeze`), with Alma's threshold of 25 calls
a second. It is served by `entrypoints.demo.servers.http_server`, whose listening socket is
made with ``IPPROTO_TCP`` so that asyncio turns Nagle off for its connections: otherwise every
answer waits about 40 ms for the client's delayed ACK (43 ms against 0.9 ms for a bare Starlette
answer here), which alone would make 1,100 Analytics calls last
50 s. The run is a child process (this script with a hidden ``--child`` flag, started with
`asyncio.create_subprocess_exec`): the options are those `almabridge run oclc-sync --config F
--report CEF.txt --report UWO.txt --analytics-institution 01AAA_AB` stores, the workflow is the
one the entry builds from them (`OclcSyncJob`, its own `AlmaHttpClient` at the configured
``rate_limit_per_second = 25``, Alma's limit), run by `JobRunner` on a SQLite ledger in a
temporary folder (migrated by this process, so that Alembic is not in the child's peak), with
the outputs in that folder. The wall time is `JobRunner.run` from call to return. The peak RSS
is the child's own high-water mark (Linux's ``VmHWM``: its imports, this script's among them,
and set-up included; the generator and the fake not). Not ``ru_maxrss``, which Linux carries
over the exec from the parent's fork: it read 639 MB before the run had read a line. No
baseline is subtracted (the child's RSS after its set-up is printed beside it).

Phases are read from the run's progress messages, each stamped (and the peak RSS so far taken)
as it arrives: parse (the reports read, named as inputs with their sha256, and parsed), merge,
outputs (the split's CSVs and ``comparison_file_IZ.xlsx``, each written and named), Analytics
(until the doublecheck is read: the workflow starts reading it as soon as the DIFF rows are
known, while the outputs are written, so this phase is what is left of it after them),
classification (classify, the identifier report and the three update files written), records
(every Network Id's run record, 10,000 to a commit) and the end of the run. A thread samples
the RSS every 50 ms as well (a sample needs the GIL, so a spike inside one long call shows in
the peak only). The Analytics calls' spacing is read from the fake's call log.

The run's counts are checked against the generator's (merged Network Ids, NZ rows, DIFF,
conflicts, the sheets, the records). The sha256 of the outputs and of the run records (kind,
key, outcome, reason, detail, in the ledger's order) are printed, read after the measured run,
so that a change made for speed can be shown to change no output (``--digests``: each file's).
``--messages`` prints every progress message; ``--profile FILE`` profiles the run (cProfile,
the event loop's thread only; slower).

Targets: <= 60 s and <= 600 MB peak RSS on this machine. Prints the figures, then one PASS/FAIL
line per target and for the counts; exits 1 on a miss.

Run from the repository root: ``.venv/bin/python bench/oclc_merge.py`` (about 2 minutes: 8 s
to make the reports, the run, 10 s of digests); ``--lines 50000`` for a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import hashlib
import itertools
import json
import platform
import random
import re
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

SCRIPT = Path(__file__).resolve()
REPOSITORY = SCRIPT.parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))


import entrypoints  # noqa: E402, F401  (its warning filters go in before asyncssh is imported)
from adapters.fake_alma import (  # noqa: E402
    FakeAlmaState,
    FaultConfig,
    FaultInjector,
    create_fake_alma_app,
    state_from_file,
)
from adapters.ledger.clock import SystemClock  # noqa: E402
from adapters.ledger.migrate import upgrade  # noqa: E402
from adapters.ledger.sql import SqlLedger  # noqa: E402
from application.shared.run_context import RunProgress  # noqa: E402
from application.shared.runs import JobRunner  # noqa: E402
from application.shared.workflow_settings import (  # noqa: E402
    OCUL_ANALYTICS_PATH,
    OCUL_INSTITUTIONS,
)
from domain.oclc.doublecheck import HEADINGS  # noqa: E402
from entrypoints.demo.servers import http_server  # noqa: E402
from entrypoints.oclc_wiring import OCLC_SYNC_ENTRY  # noqa: E402
from entrypoints.workflow_entries import read_config  # noqa: E402

NZ, KEY, RATE = "01AAA_AB", "ab-example-key", 25
"""The fake's institution standing in for the Network Zone, its key, Alma's limit."""
NZ_SUFFIX = "5151"
UNKNOWN_SUFFIX = "4242"
"""A suffix of no OCUL institution."""
CEF_JOB, UWO_JOB = "CEF_1012688_1748084545832::bib::", "UWO_1012743_1748081412178::bib::"
CEF_SUFFIX, UWO_SUFFIX = "5153", "5163"
PAGE = 1000
COLUMN_ORDER = [HEADINGS[i] for i in (3, 4, 2, 0, 1)]
TARGET_SECONDS = 60.0
TARGET_MB = 600.0
SEED = 16
RSS_EVERY = 0.05
CHILD_FLAG = "--child"
REPORTS_PATH = "/almaws/v1/analytics/reports"
_FILTER_ID = re.compile(r'<sawx:expr xsi:type="xsd:string">([^<]*)</sawx:expr>')
DIFF_ACTIONS = (
    ("match", 0.88),
    ("field transfer", 0.05),
    ("create", 0.03),
    ("unresolved", 0.03),
    ("replace", 0.01),
)
NAMES = {institution.id: institution.name for institution in OCUL_INSTITUTIONS}


# ---- the reports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One report line's five values, ``""`` for an empty one."""

    job_id: str
    network_id: str
    existing: str
    incoming: str
    action: str

    def text(self) -> str:
        return f"{self.job_id}|{self.network_id}|{self.existing}|{self.incoming}|{self.action}\n"

    @property
    def diff(self) -> bool:
        return self.existing != self.incoming


@dataclass
class Expected:
    """What the run must find, as the generator made it."""

    lines: int = 0
    merged: int = 0
    nz: int = 0
    diff: int = 0
    conflicts: int = 0
    agreeing: int = 0
    institutions: int = 0
    unknown: int = 0
    sheets: Counter[str] = field(default_factory=Counter)


@dataclass
class Generated:
    reports: list[Path]
    doublecheck: list[dict[str, str]]
    expected: Expected


class Maker:
    """Network Ids, JobIDs and OCLC numbers from one seeded generator."""

    def __init__(self, seed: int, ids: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a benchmark's data
        self._serials = iter(self.rng.sample(range(10**9), ids))
        self._bibs = iter(self.rng.sample(range(1_000_000, 9_999_999), ids))
        others = [i.id for i in OCUL_INSTITUTIONS]
        self._others = others

    def network_id(self, own_suffix: str) -> str:
        draw = self.rng.random()
        if draw < 0.97:
            suffix = NZ_SUFFIX
        elif draw < 0.999:
            suffix = own_suffix if self.rng.random() < 0.8 else self.rng.choice(self._others)
        else:
            suffix = UNKNOWN_SUFFIX
        serial = next(self._serials)
        return f"99{serial:09d}0{suffix}" if suffix != NZ_SUFFIX else f"99{serial:09d}{suffix}"

    def number(self) -> str:
        return str(self.rng.randrange(100_000, 1_600_000_000))

    def action(self, diff: bool) -> str:
        if not diff:
            return "match" if self.rng.random() < 0.995 else "field transfer"
        draw, total = self.rng.random(), 0.0
        for action, share in DIFF_ACTIONS:
            total += share
            if draw < total:
                return action
        return "match"

    def line(self, job: str, own_suffix: str, diff_share: float) -> Line:
        existing = self.number()
        diff = self.rng.random() < diff_share
        incoming = self.number() if diff else existing
        if diff and self.rng.random() < 0.02:
            existing = ""
        return Line(
            f"{job}{next(self._bibs)}",
            self.network_id(own_suffix),
            existing,
            incoming,
            self.action(diff),
        )

    def job_id(self, job: str) -> str:
        return f"{job}{next(self._bibs)}"


def generate(folder: Path, lines: int, overlap: float, conflicts: float, diff: float) -> Generated:
    """The two reports in ``folder``, the doublecheck rows of the DIFF ids, the expected counts
    (see the module text)."""
    shared = int(lines * overlap)
    conflicting = int(lines * conflicts)
    maker = Maker(SEED, 2 * lines)
    rng = maker.rng
    first = [maker.line(CEF_JOB, CEF_SUFFIX, diff) for _ in range(lines)]
    second = [maker.line(UWO_JOB, UWO_SUFFIX, diff) for _ in range(lines - shared)]
    for index, kept in enumerate(rng.sample(first, shared)):
        if index < conflicting:
            action = kept.action if rng.random() < 0.8 else "create"
            other = Line(
                maker.job_id(UWO_JOB), kept.network_id, kept.existing, maker.number(), action
            )
        else:
            other = Line(
                maker.job_id(UWO_JOB), kept.network_id, kept.existing, kept.incoming, kept.action
            )
        second.append(other)
    rng.shuffle(second)
    paths = [folder / "CEF_BibProcessingReport.txt", folder / "UWO_BibProcessingReport.txt"]
    for path, report in zip(paths, (first, second), strict=True):
        with path.open("w", encoding="utf-8", newline="") as stream:
            stream.writelines(line.text() for line in report)

    # The merge keeps the first report's row of a shared id (no [oclc_sync] primary).
    kept_rows = {line.network_id: line for line in second}
    kept_rows.update((line.network_id, line) for line in first)
    expected = Expected(lines=2 * lines, merged=len(kept_rows), conflicts=conflicting)
    expected.agreeing = shared - conflicting
    institution_suffixes = set(NAMES)
    doublecheck: list[dict[str, str]] = []
    for line in kept_rows.values():
        suffix = line.network_id[-4:]
        if suffix == NZ_SUFFIX:
            expected.nz += 1
        elif suffix in institution_suffixes:
            expected.institutions += 1
            continue
        else:
            expected.unknown += 1
            continue
        if not line.diff:
            continue
        expected.diff += 1
        if rng.random() >= 0.95:
            expected.sheets["not in analytics"] += 1
            continue
        numbers = [line.existing or maker.number()]
        if line.action == "match":
            if rng.random() < 0.03:
                numbers.append(line.incoming)
                expected.sheets["updated records"] += 1
            else:
                expected.sheets["update by job"] += 1
        else:
            expected.sheets["records for review"] += 1
        holders = rng.sample(sorted(NAMES.values()), rng.choice((1, 1, 2)))
        doublecheck.append(
            {
                "Network Id": line.network_id,
                "OCLC Control Number (035a)": "; ".join(numbers),
                "OCLC Control Number (035z)": maker.number() if rng.random() < 0.2 else "",
                "Bibliographic Lifecycle": "In Repository",
                "Institution Name": " | ".join(holders),
            }
        )
    rng.shuffle(doublecheck)
    return Generated(paths, doublecheck, expected)


# ---- the fake Alma, filtering as a prompted report does ---------------------------------------


class FilteringAnalytics:
    """In front of the fake's app: a first Analytics call with a Network Id filter is served a
    report of the rows asked (in the report's order) through the fake's own paging; every other
    request goes through unchanged (see the module text)."""

    def __init__(self, app: Any, state: FakeAlmaState, rows: Sequence[dict[str, str]]) -> None:
        self._app = app
        self._state = state
        self._rows = rows
        self._by_id = {row["Network Id"]: index for index, row in enumerate(rows)}
        self.filtered = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == REPORTS_PATH:
            params = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
            given = dict(params)
            if "filter" in given and "token" not in given and "path" in given:
                scope = dict(scope, query_string=self._filtered(params, given).encode())
        await self._app(scope, receive, send)

    def _filtered(self, params: list[tuple[str, str]], given: dict[str, str]) -> str:
        ids = _FILTER_ID.findall(given["filter"])
        found = sorted(self._by_id[i] for i in set(ids) if i in self._by_id)
        self.filtered += 1
        path = f"{given['path']}#filtered-{self.filtered}"
        self._state.add_report(
            NZ,
            path,
            HEADINGS,
            [self._rows[index] for index in found],
            page_size=PAGE,
            column_order=COLUMN_ORDER,
            omit_empty=True,
        )
        return urlencode([(k, path if k == "path" else v) for k, v in params])


# ---- the child: the measured run ---------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak RSS so far: Linux's ``VmHWM``, the high-water mark of this program's
    memory. Not ``ru_maxrss``: Linux carries it over an exec, so a child started from a big
    process would start with the parent's RSS as its peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def rss_mb() -> float:
    """This process's RSS now."""
    fields = Path("/proc/self/statm").read_text().split()
    return int(fields[1]) * resource.getpagesize() / 2**20


def ledger_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'ledger.db'}"


def records_digest(database: Path, run_id: int) -> tuple[int, str]:
    """How many records the run has and the sha256 of them all, in the ledger's order."""
    digest = hashlib.sha256()
    count = 0
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT kind, key, outcome, reason, detail FROM run_records WHERE run_id = ? "
            "ORDER BY id",
            (run_id,),
        )
        for row in rows:
            digest.update("\x1f".join(row).encode() + b"\x1e")
            count += 1
    return count, digest.hexdigest()


async def child(config: Path, folder: Path, profile: str, reports: Sequence[str]) -> None:
    """In the child: the run as `almabridge run oclc-sync` builds it; one JSON line of figures.
    With a ``profile`` file (not ``-``), the run is profiled (cProfile) into it."""
    args = [arg for report in reports for arg in ("--report", report)]
    args += ["--analytics-institution", NZ]
    setup = read_config(config)
    options = OCLC_SYNC_ENTRY.options(args, setup)
    workflow = OCLC_SYNC_ENTRY.build(options, setup)
    ledger = SqlLedger.from_url(ledger_url(folder), SystemClock())
    messages: list[tuple[float, str, float]] = []
    started = 0.0

    def progress(update: RunProgress) -> None:
        if update.message:
            messages.append((time.perf_counter() - started, update.message, peak_rss_mb()))

    runner = JobRunner(ledger, SystemClock(), ledger, on_progress=progress)
    sampler = RssSampler()
    try:
        await ledger.check_ready()
        gc.collect()
        setup_mb = rss_mb()
        profiler = cProfile.Profile() if profile != "-" else None
        started = time.perf_counter()
        sampler.start(started)
        if profiler is not None:
            profiler.enable()
        result = await runner.run(workflow, out_dir=folder / "out", options=options)
        wall = time.perf_counter() - started
        sampler.stop()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        peak_mb = peak_rss_mb()
    finally:
        await ledger.close()
    run = result.run
    count, digest = records_digest(folder / "ledger.db", run.id)
    figures = {
        "status": run.status.value,
        "reason": run.reason,
        "counts": [run.counts.ok, run.counts.skipped, run.counts.failed],
        "wall": wall,
        "setup_mb": setup_mb,
        "peak_mb": peak_mb,
        "messages": messages,
        "rss": sampler.samples,
        "outputs": [[f.name, f.sha256] for f in run.outputs],
        "records": count,
        "records_sha256": digest,
    }
    print(json.dumps(figures))


class RssSampler:
    """This process's RSS every `RSS_EVERY` seconds, in a thread, stamped from the run's
    start: the peak of each phase."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._started = 0.0

    def start(self, started: float) -> None:
        self._started = started
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(RSS_EVERY):
            self.samples.append((time.perf_counter() - self._started, rss_mb()))


# ---- the parent --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    status: str
    reason: str | None
    counts: tuple[int, int, int]
    wall: float
    setup_mb: float
    peak_mb: float
    messages: list[tuple[float, str, float]]
    rss: list[tuple[float, float]]
    outputs: list[tuple[str, str]]
    records: int
    records_sha256: str
    analytics_calls: int
    analytics_span: float
    analytics_gap: float
    refused: int
    filtered: int


def write_config(folder: Path, url: str) -> Path:
    config = folder / "workflows.toml"
    config.write_text(
        f'[alma.{NZ}]\nurl = "{url}"\napikey = "{KEY}"\nrate_limit_per_second = {RATE}\n'
    )
    return config


async def measure(generated: Generated, folder: Path, profile: str) -> Figures:
    state = state_from_file()
    state.add_report(
        NZ,
        OCUL_ANALYTICS_PATH,
        HEADINGS,
        generated.doublecheck,
        page_size=PAGE,
        column_order=COLUMN_ORDER,
        omit_empty=True,
    )
    app = FilteringAnalytics(
        create_fake_alma_app(state, FaultInjector(FaultConfig(), seed=state.seed)),
        state,
        generated.doublecheck,
    )
    await upgrade(ledger_url(folder))
    gc.collect()
    gc.freeze()  # the fake's state and the generated rows out of the collector
    async with http_server(app) as url:
        config = write_config(folder, url)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            CHILD_FLAG,
            str(config),
            str(folder),
            profile,
            *(str(path) for path in generated.reports),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
    gc.unfreeze()
    lines = out.decode().strip().splitlines()
    if process.returncode != 0 or not lines:
        sys.stderr.write(err.decode())
        raise SystemExit(f"the measured run failed (exit {process.returncode})")
    figures = json.loads(lines[-1])
    calls = [call for call in state.call_log if "analytics" in call.path]
    return Figures(
        status=str(figures["status"]),
        reason=figures["reason"],
        counts=(int(figures["counts"][0]), int(figures["counts"][1]), int(figures["counts"][2])),
        wall=float(figures["wall"]),
        setup_mb=float(figures["setup_mb"]),
        peak_mb=float(figures["peak_mb"]),
        messages=[(float(at), str(text), float(mb)) for at, text, mb in figures["messages"]],
        rss=[(float(at), float(mb)) for at, mb in figures["rss"]],
        outputs=[(str(name), str(sha)) for name, sha in figures["outputs"]],
        records=int(figures["records"]),
        records_sha256=str(figures["records_sha256"]),
        analytics_calls=sum(1 for call in calls if call.status != 429),
        analytics_span=(calls[-1].time - calls[0].time).total_seconds() if calls else 0.0,
        analytics_gap=statistics.median(
            (b.time - a.time).total_seconds() for a, b in itertools.pairwise(calls)
        )
        if len(calls) > 1
        else 0.0,
        refused=sum(1 for call in calls if call.status == 429),
        filtered=app.filtered,
    )


# ---- the report --------------------------------------------------------------------------------

PHASES = (
    ("parse (read, hash, parse both reports)", re.compile(r": \d+ rows \("), True),
    ("merge", re.compile(r"^merged into "), False),
    ("outputs (split CSVs, comparison xlsx)", re.compile(r"^NZ \d+ \(DIFF"), False),
    ("Analytics (rest of the doublecheck read)", re.compile(r"^the doublecheck has \d+"), False),
    ("classification (identifier report, update files)", re.compile(r"^do_not_change \d+"), False),
    ("records (every Network Id)", re.compile(r"^left by hand|^nothing to update"), False),
)
"""Each phase: its name, the message that ends it, and whether the last such message does
(the last report parsed) rather than the first."""


def phase_times(
    messages: Sequence[tuple[float, str, float]],
    rss: Sequence[tuple[float, float]],
    wall: float,
    peak_mb: float,
) -> list[tuple[str, float, float, float]]:
    """Each phase's seconds, from the stamp of the message that ends the one before; the most
    RSS sampled in it and the peak RSS so far at its end (MB; a sample needs the GIL, so a
    spike inside one long call shows in the peak only)."""
    found: list[tuple[str, float, float, float]] = []
    last = 0.0
    ends_at: list[tuple[str, tuple[float, float] | None]] = []
    for name, ends, use_last in PHASES:
        stamps = [(at, peak) for at, text, peak in messages if ends.search(text)]
        ends_at.append((name, (stamps[-1] if use_last else stamps[0]) if stamps else None))
    ends_at.append(("end of the run (ledger, run finished)", (wall, peak_mb)))
    for name, stamp in ends_at:
        if stamp is None:
            continue
        at, peak = stamp
        sampled = max((mb for when, mb in rss if last <= when <= at), default=0.0)
        found.append((name, at - last, sampled, peak))
        last = at
    return found


def message_number(messages: Sequence[tuple[float, str, float]], pattern: str) -> int | None:
    for _, text, _ in messages:
        match = re.search(pattern, text)
        if match:
            return int(match.group(1).replace(",", ""))
    return None


def report(
    generated: Generated, figures: Figures, lines_each: int, show_messages: bool, digests: bool
) -> bool:
    expected = generated.expected
    messages = figures.messages
    print(f"{platform.python_implementation()} {platform.python_version()}, {sys.platform}")
    print(
        f"reports: 2 x {lines_each:,} lines (CEF, UWO), {expected.lines:,} lines; "
        f"{int(lines_each * 0.1):,} ids in both, {expected.conflicts:,} conflicting"
    )
    print(
        f"doublecheck: {len(generated.doublecheck):,} rows in the fake's Analytics, pages of "
        f"{PAGE}; {figures.analytics_calls:,} Analytics calls ({figures.filtered:,} filtered "
        f"chunks), {figures.refused} 429s; {figures.analytics_span:.1f} s from the first to the "
        f"last, a median {figures.analytics_gap * 1000:.0f} ms apart (the client's throttle "
        f"spaces calls {1000 / RATE:.0f} ms apart, at most {RATE} in 1.02 s)"
    )
    print(
        f"run {figures.status}: ok {figures.counts[0]:,}, skipped {figures.counts[1]:,}, "
        f"failed {figures.counts[2]:,}" + (f" ({figures.reason})" if figures.reason else "")
    )
    found = {
        "merged Network Ids": message_number(messages, r"^merged into (\d+) Network Ids"),
        "NZ rows": message_number(messages, r"^NZ (\d+) \(DIFF"),
        "DIFF": message_number(messages, r"\(DIFF (\d+),"),
        "conflicts": message_number(messages, r"agreeing rows kept once, (\d+) conflicts"),
        "agreeing": message_number(messages, r"collapsed, (\d+) agreeing"),
        "update by job": message_number(messages, r"update by job (\d+)"),
        "updated records": message_number(messages, r"updated records (\d+)"),
        "records for review": message_number(messages, r"records for review (\d+)"),
        "not in analytics": message_number(messages, r"not in analytics (\d+)"),
        "records written": figures.records,
    }
    wanted = {
        "merged Network Ids": expected.merged,
        "NZ rows": expected.nz,
        "DIFF": expected.diff,
        "conflicts": expected.conflicts,
        "agreeing": expected.agreeing,
        "update by job": expected.sheets["update by job"],
        "updated records": expected.sheets["updated records"],
        "records for review": expected.sheets["records for review"],
        "not in analytics": expected.sheets["not in analytics"],
        "records written": expected.merged,
    }
    print(
        f"lines {expected.lines:,}; institutions' rows {expected.institutions:,}, unknown "
        f"suffix {expected.unknown:,}"
    )
    for name, value in found.items():
        shown = "?" if value is None else f"{value:,}"
        print(f"  {name}: {shown} (generated {wanted[name]:,})")
    if show_messages:
        for at, text, mb in messages:
            print(f"  {at:7.2f} s  {mb:5.0f} MB  {text}")
    for name, seconds, sampled, peak in phase_times(
        messages, figures.rss, figures.wall, figures.peak_mb
    ):
        print(f"  {name}: {seconds:.1f} s, RSS up to {sampled:.0f} MB sampled, peak {peak:.0f} MB")
    print(f"total wall time {figures.wall:.1f} s (JobRunner.run, in the child process)")
    print(
        f"peak RSS {figures.peak_mb:.0f} MB (the child process's own VmHWM, no baseline "
        f"subtracted; {figures.setup_mb:.0f} MB after its set-up; the generator and the fake "
        "are in the parent)"
    )
    if digests:
        for name, sha in figures.outputs:
            print(f"  output {name}: sha256 {sha[:16]}")
    dated = re.compile(r"_\d{4}-\d{2}-\d{2}\.xlsx$")
    combined = hashlib.sha256(
        "".join(f"{dated.sub('.xlsx', name)} {sha}\n" for name, sha in figures.outputs).encode()
    ).hexdigest()
    print(
        f"outputs: {len(figures.outputs)} files, sha256 of their names and sha256s (the report's "
        f"date left out) {combined[:16]}; run records: {figures.records:,}, sha256 "
        f"{figures.records_sha256[:16]}"
    )

    ok = True
    hit = figures.wall <= TARGET_SECONDS
    ok &= hit
    print(
        f"{'PASS' if hit else 'FAIL'}  wall time {figures.wall:.1f} s (target <= "
        f"{TARGET_SECONDS:g} s)"
    )
    hit = figures.peak_mb <= TARGET_MB
    ok &= hit
    print(
        f"{'PASS' if hit else 'FAIL'}  peak RSS {figures.peak_mb:.0f} MB (target <= "
        f"{TARGET_MB:g} MB)"
    )
    hit = figures.status == "ok" and all(found[name] == wanted[name] for name in wanted)
    ok &= hit
    print(f"{'PASS' if hit else 'FAIL'}  run ok, its counts equal the generator's")
    return ok


async def bench(given: argparse.Namespace) -> bool:
    lines: int = given.lines
    with tempfile.TemporaryDirectory(prefix="oclc-merge-") as name:
        folder = Path(name)
        started = time.perf_counter()
        generated = generate(folder, lines, given.overlap, given.conflicts, given.diff)
        print(f"reports and doublecheck made in {time.perf_counter() - started:.1f} s")
        figures = await measure(generated, folder, given.profile or "-")
    return report(generated, figures, lines, given.messages, given.digests)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=500_000, help="lines of each report")
    parser.add_argument("--overlap", type=float, default=0.10, help="share of shared ids")
    parser.add_argument("--conflicts", type=float, default=0.01, help="share of conflicts")
    parser.add_argument("--diff", type=float, default=0.06, help="share of DIFF rows")
    parser.add_argument(
        "--messages", action="store_true", help="print every progress message with its time"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="profile the run (cProfile stats to FILE; slower)"
    )
    parser.add_argument("--digests", action="store_true", help="print each output's sha256")
    parser.add_argument(CHILD_FLAG, nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    given = parser.parse_args(argv)
    if given.child:
        config, folder, profile, *reports = given.child
        asyncio.run(child(Path(config), Path(folder), profile, reports))
        return
    if given.profile:
        given.profile = str(Path(given.profile).resolve())
    ok = asyncio.run(bench(given))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
