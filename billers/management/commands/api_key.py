"""python manage.py api_key create --vendor NAME --billers BID[,BID...] --scopes ivr,kiosk,sso,inhance
                                  [--expires YYYY-MM-DD] [--rate 100/s]
python manage.py api_key list
python manage.py api_key revoke ID

``create`` prints the new key once, alone on the last line; only its hash is stored.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billers.api.keys import api_key_create, api_key_revoke
from billers.api_models import ApiKey
from billers.models import Biller


def _bids(text: str) -> list[int]:
    try:
        return [int(b) for b in text.split(",") if b.strip()]
    except ValueError:
        raise CommandError(f"--billers expects BID[,BID...], got {text!r}.") from None


def _expiry(text: str | None) -> datetime | None:
    """End of the given day (UTC): a key ``--expires 2027-01-31`` works through that day."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--expires expects YYYY-MM-DD, got {text!r}.") from None
    return datetime.combine(day, time.max, ZoneInfo("UTC"))


class Command(BaseCommand):
    help = "Create, list and revoke API keys of IVR, kiosk, SSO and inHance vendors."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a key and print it once.")
        create.add_argument("--vendor", required=True)
        create.add_argument("--billers", required=True, metavar="BID[,BID...]")
        create.add_argument("--scopes", required=True, metavar="ivr,kiosk,sso,inhance")
        create.add_argument("--expires", metavar="YYYY-MM-DD", help="Last day the key works (UTC).")
        create.add_argument(
            "--rate", default="", metavar="N/PERIOD", help="Throttle for this key, e.g. 100/s."
        )
        sub.add_parser("list", help="List keys (never the keys themselves).")
        revoke = sub.add_parser("revoke", help="Revoke a key by id.")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options: dict[str, Any]) -> None:
        bids = _bids(options["billers"])
        billers = list(Biller.objects.filter(bid__in=bids))
        missing = sorted(set(bids) - {b.bid for b in billers})
        if missing:
            raise CommandError(f"--billers: no biller with BID {', '.join(map(str, missing))}.")
        try:
            new = api_key_create(
                vendor=options["vendor"],
                billers=billers,
                scopes=options["scopes"].split(","),
                expires_at=_expiry(options["expires"]),
                throttle_rate=options["rate"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        key = new.key
        self.stdout.write(
            f"Created key {key.pk} for {key.vendor}: billers {', '.join(map(str, sorted(bids)))}; "
            f"scopes {key.scopes}; expires {key.expires_at.isoformat() if key.expires_at else 'never'}."
        )
        self.stdout.write("Store it now: it is not shown again. Send it as 'Authorization: Api-Key <key>'.")
        self.stdout.write(new.raw)

    def _list(self, options: dict[str, Any]) -> None:
        keys = ApiKey.objects.prefetch_related("billers").order_by("pk")
        self.stdout.write(
            f"{'ID':>5}  {'VENDOR':<24} {'PREFIX':<12} {'SCOPES':<24} {'BILLERS':<16} {'STATE':<8} "
            f"{'EXPIRES':<10} LAST USED"
        )
        for k in keys:
            bids = ",".join(str(b.bid) for b in k.billers.all())
            expires = k.expires_at.date().isoformat() if k.expires_at else "-"
            used = k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "-"
            self.stdout.write(
                f"{k.pk:>5}  {k.vendor[:24]:<24} {k.prefix:<12} {k.scopes:<24} {bids[:16]:<16} "
                f"{k.state:<8} {expires:<10} {used}"
            )
        if not keys:
            self.stdout.write("  (no keys)")

    def _revoke(self, options: dict[str, Any]) -> None:
        key = ApiKey.objects.filter(pk=options["id"]).first()
        if key is None:
            raise CommandError(f"No API key with id {options['id']}.")
        if api_key_revoke(key=key):
            self.stdout.write(f"Revoked key {key.pk} ({key.vendor}, {key.prefix}).")
        else:
            self.stdout.write(
                f"Key {key.pk} ({key.vendor}) was already revoked on {key.revoked_at.isoformat()}."
            )
