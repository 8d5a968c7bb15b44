"""Poll transport connections now, or bring the django-q2 poll schedules in line with them."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchanges.polling import ensure_schedules, poll_connection
from exchanges.transport_models import Connection


class Command(BaseCommand):
    help = ("Poll transport connections inline (every enabled one, or those named) and print one line each; "
            "--schedules instead makes one django-q2 schedule per enabled connection. Exit 1 when a poll "
            "recorded an error.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connection", type=int, action="append", default=[], metavar="ID",
                            help="Poll this connection (repeatable); default: every enabled connection.")
        parser.add_argument("--schedules", action="store_true",
                            help="Only create, update or delete the poll schedules; print the counts as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedules"]:
            self.stdout.write(json.dumps(ensure_schedules()))
            return
        ids = options["connection"] or list(Connection.objects.filter(enabled=True).values_list("pk", flat=True))
        missing = set(options["connection"]) - set(Connection.objects.filter(pk__in=ids).values_list("pk", flat=True))
        if missing:
            raise CommandError(f"no connection with id {', '.join(map(str, sorted(missing)))}")
        failed = False
        for pk in ids:
            self.stdout.write(poll_connection(pk, actor="poll_transports"))
            error = Connection.objects.filter(pk=pk).values_list("last_error", flat=True).first()
            if error:
                failed = True
                self.stderr.write(f"connection {pk}: {error}")
        if failed:
            raise CommandError("some polls recorded errors (see above and the connection's last error)")
