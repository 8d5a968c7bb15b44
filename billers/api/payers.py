"""Payer users of SSO and partner portals: registration, account links, email, password, customer record.

Linking follows the biller's advanced settings: 75 links accounts sharing the customer number of the
account asked for, 76 those sharing its e-mail address, both together those sharing both. Contact and
enrollment changes go through ``payments.services`` so they become change logs and outbox events.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import check_password, is_password_usable, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from billers.api_models import AccountLink, LinkRole, PayerUser
from billers.models import Account, Biller
from billers.selectors import setting_values
from payments.models import AutopayEnrollment, ChangeKind, ChangeLog, PaperlessEnrollment
from payments.services import autopay_set, contact_change, paperless_set

LINK_BY_CUSTOMER_NUMBER = 75
LINK_BY_EMAIL = 76
MAX_AUTO_LINKS = 500


def linking_rules(biller: Biller) -> tuple[bool, bool]:
    """(by customer number, by e-mail) from settings 75 and 76."""
    values = setting_values(biller)
    return values.get(LINK_BY_CUSTOMER_NUMBER) == "1", values.get(LINK_BY_EMAIL) == "1"


def linked_by_settings(account: Account) -> tuple[str, QuerySet[Account]]:
    """The rule name and the other accounts the biller's linking settings join to ``account``."""
    by_customer, by_email = linking_rules(account.biller)
    others = Account.objects.filter(biller=account.biller).exclude(pk=account.pk)
    if by_customer and by_email:
        if account.customer_number and account.email:
            return "customer_and_email", others.filter(
                customer_number=account.customer_number, email__iexact=account.email
            )
    elif by_customer and account.customer_number:
        return "customer_number", others.filter(customer_number=account.customer_number)
    elif by_email and account.email:
        return "email", others.filter(email__iexact=account.email)
    return "", others.none()


def _account(biller: Biller, number: str, field: str) -> Account:
    account = Account.objects.filter(biller=biller, account_number=number).first()
    if account is None:
        raise ValidationError({field: f"Account {number} not found for biller {biller.bid}."})
    return account


@transaction.atomic
def payer_link_add(*, user: PayerUser, account: Account, role: str = LinkRole.OWNER) -> list[AccountLink]:
    """Link ``account`` and the accounts the linking settings join to it; return the links created."""
    rule, others = linked_by_settings(account)
    wanted = [
        (account, "requested"),
        *((a, rule) for a in others.order_by("account_number")[:MAX_AUTO_LINKS]),
    ]
    have = set(AccountLink.objects.filter(user=user).values_list("account_id", flat=True))
    created = []
    for target, why in wanted:
        if target.pk not in have:
            created.append(AccountLink.objects.create(user=user, account=target, role=role, rule=why))
            have.add(target.pk)
    return created


@transaction.atomic
def payer_user_register(
    *,
    biller: Biller,
    username: str,
    email: str,
    password: str | None,
    account_numbers: list[str],
    role: str = LinkRole.OWNER,
) -> tuple[PayerUser, list[AccountLink]]:
    """Create a payer user and link its accounts; ValidationError naming the field otherwise."""
    if PayerUser.objects.filter(biller=biller, username=username).exists():
        raise ValidationError({"username": f"{username} is already registered with biller {biller.bid}."})
    if password is not None:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
    user = PayerUser(biller=biller, username=username, email=email, password=make_password(password))
    user.full_clean()
    user.save()
    accounts = [_account(biller, n, "account_numbers") for n in dict.fromkeys(account_numbers)]
    links: list[AccountLink] = []
    for account in accounts:
        links += payer_link_add(user=user, account=account, role=role)
    return user, links


@transaction.atomic
def payer_email_change(*, user: PayerUser, email: str, actor: str) -> list[ChangeLog]:
    """Change the user's e-mail and that of the accounts it owns; return the accounts' change logs."""
    user.email = email
    user.full_clean()
    user.save(update_fields=["email", "updated_at"])
    owned = Account.objects.filter(payer_links__user=user, payer_links__role=LinkRole.OWNER).select_related(
        "biller"
    )
    logs = [contact_change(account=a, kind=ChangeKind.EMAIL, new_value=email, actor=actor) for a in owned]
    return [log for log in logs if log is not None]


@transaction.atomic
def payer_password_set(*, user: PayerUser, password: str, current_password: str | None = None) -> None:
    """Set a new password (hashed); ValidationError naming the field when weak or the current is wrong."""
    if current_password is not None and not check_password(current_password, user.password):
        raise ValidationError({"current_password": "Does not match the user's password."})
    try:
        validate_password(password)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.password = make_password(password)
    user.save(update_fields=["password", "updated_at"])


@transaction.atomic
def customer_record_update(
    *,
    account: Account,
    actor: str,
    email: str | None = None,
    phone: str | None = None,
    paperless: bool | None = None,
    autopay: bool | None = None,
) -> list[ChangeLog]:
    """Apply the given changes to the account; return the change logs of the real changes."""
    logs: list[ChangeLog | None] = []
    if email is not None:
        logs.append(contact_change(account=account, kind=ChangeKind.EMAIL, new_value=email, actor=actor))
    if phone is not None:
        logs.append(contact_change(account=account, kind=ChangeKind.PHONE, new_value=phone, actor=actor))
    if paperless is not None:
        logs.append(paperless_set(account=account, active=paperless, actor=actor))
    if autopay is not None:
        logs.append(autopay_set(account=account, active=autopay, actor=actor))
    return [log for log in logs if log is not None]


def change_json(log: ChangeLog) -> dict[str, Any]:
    return {
        "account_number": log.account.account_number,
        "kind": log.kind,
        "old_value": log.old_value,
        "new_value": log.new_value,
    }


def link_json(link: AccountLink) -> dict[str, Any]:
    return {
        "account_number": link.account.account_number,
        "role": link.role,
        "rule": link.rule,
        "created_at": link.created_at.isoformat(),
    }


def user_links(user: PayerUser) -> list[dict[str, Any]]:
    return [link_json(k) for k in AccountLink.objects.filter(user=user).select_related("account")]


def user_json(user: PayerUser) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "has_password": is_password_usable(user.password),
        "created_at": user.created_at.isoformat(),
        "links": user_links(user),
    }


def customer_json(account: Account, logs: list[ChangeLog]) -> dict[str, Any]:
    account.refresh_from_db(fields=["email", "phone"])
    enrolled = {"biller": account.biller_id, "account": account, "active": True}
    return {
        "account_number": account.account_number,
        "email": account.email,
        "phone": account.phone,
        "paperless": PaperlessEnrollment.objects.filter(**enrolled).exists(),
        "autopay": AutopayEnrollment.objects.filter(**enrolled).exists(),
        "changes": [change_json(log) for log in logs],
    }
