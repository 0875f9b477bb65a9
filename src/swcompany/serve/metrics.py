"""Prometheus metrics that survive many worker processes: workers add to Redis, the API exposes.

Workers are forked per job and may run on other machines, so in-process counters (or
prometheus' multiprocess mode, which needs one shared folder) do not fit. Each
observation is a ``HINCRBYFLOAT`` on one Redis hash; ``/metrics`` reads the hash and
renders counters and cumulative histograms, plus queue gauges read from RQ at scrape time.
"""

from __future__ import annotations

import json
from typing import Any
from collections.abc import Iterable

from redis import Redis

KEY = "swc:metrics"
_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "swcompany_runs_total": ("Runs ended, by exit code (0 ok, 3 budget, 4 provider, 5 tests, 130 interrupted)", ("exit_code",)),
    "swcompany_llm_calls_total": ("LLM calls, cache hits apart", ("stage", "cached")),
    "swcompany_llm_tokens_total": ("LLM tokens", ("stage", "kind")),
    "swcompany_llm_cost_usd_total": ("LLM cost in USD", ("stage",)),
    "swcompany_job_retries_total": ("Jobs re-run after their worker died or was stopped", ()),
}
HISTOGRAMS: dict[str, tuple[str, tuple[str, ...], tuple[float, ...]]] = {
    "swcompany_stage_duration_seconds": ("Wall time of one stage in one run", ("stage", "status"), _SECONDS),
    "swcompany_llm_call_seconds": ("Latency of one uncached LLM call, retries included", ("stage",), _SECONDS),
    "swcompany_job_wait_seconds": ("Time from enqueue to a worker starting the job", (), _SECONDS),
    "swcompany_run_duration_seconds": ("Wall time of one job", ("exit_code",), _SECONDS),
}


def _field(name: str, labels: dict[str, str], suffix: str = "") -> str:
    return f"{name}|{json.dumps(labels, sort_keys=True, separators=(',', ':'))}|{suffix}"


def inc(r: Redis, name: str, labels: dict[str, Any] | None = None, value: float = 1.0) -> None:
    """Add to a counter (``COUNTERS``)."""
    if value:
        r.hincrbyfloat(KEY, _field(name, {k: str(v) for k, v in (labels or {}).items()}), value)


def observe(r: Redis, name: str, value: float, labels: dict[str, Any] | None = None) -> None:
    """Record one histogram sample (buckets stored cumulatively, as Prometheus wants them)."""
    tags = {k: str(v) for k, v in (labels or {}).items()}
    with r.pipeline(transaction=False) as pipe:
        for bound in HISTOGRAMS[name][2]:
            if value <= bound:
                pipe.hincrbyfloat(KEY, _field(name, tags, f"le={bound}"), 1)
        pipe.hincrbyfloat(KEY, _field(name, tags, "count"), 1)
        pipe.hincrbyfloat(KEY, _field(name, tags, "sum"), value)
        pipe.execute()


def _parse(raw: dict[str, str]) -> dict[str, dict[str, dict[str, float]]]:
    """{metric: {labels json: {suffix: value}}}."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for key, value in raw.items():
        try:
            name, labels, suffix = key.split("|", 2)
        except ValueError:
            continue
        out.setdefault(name, {}).setdefault(labels, {})[suffix] = float(value)
    return out


def families(raw: dict[str, str], gauges: dict[str, tuple[str, float]]) -> Iterable[Any]:
    """prometheus_client metric families from the Redis hash and the scrape-time gauges."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

    parsed = _parse(raw)
    for name, (doc, label_names) in COUNTERS.items():
        family = CounterMetricFamily(name, doc, labels=list(label_names))
        for labels, values in parsed.get(name, {}).items():
            tags = json.loads(labels)
            family.add_metric([tags.get(n, "") for n in label_names], values.get("", 0.0))
        yield family
    for name, (doc, label_names, bounds) in HISTOGRAMS.items():
        histogram = HistogramMetricFamily(name, doc, labels=list(label_names))
        for labels, values in parsed.get(name, {}).items():
            tags = json.loads(labels)
            buckets = [(str(float(b)), values.get(f"le={b}", 0.0)) for b in bounds]
            buckets.append(("+Inf", values.get("count", 0.0)))
            histogram.add_metric([tags.get(n, "") for n in label_names], buckets, values.get("sum", 0.0))
        yield histogram
    for name, (doc, value) in gauges.items():
        yield GaugeMetricFamily(name, doc, value=value)


class RedisCollector:
    """A prometheus_client collector reading the shared hash and the queue on each scrape."""

    def __init__(self, r: Redis, gauges: Any):
        self.r = r
        self.gauges = gauges  # () -> {name: (doc, value)}

    def collect(self) -> Iterable[Any]:
        return list(families(self.r.hgetall(KEY), self.gauges()))  # type: ignore[arg-type]

    def describe(self) -> Iterable[Any]:
        return []  # unchecked collector: the family set comes from Redis at scrape time


def render(r: Redis, gauges: Any) -> tuple[bytes, str]:
    """The exposition text and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(r, gauges))  # type: ignore[arg-type, unused-ignore]
    return generate_latest(registry), CONTENT_TYPE_LATEST
