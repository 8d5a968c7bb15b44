"""python manage.py ensure_demo_admin: the demo superuser, its password printed once."""
from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Create the demo superuser (password from DEMO_ADMIN_PASSWORD, else generated and printed once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        username = options["username"]
        given = os.environ.get("DEMO_ADMIN_PASSWORD")
        user = User.objects.filter(username=username).first()
        if user and not given:
            self.stdout.write(f"Demo admin: {username} (password was printed when it was created; "
                              "set DEMO_ADMIN_PASSWORD to reset it)")
            return
        password = given or secrets.token_urlsafe(12)
        if user is None:
            user = User.objects.create_superuser(username, f"{username}@example.com", password)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        self.stdout.write(f"Demo admin: {username} / {password}")
