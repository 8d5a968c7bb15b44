"""Fixtures of the invoice intake tests: a private DATA_DIR, one biller per partner, sample paths."""
from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
BIDS = {"aus": 123, "cayenta": 1368, "inhance": 1966, "daffron": 2778, "flexibill": 4411}



@pytest.fixture
def intake_biller(make_biller):
    """intake_biller("daffron", policy=...) -> the partner's biller at its demo BID."""
    made = {}

    def get(partner: str, **fields):
        if partner not in made:
            if "policy" in fields:
                fields["record_error_policy"] = fields.pop("policy")
            made[partner] = make_biller(partner, BIDS[partner], **fields)
        return made[partner]

    return get


@pytest.fixture
def load_sample(intake_biller):
    """load_sample(partner, path_or_name, kind=..., **biller fields) -> finished Exchange (sample names resolve)."""
    from exchanges.intake import import_file

    def run(partner: str, path, kind: str = "invoices", name: str | None = None, **fields):
        path = Path(path)
        if not path.is_absolute():
            path = SAMPLES / path
        return import_file(biller=intake_biller(partner, **fields), stream_or_path=path, file_name=name or path.name,
                           kind=kind, source="command", actor="tests")

    return run
