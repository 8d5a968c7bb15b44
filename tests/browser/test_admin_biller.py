"""An implementation manager configures a biller in the real admin, in Chromium."""
from __future__ import annotations

import pytest

from billers.models import Biller
from billers.selectors import setting_values

pytestmark = pytest.mark.browser


def choose_setting(page, row: int, number: str) -> None:
    """Pick a setting definition in the inline's autocomplete (select2) box."""
    page.click(f"#settings-{row} .select2-selection")
    page.fill(".select2-search__field", number)
    page.wait_for_function(
        "n => [...document.querySelectorAll('.select2-results__option')].every(o => o.textContent.startsWith(n + ' '))",
        arg=number)
    page.locator(".select2-results__option", has_text=f"{number} ").filter(
        has_not_text="Searching").first.wait_for()
    page.locator(f".select2-results__option").filter(has_text=f"{number} ").first.click()


def test_im_creates_a_biller_with_settings_and_sees_the_checklist(login, live_server):
    page = login()
    page.goto(f"{live_server.url}/admin/billers/biller/add/")
    page.fill("#id_bid", "3100")
    page.fill("#id_name", "Browser Town Utilities")
    page.select_option("#id_partner", label="Daffron/Milsoft")
    page.check("input[name=products][value=Kiosk]")
    choose_setting(page, 0, "35")
    page.fill("#id_settings-0-entered", "2")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    biller = Biller.objects.get(bid=3100)
    assert setting_values(biller) == {35: "2"}
    checklist = page.inner_text(".onboarding-checklist")
    assert "Missing setting 8" in checklist and "Missing setting 20" in checklist

    # a bad value is refused in place, with the rule
    choose_setting(page, 1, "64")
    page.fill("#id_settings-1-entered", "WEB|POS")
    page.click("input[name=_continue]")
    page.wait_for_selector(".errorlist")
    assert "sourceId(code)|sourceId(code)" in page.inner_text(".errorlist")
    assert setting_values(biller) == {35: "2"}


def test_partner_comparison_answers_which_partners_support_void(login, live_server):
    page = login()
    page.goto(f"{live_server.url}/admin/billers/partner/")
    page.click("text=Compare partners side by side")
    row = page.locator("#partner-compare tr", has=page.locator("th", has_text="Void")).first
    cells = row.locator("td")
    assert cells.count() == 5
    supported = [cells.nth(i).get_attribute("class") for i in range(5)]
    assert supported.count("supported") == 1
