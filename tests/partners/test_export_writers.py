"""The pure export writers: FlexiBill fixed-width payment file and pipe change logs, AUS CloudPay CSV."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from partners import exports as ex
from partners.aus import exports as aus
from partners.flexibill import exports as fx

CHICAGO = ZoneInfo("America/Chicago")
CONTEXT = ex.ExportContext(bid=4411, zone=CHICAGO, close_local=datetime(2026, 11, 20, 23, 59, tzinfo=CHICAGO))


def payment(**fields: object) -> ex.PaymentRow:
    values: dict[str, object] = {
        "payment_guid": uuid.UUID(int=1), "account_number": "0000001000MCS", "custom2": "0000001000",
        "customer_name": "Alice Moreno", "invoice_number": "0000001000MCS1126", "amount": Decimal("159.20"),
        "convenience_fee": Decimal("2.95"), "tender": "card", "card_brand": "visa", "channel": "web",
        "approval_code": "A01 - Approved 100", "check_number": "", "paid_at": datetime(2026, 11, 20, 15, 15, tzinfo=UTC),
    }
    values.update(fields)
    return ex.PaymentRow(**values)  # type: ignore[arg-type]


def change(**fields: object) -> ex.ChangeRow:
    values: dict[str, object] = {
        "change_id": 1, "account_number": "0000001000MCS", "custom2": "0000001000", "customer_name": "Alice Moreno",
        "old_value": "0", "new_value": "1", "invoice_type": "Utility",
        "changed_at": datetime(2026, 11, 20, 20, 0, 5, tzinfo=UTC),
    }
    values.update(fields)
    return ex.ChangeRow(**values)  # type: ignore[arg-type]


# ---- FlexiBill payment file ---------------------------------------------------------------------


def test_payment_line_matches_the_spec_layout_field_by_field():
    line = fx.payment_line(payment(), CHICAGO)
    assert len(line) == fx.LINE_WIDTH == 122
    assert line == ("0000001000".ljust(30) + " 00156.25 V " + "Invoice Cloud Payment".ljust(24) + " "
                    + "A01 - Approved 100".ljust(20) + " 20261120091500 " + " " * 10 + " 00002.95")


def test_layout_widths_are_the_seeds():
    assert [(c.name, c.width) for c in fx.PAYMENT_LAYOUT] == [
        ("AccountNumber", 30), ("Amount", 8), ("TenderType", 1), ("Description", 24), ("Authorization", 20),
        ("PaymentDate", 14), ("CheckNum", 10), ("ConvenienceFee", 8)]


@pytest.mark.parametrize(("tender", "brand", "code"), [
    ("card", "visa", "V"), ("card", "mastercard", "M"), ("card", "discover", "D"), ("card", "amex", "A"),
    ("card", "other", "X"), ("ach", "", "C"), ("echeck", "", "C"), ("cash", "", "X"),
])
def test_tender_type_codes(tender, brand, code):
    assert fx.parse_payment_line(fx.payment_line(payment(tender=tender, card_brand=brand), CHICAGO))["TenderType"] == code


def test_account_number_without_custom2_drops_the_codiv():
    values = fx.parse_payment_line(fx.payment_line(payment(custom2=None), CHICAGO))
    assert values["AccountNumber"] == "0000001000"
    assert fx.parse_payment_line(fx.payment_line(payment(custom2="  "), CHICAGO))["AccountNumber"] == "0000001000"


def test_codiv_is_the_last_three_characters_lower_cased():
    assert fx.codiv("0000001000MCS") == "mcs"
    assert fx.codiv("123456ABC ") == "abc"


@pytest.mark.parametrize("account", ["MCS", "", "12345-- ", "1000M#S"])
def test_account_without_codiv_is_refused_naming_the_account(account):
    with pytest.raises(ex.ExportError, match="has no CoDiv") as info:
        list(fx.write_payments([payment(account_number=account, custom2=None)], CONTEXT))
    assert repr(account) in str(info.value)


def test_amount_wider_than_eight_characters_refuses_naming_the_payment():
    guid = uuid.UUID("12345678-1234-5678-1234-567812345678")
    with pytest.raises(ex.ExportError, match="Amount '100000.00' does not fit 8 characters") as info:
        fx.payment_line(payment(payment_guid=guid, amount=Decimal("100002.95")), CHICAGO)
    assert str(guid) in str(info.value)
    assert fx.parse_payment_line(fx.payment_line(payment(amount=Decimal("100002.94")), CHICAGO))["Amount"] == "99999.99"


def test_negative_net_amount_is_refused():
    with pytest.raises(ex.ExportError, match="negative"):
        fx.payment_line(payment(amount=Decimal("1.00"), convenience_fee=Decimal("2.95")), CHICAGO)


def test_account_number_longer_than_thirty_is_refused_not_cut():
    with pytest.raises(ex.ExportError, match="AccountNumber .* does not fit 30"):
        fx.payment_line(payment(custom2="9" * 31), CHICAGO)


def test_long_text_is_truncated_and_check_number_keeps_its_last_ten():
    line = fx.payment_line(payment(approval_code="APPROVED-" + "X" * 30, check_number="000123456789012"), CHICAGO)
    values = fx.parse_payment_line(line)
    assert values["Authorization"] == ("APPROVED-" + "X" * 30)[:20]
    assert values["CheckNum"] == "3456789012"
    assert len(line) == fx.LINE_WIDTH


def test_non_ascii_is_transliterated_and_the_rest_becomes_a_question_mark():
    assert ex.ascii_text("Peña Ç ß 東 ﬁ\tx\n") == "Pena C ? ? fi x "
    line = fx.payment_line(payment(approval_code="Aprobación ß", custom2="Ñúñez"), CHICAGO)
    assert line.isascii() and len(line) == fx.LINE_WIDTH
    values = fx.parse_payment_line(line)
    assert values["Authorization"] == "Aprobacion ?"
    assert values["AccountNumber"] == "Nunez"


def test_payment_date_is_biller_local_time_across_dst():
    summer = payment(paid_at=datetime(2026, 7, 1, 4, 30, tzinfo=UTC))  # CDT, UTC-5
    winter = payment(paid_at=datetime(2026, 12, 1, 4, 30, tzinfo=UTC))  # CST, UTC-6
    assert fx.parse_payment_line(fx.payment_line(summer, CHICAGO))["PaymentDate"] == "20260630233000"
    assert fx.parse_payment_line(fx.payment_line(winter, CHICAGO))["PaymentDate"] == "20261130223000"


def test_one_file_per_codiv_named_from_the_batch_close():
    rows = [payment(account_number="1MCS"), payment(account_number="2ABC"), payment(account_number="3mcs")]
    lines = list(fx.write_payments(rows, CONTEXT))
    assert [ln.file_name for ln in lines] == ["ICPayments_20261120235900.mcs", "ICPayments_20261120235900.abc",
                                              "ICPayments_20261120235900.mcs"]
    assert [ln.amount for ln in lines] == [Decimal("156.25")] * 3


def test_parse_rejects_a_shifted_line():
    line = fx.payment_line(payment(), CHICAGO)
    with pytest.raises(ValueError, match="characters"):
        fx.parse_payment_line(line + " ")
    with pytest.raises(ValueError, match="separator"):
        fx.parse_payment_line(line[:30] + "X" + line[31:])


# ---- FlexiBill change logs ----------------------------------------------------------------------


def test_autopay_and_paperless_lines():
    on, off = change(), change(new_value="0", old_value="1")
    for kind, prefix in ((ex.AUTOPAY_CHANGES, "ICAutoPayChangeReport"), (ex.PAPERLESS_CHANGES,
                                                                          "ICPaperlessChangesReport")):
        lines = list(fx.write_changes(kind, [on, off], CONTEXT))
        assert {ln.file_name for ln in lines} == {f"{prefix}_20261120235900.txt"}
        assert [ln.text for ln in lines] == ["Alice Moreno|0000001000|Utility,Yes|11202026140005",
                                             "Alice Moreno|0000001000|Utility,No|11202026140005"]


def test_email_line_and_pipes_inside_values():
    row = change(old_value="old|x@example.com", new_value="new@example.com", customer_name="Zoë | Co")
    (line,) = fx.write_changes(ex.EMAIL_CHANGES, [row], CONTEXT)
    assert line.file_name == "ICEmailChangesReport_20261120235900.txt"
    assert line.text == "Zoe   Co|0000001000|old x@example.com|new@example.com|11202026140005"
    assert len(line.text.split("|")) == len(fx.CHANGE_COLUMNS[ex.EMAIL_CHANGES])


def test_change_log_of_an_account_without_codiv_or_custom2_is_refused():
    with pytest.raises(ex.ExportError, match="'AB' has no CoDiv"):
        list(fx.write_changes(ex.AUTOPAY_CHANGES, [change(account_number="AB", custom2=None)], CONTEXT))


# ---- AUS / Logis CloudPay CSV ---------------------------------------------------------------------


def test_cloudpay_csv_has_a_header_and_one_line_per_payment_read_back_by_name():
    rows = [payment(channel="cloudpay", customer_name='Smith, "Bob"', account_number="12300001"),
            payment(channel="cloudpay", tender="ach", card_brand="", convenience_fee=Decimal(0),
                    amount=Decimal("75.00"), check_number="1001", payment_guid=uuid.UUID(int=2))]
    lines = list(aus.write_payments(rows, CONTEXT))
    assert {ln.file_name for ln in lines} == {"ICCloudPayPayments_4411_20261120235900.csv"}
    assert lines[0].amount is None and lines[0].text == ",".join(aus.HEADER)
    parsed = aus.parse_file("".join(ln.text + "\r\n" for ln in lines))
    assert parsed[0]["CustomerName"] == 'Smith, "Bob"'
    assert parsed[0]["PaymentDate"] == "2026-11-20 09:15:00"
    assert (parsed[0]["Amount"], parsed[0]["ConvenienceFee"], parsed[0]["TotalCharged"]) == ("156.25", "2.95", "159.20")
    assert parsed[1]["TenderType"] == "ACH" and parsed[1]["CheckNumber"] == "1001"
    assert parsed[1]["PaymentGUID"] == str(uuid.UUID(int=2)).upper()


def test_cloudpay_empty_day_yields_nothing_not_even_a_header():
    assert list(aus.write_payments([], CONTEXT)) == []
