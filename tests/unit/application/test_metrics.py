"""The metrics registry counts per label set and declares help texts."""

from application.shared.metrics import Metrics


def test_counters_add_per_label_set_and_gauges_replace() -> None:
    metrics = Metrics()
    metrics.declare("almabridge_items_total", "counter", "Items processed by outcome.")
    metrics.inc("almabridge_items_total", institution="01AAA_AB", outcome="created")
    metrics.inc("almabridge_items_total", 2, institution="01AAA_AB", outcome="created")
    metrics.inc("almabridge_items_total", institution="01AAA_CD", outcome="created")
    metrics.set("almabridge_inbox_depth", 5, status="pending")
    metrics.set("almabridge_inbox_depth", 3, status="pending")
    assert metrics.value("almabridge_items_total", institution="01AAA_AB", outcome="created") == 3
    assert metrics.value("almabridge_inbox_depth", status="pending") == 3
    assert metrics.value("almabridge_items_total", institution="01AAA_XX", outcome="created") == 0
    assert metrics.help_for("almabridge_items_total") == ("counter", "Items processed by outcome.")
    assert [s.name for s in metrics.samples()] == [
        "almabridge_inbox_depth",
        "almabridge_items_total",
        "almabridge_items_total",
    ]
