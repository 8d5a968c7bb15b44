"""The exchange page shows the start of the raw file and offers it whole; pruned files say so."""
from __future__ import annotations

import pytest
from django.utils import timezone

from tests.exchanges.conftest import SAMPLES

pytestmark = pytest.mark.django_db


def test_exchange_page_previews_the_raw_file_and_downloads_it(admin_client, load_sample, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    exchange = load_sample("daffron", "daffron_2778_11202026.BIF")
    page = admin_client.get(f"/admin/exchanges/exchange/{exchange.pk}/change/").content.decode()
    first_line = (SAMPLES / "daffron_2778_11202026.BIF").read_text().splitlines()[0]
    assert first_line.split("|")[0] in page and "Download the raw file" in page
    raw = admin_client.get(f"/admin/exchanges/exchange/{exchange.pk}/raw/")
    assert b"".join(raw.streaming_content) == (SAMPLES / "daffron_2778_11202026.BIF").read_bytes()

    exchange.raw_pruned_at = timezone.now()
    exchange.save(update_fields=["raw_pruned_at"])
    assert "(retention); the exchange row is kept" in admin_client.get(
        f"/admin/exchanges/exchange/{exchange.pk}/change/").content.decode()
