"""Shared fixtures: the catalogue, billers per partner, users."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "seeds"
SEED_FILES = {
    "aus": "000_b42c19cd8f8fb98c.txt",
    "cayenta": "001_5a52186bca179a70.txt",
    "inhance": "002_1a784724299de799.txt",
    "daffron": "003_bc3dc70556e9c7e8.txt",
    "flexibill": "004_d6ef7e9bd6b73577.txt",
}


def seed_text(partner: str) -> str:
    path = SEEDS / SEED_FILES[partner]
    if not path.exists():
        pytest.skip(f"seed {path} is not beside the repository")
    return path.read_text()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the catalogue once; each test's transaction leaves it in place."""
    from billers.catalogue import load_catalogue

    with django_db_blocker.unblock():
        load_catalogue()


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Each test's raw files, exports and envelopes go to a folder of its own."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


@pytest.fixture(autouse=True)
def _rtdr_written_at_once(settings):
    """RTDR lookups store their call before returning (tests read the rows next), and no biller's
    settings are remembered from an earlier test (ids are reused). ``tests/rtdr/test_write_behind.py``
    covers the background writer."""
    from billers.selectors import settings_forget

    settings.RTDR_WRITE_BEHIND = False
    settings_forget()


@pytest.fixture
def catalogue(db):
    """The partner catalogue (reloaded if a transactional test flushed it)."""
    from billers.catalogue import load_catalogue
    from billers.models import Partner

    if not Partner.objects.exists():
        load_catalogue()


@pytest.fixture
def make_biller(catalogue):
    from billers.models import Biller, Partner

    def make(partner: str = "daffron", bid: int = 9001, **kwargs):
        return Biller.objects.create(bid=bid, name=f"Biller {bid}", partner=Partner.objects.get(code=partner), **kwargs)

    return make


@pytest.fixture
def daffron_biller(make_biller):
    return make_biller("daffron", 2778)


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def make_invoice(db: Any) -> Any:
    from billers.models import Account, Invoice
    from partners.bif import CR_FIELDS, ID_FIELDS, packed

    def make(biller: Any, number: str = "100011126", account_number: str = "1001", **fields: Any) -> Invoice:
        """An invoice; ``customer`` and ``details`` given by field name, stored in column order."""
        account, _ = Account.objects.get_or_create(
            biller=biller, account_number=account_number,
            defaults={"name": "Alice Moreno", "address1": "12 Oak St", "city": "Springfield", "state": "VA",
                      "zip": "20110"},
        )
        values: dict[str, Any] = {
            "invoice_date": date(2026, 11, 1),
            "due_date": date(2026, 11, 25),
            "total_amount_due": Decimal("96.62"),
            "balance_due": Decimal("96.62"),
        }
        values.update(fields)
        if isinstance(values.get("customer"), dict):
            values["customer"] = packed(values["customer"], CR_FIELDS)
        values["details"] = [packed(detail, ID_FIELDS) for detail in values.get("details", [])]
        return Invoice.objects.create(biller=biller, account=account, invoice_number=number, **values)

    return make
