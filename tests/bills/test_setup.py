"""A biller's bill setup: only the modes its partner supports; the default without a setup row."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from billers.bill_models import BillerBillSetup, BillMode
from billers.bills import PARTNER_MODES, bill_setup_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("partner", "mode"), [("aus", BillMode.TEMPLATE), ("cayenta", BillMode.TEMPLATE),
                                               ("daffron", BillMode.EXTRACTION), ("flexibill", BillMode.LINK)])
def test_modes_the_partner_does_not_support_are_refused(make_biller, partner, mode):
    setup = BillerBillSetup(biller=make_biller(partner, 9300), mode=mode)
    with pytest.raises(ValidationError, match="supports"):
        setup.full_clean()


def test_supported_modes_validate(make_biller):
    for i, (partner, modes) in enumerate(PARTNER_MODES.items()):
        biller = make_biller(partner, 9310 + i)
        for mode in modes:
            BillerBillSetup(biller=biller, mode=mode).full_clean()


@pytest.mark.parametrize(("partner", "mode"), [("aus", "link"), ("daffron", "link"), ("inhance", "template"),
                                               ("flexibill", "template")])
def test_without_a_setup_row_the_partners_default_mode_applies(make_biller, partner, mode):
    setup = bill_setup_for(make_biller(partner, 9320))
    assert setup.pk is None and setup.mode == mode and setup.link_delivery == "redirect"
