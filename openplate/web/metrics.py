"""Prometheus metrics: requests by route and status, latency, tokens, grant errors, sign-in
failures, password hashes, the database pool and (one process) Python's garbage collector.
Works with one process or with `serve --workers N` (multiprocess mode, when
PROMETHEUS_MULTIPROC_DIR is set)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class PoolCollector(Collector):
    """Database connections checked out and idle, read at scrape time."""

    def __init__(self, stats: Callable[[], tuple[int, int]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        checked_out, idle = self._stats()
        family = GaugeMetricFamily("openplate_db_pool_connections", "Database pool connections",
                                   labels=["state"])
        family.add_metric(["in_use"], checked_out)
        family.add_metric(["idle"], idle)
        yield family


class Metrics:
    def __init__(self, pool_stats: Callable[[], tuple[int, int]]) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        # In multiprocess mode values live in files and are gathered at scrape time instead.
        self.registry = CollectorRegistry(auto_describe=True)
        target = None if self.multiprocess else self.registry
        self.requests = Counter("openplate_http_requests", "HTTP requests",
                                ["route", "method", "status"], registry=target)
        self.latency = Histogram("openplate_http_request_duration_seconds", "Request latency",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=target)
        self.tokens = Counter("openplate_tokens_issued", "Token responses", ["grant_type"],
                              registry=target)
        self.grant_errors = Counter("openplate_grant_errors", "Token-endpoint errors", ["error"],
                                    registry=target)
        self.signin_failures = Counter("openplate_signin_failures", "Failed sign-ins",
                                       registry=target)
        # argon2id hashes and checks run, by what for (signin, password_change, signup): with the
        # 401 and 429 answers, they show that throttled attempts never reach the hash.
        self.password_hashes = Counter("openplate_password_hashes", "Password hashes and checks",
                                       ["purpose"], registry=target)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._pool = PoolCollector(pool_stats)
        if not self.multiprocess:
            self.registry.register(self._pool)
            # python_gc_*: the collector's runs by generation (serve keeps it off while it starts).
            GCCollector(registry=self.registry)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        # Label lookups take a lock and build a key; the children are looked up once instead.
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(route, method, str(status)),
                        self.latency.labels(route))
            if len(self._children) < 10_000:  # route templates, not raw paths: a small set
                self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> tuple[bytes, str]:
        if not self.multiprocess:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(self._pool)
        return generate_latest(registry), CONTENT_TYPE_LATEST
