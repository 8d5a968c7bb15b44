"""Operations alerts and the expected arrival windows of partner files.

Imported by ``exchanges.models``. ``exchanges.alerts.raise_alerts`` writes ``Alert`` rows: one open row
per condition key (a missing file, dead pump events, an open RTDR breaker, a failed import), refreshed
while the condition lasts and resolved when it has cleared; a later return of the condition opens a
new row, so each outage keeps its own history.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

__all__ = ["WEEKDAYS", "Alert", "AlertKind", "ArrivalWindow", "parse_weekdays"]

#: ISO weekday numbers and their names, as stored in ``ArrivalWindow.weekdays``.
WEEKDAYS: tuple[tuple[int, str], ...] = (
    (1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun"),
)


def parse_weekdays(text: str) -> frozenset[int]:
    """``"1,2,3,4,5"`` -> ``{1, 2, 3, 4, 5}`` (ISO: 1 = Monday). ValueError naming the bad part."""
    days: set[int] = set()
    for part in (text or "").replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 7:
            raise ValueError(f"weekdays: {part!r} is not an ISO weekday number 1 (Mon) to 7 (Sun)")
        days.add(int(part))
    return frozenset(days)


class AlertKind(models.TextChoices):
    MISSING_FILE = "missing_file", "Missing file"
    DEAD_EVENT = "dead_event", "Dead pump events"
    BREAKER_OPEN = "breaker_open", "RTDR breaker open"
    IMPORT_FAILED = "import_failed", "Import failed"


class Alert(models.Model):
    """One outage: raised by ``exchanges.alerts`` under a de-duplication ``key``, mailed once."""

    key = models.CharField(max_length=200, db_index=True,
                           help_text="What the alert is about, e.g. 'dead_event:biller:5'. One open alert per key.")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    biller = models.ForeignKey("billers.Biller", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="alerts")
    message = models.TextField()
    link = models.CharField(max_length=500, blank=True, help_text="Admin page behind the alert.")
    first_seen = models.DateTimeField(help_text="When this outage was first seen.")
    last_seen = models.DateTimeField(help_text="The last check that still found the condition.")
    count = models.PositiveIntegerField(default=1, help_text="Checks that found the condition during this outage.")
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True,
                                       help_text="Set when the condition had cleared; blank while open.")
    emailed_at = models.DateTimeField(null=True, blank=True, help_text="When the one mail of this outage went out.")

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=models.Q(resolved_at__isnull=True),
                                    name="uniq_open_alert_key"),
        ]

    def __str__(self) -> str:
        state = "resolved" if self.resolved_at else "open"
        return f"{self.get_kind_display()} ({state}): {self.message[:80]}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ArrivalWindow(models.Model):
    """When a connection's file is expected: e.g. "invoice file by 06:00 local on weekdays".

    A file counts for a due day when an exchange of the connection's file kind was recorded for the
    biller from 24 hours before ``expected_by`` onward. ``expected_by`` is in the biller's time zone.
    """

    connection = models.ForeignKey("exchanges.Connection", on_delete=models.CASCADE, related_name="arrival_windows")
    weekdays = models.CharField(max_length=20, default="1,2,3,4,5",
                                help_text="ISO weekday numbers the file is due, 1 = Monday ... 7 = Sunday.")
    expected_by = models.TimeField(help_text="Local time (biller's time zone) the file must have arrived by.")
    grace_minutes = models.PositiveIntegerField(default=30, help_text="Minutes of slack before alerting.")
    enabled = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["connection__biller__bid", "expected_by"]

    def __str__(self) -> str:
        names = dict(WEEKDAYS)
        try:
            days = ", ".join(names[d] for d in sorted(parse_weekdays(self.weekdays)))
        except ValueError:
            days = self.weekdays
        return f"{self.connection} by {self.expected_by:%H:%M} on {days}"

    @property
    def days(self) -> frozenset[int]:
        return parse_weekdays(self.weekdays)

    def clean(self) -> None:
        try:
            days = parse_weekdays(self.weekdays)
        except ValueError as exc:
            raise ValidationError({"weekdays": str(exc)}) from None
        if not days:
            raise ValidationError({"weekdays": "Choose at least one weekday."})
        self.weekdays = ",".join(str(d) for d in sorted(days))
