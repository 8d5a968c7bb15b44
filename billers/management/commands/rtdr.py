"""python manage.py rtdr --biller BID ACCOUNT [--stored]

Looks the account's balance up as the IVR does (RTDR where the partner offers it) and prints one JSON
object last: account, balance_due, past_due, block_cc, block_ach, stale, source, stale_reason.
"""
from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from billers.balances import account_balance
from billers.models import Account, Biller
from billers.rtdr import offers_rtdr, rtdr_writer

JSON_KEYS = ("account", "balance_due", "past_due", "block_cc", "block_ach", "stale", "source", "stale_reason")


def find_account(biller: Biller, number: str) -> Account:
    """Return the biller's account by account number (or its display number); CommandError if none."""
    accounts = list(
        Account.objects.select_related("biller__partner")
        .filter(Q(account_number=number) | Q(display_account_number=number), biller=biller)[:2]
    )
    exact = [a for a in accounts if a.account_number == number]
    if exact:
        return exact[0]
    if len(accounts) == 1:
        return accounts[0]
    if accounts:
        raise CommandError(f"Account {number!r} is ambiguous for BID {biller.bid}; give the account number.")
    raise CommandError(f"No account {number!r} for BID {biller.bid}.")


class Command(BaseCommand):
    help = "Look up an account's balance through RTDR (stale with the reason when the partner fails)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--biller", type=int, required=True, metavar="BID")
        parser.add_argument("account", metavar="ACCOUNT")
        parser.add_argument("--stored", action="store_true", help="Print the stored balance; no partner call.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            biller = Biller.objects.select_related("partner").get(bid=options["biller"])
        except Biller.DoesNotExist:
            raise CommandError(f"No biller with BID {options['biller']}.") from None
        account = find_account(biller, options["account"])
        started = time.monotonic()
        view = account_balance(account, refresh=not options["stored"])
        elapsed = (time.monotonic() - started) * 1000
        rtdr_writer.flush()  # the exchange and envelopes are stored before the command ends
        asked = offers_rtdr(biller) and not options["stored"]
        state = f"stale: {view.stale_reason}" if view.stale else ("from the partner" if asked else "stored")
        self.stderr.write(f"{biller.bid} {biller.name} ({biller.partner.name}) {account.account_number}: "
                          f"{state}, source {view.source}, {elapsed:.0f} ms")
        data = view.as_json()
        self.stdout.write(json.dumps({key: data[key] for key in JSON_KEYS}))
