"""Prometheus metrics for the Slack endpoint: requests, latency, errors by kind and subcommand."""

from __future__ import annotations

import re
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

# Subcommands get their own label value; anything else is "other", so arbitrary user text
# can never create unbounded label values.
KNOWN_SUBCOMMANDS = frozenset(
    {
        "help",
        "role",
        "roles",
        "gaps",
        "skill",
        "salary",
        "emerging",
        "path",
        "check",
        "profile",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "digest",
        "import",
    }
)

_EVENT_TYPE = re.compile(r"[a-z_]{1,40}")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class SlackMetrics:
    """The metrics of one app instance, on their own registry (tests build many apps)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        # (kind, subcommand) -> its request counter and latency histogram, looked up once.
        self._series: dict[tuple[str, str], tuple[Any, Any]] = {}
        labels = ("kind", "subcommand")
        self.requests = Counter(
            "skillgap_slack_requests", "Requests from Slack", labels, registry=self.registry
        )
        self.latency = Histogram(
            "skillgap_slack_request_seconds",
            "Time to answer a request from Slack",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "skillgap_slack_errors", "Requests that failed", labels, registry=self.registry
        )
        self.rejected = Counter(
            "skillgap_slack_rejected",
            "Requests refused before the app saw them, by reason: unverified (bad, missing or "
            "stale signature), malformed, too_large, replay",
            ("reason",),
            registry=self.registry,
        )

    def observe(self, body: dict[str, Any], seconds: float, status: int) -> None:
        if status == 401:
            # An unverified body is anyone's text: never let it choose label values.
            self.refused("unverified")
            return
        labels = classify(body)
        series = self._series.get(labels)
        if series is None:
            # Label values are bounded (see classify), so this holds a few dozen entries.
            series = self._series[labels] = (
                self.requests.labels(*labels),
                self.latency.labels(*labels),
            )
        series[0].inc()
        series[1].observe(seconds)
        if status >= 500:
            self.errors.labels(*labels).inc()

    def refused(self, reason: str) -> None:
        self.rejected.labels(reason).inc()

    def error(self, body: dict[str, Any]) -> None:
        self.errors.labels(*classify(body)).inc()


def subcommand_of(text: str) -> str:
    words = text.split(maxsplit=1)
    if not words:
        return "help"
    word = words[0].lower()
    return word if word in KNOWN_SUBCOMMANDS else "other"


def classify(body: dict[str, Any]) -> tuple[str, str]:
    """(kind, subcommand) labels for a request body Bolt has parsed."""
    if "command" in body:
        return "command", subcommand_of(str(body.get("text") or ""))
    payload_type = str(body.get("type") or "")
    if payload_type == "event_callback":
        event = body.get("event")
        event_type = event.get("type") if isinstance(event, dict) else None
        name = str(event_type or "")
        return "event", name if _EVENT_TYPE.fullmatch(name) else "unknown"
    if payload_type in ("block_actions", "view_submission", "view_closed", "shortcut"):
        return "interaction", payload_type
    return "other", "none"
