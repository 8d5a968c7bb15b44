"""RTDR health per biller endpoint: outcomes, rolling figures and the circuit breaker's state.

Imported by ``billers.models``. One row per (biller, RTDR endpoint), written by ``billers.rtdr_health``
after every real-time balance call; the breaker state lives here so every web and task process sees it.
"""
from __future__ import annotations

import math

from django.db import models


class BreakerState(models.TextChoices):
    CLOSED = "closed", "Closed (calling)"
    OPEN = "open", "Open (skipping calls)"
    HALF_OPEN = "half_open", "Half-open (one trial call)"


class RtdrHealth(models.Model):
    """How one biller's RTDR endpoint has been answering, and whether calls to it are skipped.

    ``recent`` holds the last outcomes, oldest first, as ``[ok, milliseconds]`` pairs (``ok`` 1 when
    the partner answered, 0 for a timeout, connection error, fault, HTTP error or malformed answer).
    """

    biller = models.ForeignKey("billers.Biller", on_delete=models.CASCADE, related_name="rtdr_health")
    endpoint = models.CharField(max_length=500, help_text="RTDR endpoint (setting 8), without user info.")
    breaker_state = models.CharField(max_length=10, choices=BreakerState.choices, default=BreakerState.CLOSED)
    opened_at = models.DateTimeField(null=True, blank=True)
    opened_until = models.DateTimeField(
        null=True, blank=True, help_text="While open, calls are skipped until then; then one trial call."
    )
    trial_started_at = models.DateTimeField(null=True, blank=True, help_text="Start of the half-open trial.")
    consecutive_failures = models.PositiveIntegerField(default=0)
    streak_started_at = models.DateTimeField(
        null=True, blank=True, help_text="First failure of the current run of consecutive failures."
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    success_count = models.PositiveBigIntegerField(default=0, help_text="Calls the partner answered.")
    failure_count = models.PositiveBigIntegerField(default=0, help_text="Timeouts, faults, HTTP errors...")
    rejected_count = models.PositiveBigIntegerField(
        default=0, help_text="Answered with a permanent error (unknown account, invalid request)."
    )
    skipped_count = models.PositiveBigIntegerField(default=0, help_text="Calls skipped by the open breaker.")
    recent = models.JSONField(default=list, blank=True, help_text="Last outcomes: [ok 1/0, milliseconds].")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["biller__bid", "endpoint"]
        verbose_name = "RTDR health"
        verbose_name_plural = "RTDR health"
        constraints = [models.UniqueConstraint(fields=["biller", "endpoint"], name="uniq_rtdr_health")]

    def __str__(self) -> str:
        return f"{self.biller_id} {self.endpoint} ({self.get_breaker_state_display()})"

    @property
    def failure_rate(self) -> float | None:
        """Share of failed calls among the recent ones (0.0 to 1.0), None before the first call."""
        if not self.recent:
            return None
        return sum(1 for ok, _ in self.recent if not ok) / len(self.recent)

    @property
    def p95_latency_ms(self) -> float | None:
        """95th percentile (nearest rank) of the recent calls' durations, None before the first call."""
        durations = sorted(ms for _, ms in self.recent)
        if not durations:
            return None
        return float(durations[max(0, math.ceil(0.95 * len(durations)) - 1)])
