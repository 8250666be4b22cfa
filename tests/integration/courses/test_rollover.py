"""The rollover report, `almabridge run course-rollover-report` (rules L8, B7): the candidates
found in last year's, this year's or another year's courses, the wait for Alma's course loader
job (or the delay after the last push), and the report e-mailed to a real local SMTP server and
named on Slack (a local webhook receiver)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from adapters.fake_alma.memory_roles import MemoryJobInstances
from application.courses.loader_wait import JobWait, PushDelayWait
from application.courses.rollover_report import COURSE_ROLLOVER_REPORT
from application.shared.run_records import RecordOutcome, RunStatus
from domain.courses.loader_row import Operation
from tests.integration.courses.support import (
    AB,
    LAST_YEAR,
    THIS_YEAR,
    Cem,
    RecordingSleep,
    Rig,
    body_text,
    code,
    files,
    loader_rows,
    local_stamp,
    seed_course,
)
from tests.integration.notify.servers import (
    WEBHOOK_PATH,
    Mailbox,
    SlackInbox,
    served_over_tcp,
    slack_receiver,
    smtp_server,
)

LAST = str(LAST_YEAR)
JOB = "S7777777770004101"


def _candidates(rig: Rig) -> tuple[list[Cem], dict[str, tuple[str, str]]]:
    """The CEM rows of every L8 case, the courses they may roll over from seeded; and the
    expected ROLLOVER rows by key: (old code, old section)."""
    state = rig.alma.state
    from_section = Cem("BIO100", "74001", copy_sln="64001", copy_year=LAST)
    seed_course(state, code("BIO100", "64001", LAST_YEAR), "64001", LAST_YEAR, lists=1)
    # A course of another year with that SLN is not a second match: the copy year decides.
    seed_course(state, code("BIO100", "64001", 2024), "64001", 2024, lists=1)
    from_search_id = Cem("BIO200", "74002", copy_sln="64-002", copy_year=LAST)
    seed_course(
        state, code("BIO200", "01", LAST_YEAR), "01", LAST_YEAR, searchable_ids=["64-002"], lists=2
    )
    two = Cem("BIO300", "74003", copy_sln="64003", copy_year=LAST)
    seed_course(state, code("BIO300", "64003", LAST_YEAR), "64003", LAST_YEAR, lists=1)
    seed_course(state, code("BIO301", "64003", LAST_YEAR), "64003", LAST_YEAR, lists=1)
    no_lists = Cem("BIO400", "74004", copy_sln="64004", copy_year=LAST)
    seed_course(state, code("BIO400", "64004", LAST_YEAR), "64004", LAST_YEAR)
    other_year = Cem("BIO500", "74005", copy_sln="64005", copy_year="2019")
    seed_course(state, code("BIO500", "64005", 2019), "64005", 2019, lists=1)
    other_year_id = Cem("BIO600", "74006", copy_sln="64006", copy_year="2018")
    seed_course(
        state, code("BIO600", "02", 2018), "02", 2018, searchable_ids=["BIO600", "64006"], lists=1
    )
    no_year = Cem("BIO700", "74007", copy_sln="64007")
    nowhere = Cem("BIO800", "74008", copy_sln="64008", copy_year=LAST)
    no_copy = Cem("BIO900", "74009", copy_sln="0", copy_year=LAST)
    deleted = Cem("BIO950", "74010", status="DENIED", copy_sln="64001", copy_year=LAST)
    this_year = Cem("CHM100", "74011", copy_sln="74099", copy_year=str(THIS_YEAR))
    seed_course(state, code("CHM100", "74099"), "74099", THIS_YEAR, lists=3)
    rows = [
        from_section,
        from_search_id,
        two,
        no_lists,
        other_year,
        other_year_id,
        no_year,
        nowhere,
        no_copy,
        deleted,
        this_year,
    ]
    expected = {
        from_section.key: (code("BIO100", "64001", LAST_YEAR), "64001"),
        from_search_id.key: (code("BIO200", "01", LAST_YEAR), "64002"),
        other_year.key: (code("BIO500", "64005", 2019), "64005"),
        other_year_id.key: (code("BIO600", "02", 2018), "64006"),
        this_year.key: (code("CHM100", "74099"), "74099"),
    }
    return rows, expected


async def test_L8_B7_the_report_lists_exactly_one_copy_course_with_lists_mailed_and_on_slack(
    rig: Rig,
) -> None:
    rows, expected = _candidates(rig)
    rig.put_cem(rows)
    rig.alma.state.add_job(AB, JOB, name="Course loader")
    instance = rig.alma.state.add_job_instance(AB, JOB, ["COMPLETED_SUCCESS"])
    rig.courses.update(job_id=JOB, job_poll_seconds=1)
    mailbox, inbox = Mailbox(), SlackInbox()
    with smtp_server(mailbox) as port:
        async with served_over_tcp(slack_receiver(inbox)) as slack:
            rig.notify = {
                "smtp": {"host": "127.0.0.1", "port": port, "starttls": False},
                "slack": {"webhook": slack + WEBHOOK_PATH},
                COURSE_ROLLOVER_REPORT: {"to": ["reserves@example.edu"], "slack": True},
            }
            rig.notify["smtp"]["from"] = "almabridge@example.edu"

            result = await rig.run(
                rig.job(COURSE_ROLLOVER_REPORT), notifications=rig.notifications()
            )

    assert result.run.status is RunStatus.OK, (result.run.reason, result.failures)
    assert result.notify_failures == ()
    # rule L8: written as rollover_{YYYYmmddHHMMSS}.txt under --out, in the CEM file's order.
    report = rig.out / rig.report_name
    assert files(rig.out) == [rig.report_name]
    assert [d.name for d in result.run.outputs] == [rig.report_name]
    written = loader_rows(report)
    assert {
        f"{r.course_code} {r.section_id}": (r.old_course_code, r.old_section_id) for r in written
    } == expected
    assert [f"{r.course_code} {r.section_id}" for r in written] == list(expected)
    assert all(r.operation is Operation.ROLLOVER for r in written)
    assert {r.processing_department for r in written} == {"POLYTECHNIC"}  # campus as in L3
    kinds = await rig.kinds(result.run.id)
    assert kinds["loader_job"][JOB].reason == (
        f"course loader job {JOB} instance {instance.instance_id} ended COMPLETED_SUCCESS"
    )
    found = kinds["rollover"]
    assert {k for k, r in found.items() if r.outcome is RecordOutcome.OK} == set(expected)
    skipped = {k: r.reason for k, r in found.items() if r.outcome is RecordOutcome.SKIPPED}
    assert skipped == {
        rows[2].key: f"2 courses of {LAST} hold SLN 64003; exactly one is needed",
        rows[3].key: f"{code('BIO400', '64004', LAST_YEAR)} 64004 has no reading list",
        rows[6].key: "copy-course SLN 64007 has no copy year",
        rows[7].key: f"no course of {LAST} hold SLN 64008; exactly one is needed",
    }
    # rule B7: the report attached to the e-mail, byte for byte; named on Slack.
    [message] = mailbox.messages
    assert message["To"] == "reserves@example.edu"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == rig.report_name
    assert attachment.get_payload(decode=True) == report.read_bytes()
    assert f"rollover report {rig.report_name} with 5 rows" in body_text(message)
    [payload] = inbox.payloads
    assert f"Attached to the e-mail: {rig.report_name}" in payload["text"]
    assert "rollover" in json.dumps(payload)


async def test_L8_without_job_id_and_no_loader_file_the_report_is_made_at_once(rig: Rig) -> None:
    rows, expected = _candidates(rig)
    rig.put_cem(rows)

    result = await rig.run(rig.job(COURSE_ROLLOVER_REPORT))

    assert result.run.status is RunStatus.OK, result.run.reason
    assert len(loader_rows(rig.out / rig.report_name)) == len(expected)
    wait = (await rig.kinds(result.run.id))["loader_job"]["delay"]
    assert wait.reason == "no loader file on alma: the report is made at once"


async def test_L8_the_job_is_polled_until_its_newest_instance_has_finished(rig: Rig) -> None:
    rows, expected = _candidates(rig)
    rig.put_cem(rows)
    state = rig.alma.state
    state.add_job(AB, JOB, name="Course loader")
    state.add_job_instance(
        AB, JOB, ["COMPLETED_FAILED"], submitted=rig.alma.clock.now() - timedelta(days=1)
    )
    newest = state.add_job_instance(AB, JOB, ["RUNNING", "RUNNING", "COMPLETED_SUCCESS"])
    sleep = RecordingSleep()
    wait = JobWait(
        MemoryJobInstances(state, AB),
        JOB,
        poll_seconds=15,
        wait_seconds=240 * 60,
        sleep=sleep,
        monotonic=sleep.monotonic,
    )

    result = await rig.run(rig.report(wait))

    assert result.run.status is RunStatus.OK, result.run.reason
    assert sleep.waits == [15, 15]  # rule L8: every job_poll_seconds, until it finished
    assert state.peek_job_instance(AB, newest.instance_id).reads == 3
    record = (await rig.kinds(result.run.id))["loader_job"][JOB]
    assert record.outcome is RecordOutcome.OK
    assert record.reason.endswith(f"instance {newest.instance_id} ended COMPLETED_SUCCESS")
    assert len(loader_rows(rig.out / rig.report_name)) == len(expected)


async def test_L8_a_job_that_does_not_finish_in_time_is_failed_and_the_report_made(
    rig: Rig,
) -> None:
    rows, expected = _candidates(rig)
    rig.put_cem(rows)
    state = rig.alma.state
    state.add_job(AB, JOB, name="Course loader")
    running = state.add_job_instance(AB, JOB, ["RUNNING"])
    sleep = RecordingSleep()
    wait = JobWait(
        MemoryJobInstances(state, AB),
        JOB,
        poll_seconds=15,
        wait_seconds=60,
        sleep=sleep,
        monotonic=sleep.monotonic,
    )

    result = await rig.run(rig.report(wait))

    # rule L8: recorded failed (the run partial), and the report is written all the same.
    assert result.run.status is RunStatus.PARTIAL
    assert sleep.waits == [15, 15, 15, 15]
    [failure] = result.failures
    assert (failure.kind, failure.key) == ("loader_job", JOB)
    assert failure.reason == (
        f"course loader job {JOB} had not finished after 1 min (instance "
        f"{running.instance_id} is RUNNING); the report is made all the same and may not "
        "reflect today's load"
    )
    assert len(loader_rows(rig.out / rig.report_name)) == len(expected)


async def test_L8_without_job_id_the_report_waits_report_delay_after_the_last_push(
    rig: Rig,
) -> None:
    rows, expected = _candidates(rig)
    rig.put_cem(rows)
    rig.target.mkdir()
    pushed = rig.backend.clock.now() - timedelta(minutes=30)
    (rig.target / f"{local_stamp(pushed)}.txt").write_bytes(b"today's loader file")
    (rig.target / f"{local_stamp(pushed - timedelta(days=1))}.txt").write_bytes(b"yesterday's")
    sleep = RecordingSleep()
    wait = PushDelayWait(rig.push(), timedelta(minutes=120), sleep=sleep)

    result = await rig.run(rig.report(wait))

    assert result.run.status is RunStatus.OK, result.run.reason
    assert sleep.waits == [90 * 60]  # rule L8: 120 min after the push of 30 min ago
    record = (await rig.kinds(result.run.id))["loader_job"]["delay"]
    assert record.reason == (
        f"last push {pushed.astimezone():%Y-%m-%d %H:%M:%S}, 2:00:00 before the report"
    )
    assert len(loader_rows(rig.out / rig.report_name)) == len(expected)


async def test_L8_last_year_s_courses_are_read_page_by_page(rig: Rig) -> None:
    state = rig.alma.state
    for n in range(230):
        seed_course(state, code("FIL", f"6{n:04d}", LAST_YEAR), f"6{n:04d}", LAST_YEAR)
    wanted = code("BIO100", "69999", LAST_YEAR)
    seed_course(state, wanted, "69999", LAST_YEAR, lists=1)
    rig.put_cem([Cem("BIO100", "74001", copy_sln="69999", copy_year=LAST)])

    result = await rig.run(rig.job(COURSE_ROLLOVER_REPORT))

    assert result.run.status is RunStatus.OK, result.run.reason
    [row] = loader_rows(rig.out / rig.report_name)
    assert (row.old_course_code, row.old_section_id) == (wanted, "69999")
    pages = [
        (c.param("q"), c.param("offset")) for c in rig.alma.calls() if c.path.endswith("/courses")
    ]
    assert sorted(pages) == [
        (f"year~{LAST}", "0"),
        (f"year~{LAST}", "100"),
        (f"year~{LAST}", "200"),
    ]


async def test_L8_exactly_one_course_of_another_year_counts_sections_and_searchable_ids(
    rig: Rig,
) -> None:
    state = rig.alma.state
    for year in (2019, LAST_YEAR):
        seed_course(state, code("BIO100", "65001", year), "65001", year, lists=1)
        seed_course(
            state, code("BIO101", "03", year), "03", year, searchable_ids=["65001"], lists=1
        )
    other = Cem("BIO1", "74001", copy_sln="65001", copy_year="2019")
    last = Cem("BIO2", "74002", copy_sln="65001", copy_year=LAST)
    rig.put_cem([other, last])

    result = await rig.run(rig.job(COURSE_ROLLOVER_REPORT))

    assert result.run.status is RunStatus.OK, result.run.reason
    found = (await rig.kinds(result.run.id))["rollover"]
    # Last year (the cache): two courses hold the SLN, so no rollover. Another year must agree.
    assert found[last.key].reason == f"2 courses of {LAST} hold SLN 65001; exactly one is needed"
    assert found[other.key].outcome is RecordOutcome.SKIPPED, found[other.key].reason
    assert found[other.key].reason == "2 courses of 2019 hold SLN 65001; exactly one is needed"
    assert loader_rows(rig.out / rig.report_name) == []


async def test_L8_an_instance_submitted_before_the_last_push_is_not_today_s_load(
    rig: Rig,
) -> None:
    rows, expected = _candidates(rig)
    rig.put_cem(rows)
    state = rig.alma.state
    state.add_job(AB, JOB, name="Course loader")
    yesterday = state.add_job_instance(
        AB, JOB, ["COMPLETED_SUCCESS"], submitted=rig.alma.clock.now() - timedelta(days=1)
    )
    sleep = RecordingSleep()

    async def pushed_an_hour_ago() -> datetime:
        return (rig.alma.clock.now() - timedelta(hours=1)).astimezone().replace(tzinfo=None)

    wait = JobWait(
        MemoryJobInstances(state, AB),
        JOB,
        poll_seconds=15,
        wait_seconds=45,
        since=pushed_an_hour_ago,
        sleep=sleep,
        monotonic=sleep.monotonic,
    )

    result = await rig.run(rig.report(wait))

    # rule L8: yesterday's finished instance does not stand for today's load; the wait ran out.
    assert sleep.waits == [15, 15, 15]
    [failure] = result.failures
    assert failure.reason.startswith(f"course loader job {JOB} had not finished after")
    assert yesterday.instance_id in failure.reason
    assert len(loader_rows(rig.out / rig.report_name)) == len(expected)
