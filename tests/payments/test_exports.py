"""Export files of a batch: content read back by layout, regeneration, refusals, the command, downloads, SFTP."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from billers.models import BillerStaffScope
from partners.aus import exports as aus
from partners.flexibill import exports as fx
from payments import services
from payments.batch_models import (
    BatchExportStatus,
    DeliveryStatus,
    ExportDelivery,
    ExportDownload,
    ExportDrop,
    ExportFile,
)
from payments.batches import batch_close
from payments.export_delivery import deliver_due, export_deliver
from payments.exports import ExportRefused, batch_export, export_generate, file_path
from payments.management.commands.export import Command as ExportCommand
from payments.models import Payment
from tests.payments.batch_helpers import DAY, account, local, pay
from tests.exchanges.transport_servers import SftpServer

pytestmark = pytest.mark.django_db



@pytest.fixture
def flexibill(make_biller):
    return make_biller("flexibill", 4411, time_zone="America/Chicago")


def close(biller, day=DAY):
    return batch_close(biller=biller, business_date=day, now=local(biller, day, 23, 59) + timedelta(hours=1))


@pytest.fixture
def flexibill_day(flexibill):
    """Payments of one day in two CoDivs, plus what must stay out of the file."""
    a = account(flexibill, "0000001000MCS", custom2="0000001000")
    b = account(flexibill, "0000002000ABC")  # no Custom2: account without its CoDiv
    c = account(flexibill, "0000003000MCS", custom2="ÑÚÑEZ-3000")
    included = [
        pay(a, "159.20", local(flexibill, DAY, 9, 15), fee="2.95", approval_code="A01 - Approved 100"),
        pay(b, "75.00", local(flexibill, DAY, 10, 5), tender="ach", check_number="000123456789012"),
        pay(c, "80.00", local(flexibill, DAY, 0, 0), brand="amex", fee="1.00", approval_code="Aprobación ß"),
        pay(a, "12.34", local(flexibill, DAY, 23, 58, 59), tender="echeck"),
    ]
    late_void = pay(b, "20.00", local(flexibill, DAY, 11, 0), brand="mastercard")
    services.payment_void(payment=late_void, reason="after close")
    from payments.models import Void
    Void.objects.filter(payment=late_void).update(voided_at=local(flexibill, DAY, 23, 59) + timedelta(hours=5))
    included.append(late_void)
    rejected = pay(a, "30.00", local(flexibill, DAY, 12, 0), tender="ach")
    services.ach_reject_record(payment=rejected, return_code="R01")
    included.append(rejected)
    excluded = [
        pay(a, "40.00", local(flexibill, DAY, 13, 0), kind="credit"),
        pay(a, "50.00", local(flexibill, DAY, 23, 59)),  # at the close instant: next day's batch
        pay(a, "60.00", local(flexibill, DAY, 0, 0) - timedelta(minutes=2)),  # before the period
    ]
    voided = pay(b, "70.00", local(flexibill, DAY, 14, 0))
    services.payment_void(payment=voided, reason="payer asked")
    from payments.models import Void as V
    V.objects.filter(payment=voided).update(voided_at=local(flexibill, DAY, 15, 0))
    excluded.append(voided)
    return included, excluded


def expected_line_values(p: Payment) -> dict[str, str]:
    """What the file must say for ``p``, computed from the payment itself, independently of the writer."""
    custom2 = (p.invoice.header.get("Custom2") if p.invoice else None) or p.account.account_number[:-3]
    brands = {"visa": "V", "mastercard": "M", "discover": "D", "amex": "A"}
    tender = "C" if p.tender in ("ach", "echeck") else brands.get(p.card_brand, "X")
    net = p.amount - p.convenience_fee
    return {
        "AccountNumber": custom2.replace("Ñ", "N").replace("Ú", "U"),
        "Amount": f"{int(net):05d}.{int(net * 100) % 100:02d}",
        "TenderType": tender,
        "Description": "Invoice Cloud Payment",
        "Authorization": p.approval_code.replace("ó", "o").replace("ß", "?")[:20],
        "PaymentDate": p.paid_at.astimezone(ZoneInfo("America/Chicago")).strftime("%Y%m%d%H%M%S"),
        "CheckNum": p.check_number[-10:],
        "ConvenienceFee": f"{int(p.convenience_fee):05d}.{int(p.convenience_fee * 100) % 100:02d}",
    }


def test_every_line_of_each_payment_file_reads_back_as_its_payment(flexibill, flexibill_day):
    included, _ = flexibill_day
    batch = close(flexibill)
    files = export_generate(batch=batch, kind="payments")
    assert [f.file_name for f in files] == ["ICPayments_20261120235900.abc", "ICPayments_20261120235900.mcs"]
    by_file: dict[str, list[Payment]] = {}
    for p in sorted(Payment.objects.filter(pk__in=[p.pk for p in included]).select_related("invoice", "account"),
                    key=lambda p: (p.paid_at, p.pk)):
        by_file.setdefault(f"ICPayments_20261120235900.{p.account.account_number[-3:].lower()}", []).append(p)
    for f in files:
        data = file_path(f).read_bytes()
        assert data.isascii() and data.endswith(b"\r\n")
        lines = data.decode("ascii").split("\r\n")[:-1]
        source = by_file[f.file_name]
        assert len(lines) == len(source) == f.row_count
        for line, p in zip(lines, source, strict=True):
            assert fx.parse_payment_line(line) == expected_line_values(p), line
        assert f.total == sum(p.amount - p.convenience_fee for p in source)
        assert f.size == len(data)
        import hashlib
        assert f.sha256 == hashlib.sha256(data).hexdigest()
        assert f.path.startswith("exports/4411/2026-11-20/")


def test_regenerating_a_batch_gives_identical_bytes(flexibill, flexibill_day):
    batch = close(flexibill)
    first = {f.file_name: file_path(f).read_bytes() for f in export_generate(batch=batch, kind="payments")}
    again = export_generate(batch=batch, kind="payments")
    assert {f.file_name: file_path(f).read_bytes() for f in again} == first
    assert all(f.note == "" for f in again)
    assert ExportFile.objects.filter(batch=batch).count() == 2


def test_regeneration_after_a_data_change_says_so(flexibill, flexibill_day):
    batch = close(flexibill)
    export_generate(batch=batch, kind="payments")
    Payment.objects.filter(check_number="000123456789012").update(check_number="999")
    changed = {f.file_name: f for f in export_generate(batch=batch, kind="payments")}
    assert changed["ICPayments_20261120235900.abc"].note.startswith("Regenerated")
    assert changed["ICPayments_20261120235900.mcs"].note == ""


def test_an_empty_day_writes_no_file(flexibill, data_dir):
    batch = close(flexibill)
    for kind in ("payments", "autopay_changes", "email_changes", "paperless_changes"):
        assert export_generate(batch=batch, kind=kind) == []
    assert not ExportFile.objects.exists()
    assert not any(p.is_file() for p in (data_dir / "exports").rglob("*"))


def test_an_amount_too_wide_refuses_the_whole_file_and_leaves_nothing(flexibill, data_dir):
    a = account(flexibill, "0000001000MCS")
    pay(a, "10.00", local(flexibill, DAY, 9))
    big = pay(a, "100000.00", local(flexibill, DAY, 10))
    batch = close(flexibill)
    with pytest.raises(ExportRefused, match=f"payment {big.payment_guid}: Amount '100000.00' does not fit 8"):
        export_generate(batch=batch, kind="payments")
    assert not ExportFile.objects.exists()
    assert not any(p.is_file() for p in (data_dir / "exports").rglob("*"))
    batch_export(batch=batch)
    batch.refresh_from_db()
    assert batch.export_status == BatchExportStatus.FAILED
    assert str(big.payment_guid) in batch.export_error


def test_an_account_without_codiv_refuses_naming_the_account(flexibill):
    a = account(flexibill, "MC")
    pay(a, "10.00", local(flexibill, DAY, 9))
    with pytest.raises(ExportRefused, match="account 'MC' has no CoDiv"):
        export_generate(batch=close(flexibill), kind="payments")


def test_change_log_files_read_back_as_their_change_logs(flexibill):
    a = account(flexibill, "0000001000MCS", name="Zoë Ångström", custom2="0000001000")
    b = account(flexibill, "0000002000ABC", name="Ben | Carter")
    for acct, on in ((a, True), (b, True), (a, False)):
        log = services.autopay_set(account=acct, active=on, actor="payer")
        log.invoice_type = "Utility"
        log.save()
    services.paperless_set(account=b, active=True, actor="payer")
    services.contact_change(account=a, kind="email", new_value="zoe@example.com", actor="payer")
    from payments.models import ChangeLog
    stamps = [local(flexibill, DAY, 8), local(flexibill, DAY, 9), local(flexibill, DAY, 10),
              local(flexibill, DAY, 11), local(flexibill, DAY, 12)]
    for log, stamp in zip(ChangeLog.objects.order_by("pk"), stamps, strict=True):
        ChangeLog.objects.filter(pk=log.pk).update(changed_at=stamp)
    batch = close(flexibill)
    (autopay,) = export_generate(batch=batch, kind="autopay_changes")
    (paperless,) = export_generate(batch=batch, kind="paperless_changes")
    (email,) = export_generate(batch=batch, kind="email_changes")
    assert autopay.file_name == "ICAutoPayChangeReport_20261120235900.txt"
    assert file_path(autopay).read_bytes().decode().split("\r\n")[:-1] == [
        "Zoe Angstrom|0000001000|Utility,Yes|11202026080000",
        "Ben   Carter|0000002000|Utility,Yes|11202026090000",
        "Zoe Angstrom|0000001000|Utility,No|11202026100000",
    ]
    assert autopay.row_count == 3 and autopay.total == 0
    assert paperless.file_name == "ICPaperlessChangesReport_20261120235900.txt"
    assert file_path(paperless).read_bytes().decode() == "Ben   Carter|0000002000|,Yes|11202026110000\r\n"
    assert email.file_name == "ICEmailChangesReport_20261120235900.txt"
    assert file_path(email).read_bytes().decode() == "Zoe Angstrom|0000001000||zoe@example.com|11202026120000\r\n"


def test_aus_cloudpay_export_holds_only_cloudpay_payments(make_biller):
    biller = make_biller("aus", 123, time_zone="America/New_York")
    a = account(biller, "12300001", name="Chloé Nguyen")
    office = pay(a, "100.00", local(biller, DAY, 9), fee="3.00", channel="cloudpay")
    phone = pay(a, "50.00", local(biller, DAY, 10), tender="ach", channel="cloudpay", check_number="77")
    pay(a, "60.00", local(biller, DAY, 11), channel="web")
    pay(a, "70.00", local(biller, DAY, 12), channel="cloudstore")
    batch = close(biller)
    (f,) = export_generate(batch=batch, kind="payments")
    assert f.file_name == "ICCloudPayPayments_123_20261120235900.csv"
    rows = aus.parse_file(file_path(f).read_text(encoding="utf-8"))
    assert [r["PaymentGUID"] for r in rows] == [str(office.payment_guid).upper(), str(phone.payment_guid).upper()]
    assert rows[0] == {
        "PaymentGUID": str(office.payment_guid).upper(), "AccountNumber": "12300001", "CustomerName": "Chloé Nguyen",
        "InvoiceNumber": "123000011126", "PaymentDate": "2026-11-20 09:00:00", "Amount": "97.00",
        "ConvenienceFee": "3.00", "TotalCharged": "100.00", "TenderType": "CARD", "CardBrand": "VISA",
        "ApprovalCode": "A01 - Approved", "CheckNumber": "",
    }
    assert rows[1]["TenderType"] == "ACH" and rows[1]["CheckNumber"] == "77"
    assert (f.row_count, f.total) == (2, Decimal("147.00"))


def test_partners_without_files_export_nothing(make_biller):
    biller = make_biller("daffron", 2778)
    batch = close(biller)
    assert batch_export(batch=batch) == []
    batch.refresh_from_db()
    assert batch.export_status == BatchExportStatus.NONE
    with pytest.raises(ValueError, match="takes no payments export"):
        export_generate(batch=batch, kind="payments")


# ---- the command ----------------------------------------------------------------------------------


def run_export(*args: str) -> tuple[list[str], dict]:
    from io import StringIO

    out = StringIO()
    call_command(ExportCommand(), *args, stdout=out)  # by instance: django-import-export also has "export"
    lines = out.getvalue().strip().splitlines()
    return lines, json.loads(lines[-1])


def test_export_command_writes_the_days_files_and_prints_json_last(flexibill, flexibill_day, tmp_path):
    included, _ = flexibill_day
    _, result = run_export("--biller", "4411", "--kind", "payments", "--date", "2026-11-20",
                               "--out", str(tmp_path / "out"))
    assert result["files"] == [str(tmp_path / "out" / "ICPayments_20261120235900.abc"),
                               str(tmp_path / "out" / "ICPayments_20261120235900.mcs")]
    assert result["rows"] == len(included)
    assert result["total"] == f"{sum(p.amount - p.convenience_fee for p in included):.2f}"
    kept = {f.file_name: file_path(f).read_bytes() for f in ExportFile.objects.all()}
    assert {Path(p).name: Path(p).read_bytes() for p in result["files"]} == kept


def test_export_command_on_an_empty_day_says_so(flexibill, tmp_path):
    lines, result = run_export("--biller", "4411", "--kind", "email_changes", "--date", "2026-11-20",
                               "--out", str(tmp_path / "out"))
    assert result == {"files": [], "rows": 0, "total": "0.00"}
    assert lines[-2] == "No email changes for biller 4411 on 2026-11-20: no file written."
    assert list((tmp_path / "out").iterdir()) == []


def test_export_command_refuses_bad_requests(flexibill, make_biller, tmp_path):
    make_biller("daffron", 2778)
    with pytest.raises(CommandError, match="takes no payments export"):
        run_export("--biller", "2778", "--kind", "payments", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="No biller with BID 1"):
        run_export("--biller", "1", "--kind", "payments", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="cannot be closed before"):
        run_export("--biller", "4411", "--kind", "payments", "--date", "2999-01-01", "--out", str(tmp_path))
    a = account(flexibill, "0000001000MCS")
    pay(a, "123456.00", local(flexibill, DAY, 9))
    with pytest.raises(CommandError, match="File refused, nothing written: .*does not fit 8"):
        run_export("--biller", "4411", "--kind", "payments", "--date", "2026-11-20", "--out", str(tmp_path))


@pytest.mark.skipif(settings.INSTALLED_APPS.index("import_export") < settings.INSTALLED_APPS.index("payments"),
                    reason="config/settings.py lists import_export (whose own `export` command then wins) before "
                           "payments; listing payments first makes `manage.py export` this one")
def test_manage_py_export_is_the_batch_export_command():
    from django.core.management import get_commands

    assert get_commands()["export"] == "payments"


# ---- admin: staff-scoped downloads --------------------------------------------------------------


def staff_client(client, django_user_model, biller, name):
    group = Group.objects.create(name=f"{name} group")
    group.permissions.set(Permission.objects.filter(content_type__app_label="payments", codename__startswith="view_"))
    BillerStaffScope.objects.create(group=group, biller=biller)
    user = django_user_model.objects.create_user(name, password="pw-for-tests-only", is_staff=True)
    user.groups.add(group)
    client.force_login(user)
    return client


@pytest.fixture
def two_billers_files(flexibill, flexibill_day, make_biller):
    other = make_biller("flexibill", 5522, time_zone="America/New_York")
    pay(account(other, "0000009000XYZ"), "10.00", local(other, DAY, 9))
    mine = export_generate(batch=close(flexibill), kind="payments")
    theirs = export_generate(batch=close(other), kind="payments")
    return mine, theirs


def test_superuser_downloads_a_file_and_the_download_is_logged(admin_client, two_billers_files):
    mine, _ = two_billers_files
    url = reverse("admin:payments_exportfile_download", args=[mine[0].pk])
    response = admin_client.get(url, REMOTE_ADDR="127.0.0.9")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == file_path(mine[0]).read_bytes()
    assert f'filename="{mine[0].file_name}"' in response["Content-Disposition"]
    log = ExportDownload.objects.get()
    assert (log.file, log.username, log.ip) == (mine[0], "root", "127.0.0.9")


def test_biller_staff_see_and_download_only_their_billers_files(client, django_user_model, flexibill,
                                                                two_billers_files):
    mine, theirs = two_billers_files
    staff = staff_client(client, django_user_model, flexibill, "clerk")
    listing = staff.get(reverse("admin:payments_exportfile_changelist"))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert mine[0].file_name in body and "ICPayments_20261120235900.xyz" not in body
    assert staff.get(reverse("admin:payments_exportfile_download", args=[mine[0].pk])).status_code == 200
    assert staff.get(reverse("admin:payments_exportfile_download", args=[theirs[0].pk])).status_code == 404
    assert staff.get(reverse("admin:payments_exportfile_change", args=[theirs[0].pk])).status_code == 302
    assert list(ExportDownload.objects.values_list("file_id", "username")) == [(mine[0].pk, "clerk")]
    downloads = staff.get(reverse("admin:payments_exportdownload_changelist"))
    assert downloads.status_code == 200 and mine[0].file_name in downloads.content.decode()


def test_download_of_a_file_missing_on_disk_is_404_and_not_logged(admin_client, two_billers_files):
    mine, _ = two_billers_files
    file_path(mine[0]).unlink()
    assert admin_client.get(reverse("admin:payments_exportfile_download", args=[mine[0].pk])).status_code == 404
    assert not ExportDownload.objects.exists()


def test_admin_pages_of_the_export_models_render(admin_client, two_billers_files, flexibill):
    ExportDrop.objects.create(biller=flexibill, host="127.0.0.1", username="u", password="s3cret-pw",
                              host_key_fingerprint="SHA256:" + "A" * 43)
    for name in ("batch", "exportfile", "exportdownload", "exportdrop", "exportdelivery"):
        response = admin_client.get(reverse(f"admin:payments_{name}_changelist"), {"q": "4411"})
        assert response.status_code == 200, name
    drop = ExportDrop.objects.get()
    page = admin_client.get(reverse("admin:payments_exportdrop_change", args=[drop.pk])).content.decode()
    assert "s3cret-pw" not in page


def test_drop_form_keeps_the_stored_password_when_left_blank(admin_client, flexibill):
    drop = ExportDrop.objects.create(biller=flexibill, host="h", username="u", password="s3cret-pw",
                                     host_key_fingerprint="SHA256:" + "A" * 43)
    url = reverse("admin:payments_exportdrop_change", args=[drop.pk])
    response = admin_client.post(url, {"biller": flexibill.pk, "enabled": "on", "host": "h2", "port": 22,
                                       "username": "u", "password": "", "private_key": "",
                                       "host_key_fingerprint": "SHA256:" + "B" * 43 + "=", "remote_dir": "in",
                                       "timeout": 30})
    assert response.status_code == 302, response.content.decode()[:2000]
    drop.refresh_from_db()
    assert (drop.host, drop.password, drop.host_key_fingerprint) == ("h2", "s3cret-pw", "SHA256:" + "B" * 43)


# ---- SFTP drop ----------------------------------------------------------------------------------------


@pytest.fixture
def sftp(tmp_path):
    root = tmp_path / "sftp"
    (root / "inbound").mkdir(parents=True)
    with SftpServer(root) as server:
        yield server


def make_drop(biller, server, **fields):
    values = {"host": "127.0.0.1", "port": server.port, "username": server.username, "password": server.password,
              "host_key_fingerprint": server.fingerprint, "remote_dir": "inbound", "timeout": 5}
    values.update(fields)
    return ExportDrop.objects.create(biller=biller, **values)


def test_files_are_uploaded_to_the_billers_sftp_drop_once(flexibill, flexibill_day, sftp):
    make_drop(flexibill, sftp)
    files = export_generate(batch=close(flexibill), kind="payments")
    delivered = deliver_due()
    assert [d.status for d in delivered] == [DeliveryStatus.SUCCEEDED] * 2
    for f in files:
        assert (sftp.root / "inbound" / f.file_name).read_bytes() == file_path(f).read_bytes()
    assert sorted(p.name for p in (sftp.root / "inbound").iterdir()) == sorted(f.file_name for f in files)
    assert deliver_due() == []  # each content once
    d = ExportDelivery.objects.filter(file=files[0]).get()
    assert (d.remote_path, d.sha256) == (f"inbound/{files[0].file_name}", files[0].sha256)


def test_a_wrong_host_key_is_refused_recorded_and_not_retried(flexibill, flexibill_day, sftp):
    make_drop(flexibill, sftp, host_key_fingerprint="SHA256:" + "A" * 43)
    (f, _) = export_generate(batch=close(flexibill), kind="payments")
    delivery = export_deliver(export_file=f)
    assert delivery.status == DeliveryStatus.FAILED and delivery.permanent
    assert "host key mismatch" in delivery.error
    assert not any((sftp.root / "inbound").iterdir())
    assert [d.file_id for d in deliver_due()] == [_.pk]  # the other file is tried once, f is not retried
    assert "pw-for-tests-only" not in delivery.error


def test_a_temporary_failure_is_retried_after_a_delay(flexibill, flexibill_day, sftp):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    drop = make_drop(flexibill, sftp, port=closed_port)
    files = export_generate(batch=close(flexibill), kind="payments")
    first = deliver_due()
    assert [(d.status, d.permanent) for d in first] == [(DeliveryStatus.FAILED, False)] * 2
    assert deliver_due() == []  # not yet: backoff
    ExportDrop.objects.filter(pk=drop.pk).update(port=sftp.port)
    later = deliver_due(first[0].attempted_at + timedelta(minutes=6))
    assert [d.status for d in later] == [DeliveryStatus.SUCCEEDED] * 2
    assert {p.name for p in (sftp.root / "inbound").iterdir()} == {f.file_name for f in files}


def test_no_drop_means_no_delivery(flexibill, flexibill_day):
    (f, _) = export_generate(batch=close(flexibill), kind="payments")
    assert export_deliver(export_file=f) is None
    assert deliver_due() == []


def test_upload_again_action_replaces_the_remote_file(admin_client, flexibill, flexibill_day, sftp):
    make_drop(flexibill, sftp)
    (f, _) = export_generate(batch=close(flexibill), kind="payments")
    (sftp.root / "inbound" / f.file_name).write_text("stale")
    response = admin_client.post(reverse("admin:payments_exportfile_changelist"),
                                 {"action": "upload_again", "_selected_action": [f.pk]}, follow=True)
    assert response.status_code == 200
    assert (sftp.root / "inbound" / f.file_name).read_bytes() == file_path(f).read_bytes()
    assert ExportDelivery.objects.get(file=f).status == DeliveryStatus.SUCCEEDED
