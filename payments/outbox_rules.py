"""What happens to a new outbox event, decided once, when it is recorded.

1. Partners that pull or take files: FlexiBill -> ``for_export``, inHance -> ``for_download``.
2. The partner's capability matrix (``partners/<code>/capabilities.py``) must list the flow as
   supported, and a pushing partner's pump module must have an operation for the event type.
3. Then the seeds' rules, one small function each in :data:`RULES` (CloudStore payments for AUS,
   POSConnect payments for Cayenta, credits without 114, ACH rejects, donations, scheduled payments,
   changes that change nothing ...).

A rule returns the reason the event is not sent, or None. Anything not sent is recorded as
``not_applicable`` with that reason, never silently dropped.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from billers.models import Biller, BillerSetting
from partners import registry
from partners.aus import pump as aus_pump
from partners.cayenta import pump as cayenta_pump
from partners.daffron import pump as daffron_pump
from payments import events
from payments.outbox_models import OutboxStatus

#: Partner code -> its pump module (explicit; partners absent here are not pushed to).
PUMPS: dict[str, ModuleType] = {"aus": aus_pump, "cayenta": cayenta_pump, "daffron": daffron_pump}
#: Partners that take our events another way than a pushed call.
OTHER_ROUTES: dict[str, str] = {"flexibill": OutboxStatus.FOR_EXPORT, "inhance": OutboxStatus.FOR_DOWNLOAD}

#: Event type -> the capability-matrix flow that carries it (scheduled payments have none).
FLOWS: dict[str, str | None] = {
    events.PAYMENT: "payments",
    events.CREDIT: "payments",
    events.VOID: "void",
    events.ACH_REJECT: "ach_rejects",
    events.AUTOPAY_CHANGE: "autopay_changes",
    events.PAPERLESS_CHANGE: "paperless_changes",
    events.EMAIL_CHANGE: "email_changes",
    events.PHONE_CHANGE: "phone_changes",
    events.SCHEDULED_NEW: None,
    events.SCHEDULED_CANCEL: None,
    events.SCHEDULED_UPDATE: None,
}
SCHEDULED = frozenset({events.SCHEDULED_NEW, events.SCHEDULED_CANCEL, events.SCHEDULED_UPDATE})
CHANGES = frozenset({events.AUTOPAY_CHANGE, events.PAPERLESS_CHANGE, events.EMAIL_CHANGE, events.PHONE_CHANGE})


@dataclass(frozen=True)
class Decision:
    status: str
    endpoint: str = ""
    reason: str = ""
    auto_resend: bool = False


@dataclass
class Facts:
    """What a rule may look at: the biller, the event and its payload; settings read on demand."""

    biller: Biller
    event_type: str
    payload: Mapping[str, Any]
    _settings: dict[int, str] = field(default_factory=dict)

    def settings(self, *numbers: int) -> dict[int, str]:
        """Return {number: value} of the asked (non-secret) settings the biller has, read once each."""
        missing = [n for n in numbers if n not in self._settings]
        if missing:
            found = dict(BillerSetting.objects.filter(biller=self.biller, definition__number__in=missing)
                         .values_list("definition__number", "value"))
            self._settings.update({n: found.get(n) for n in missing})
        return {n: v for n in numbers if (v := self._settings.get(n)) is not None}


# --- the seeds' rules ------------------------------------------------------------------------------


def cloudstore_payment(f: Facts) -> str | None:
    if f.payload.get("channel") == "cloudstore":
        return "CloudStore payments are not pumped to AUS: the biller posts them in its CIS by hand (seed 000)."
    return None


def posconnect_payment(f: Facts) -> str | None:
    if f.payload.get("channel") == "posconnect":
        return "POSConnect payments are never pumped for Cayenta: Cayenta posts them itself (seed 001)."
    return None


def credit_without_114(f: Facts) -> str | None:
    if str(f.settings(114).get(114, "")).strip() in ("", "0"):
        return "Credits are pumped to Cayenta only with advanced setting 114 (seed 001)."
    return None


def c_code_reject(f: Facts) -> str | None:
    if str(f.payload.get("return_code", "")).upper().startswith("C"):
        return "C-code rejects (notifications of change) are never posted (seed 001)."
    return None


def ach_rejects_not_allowed(f: Facts) -> str | None:
    if not f.biller.pump_ach_rejects:
        return "Cayenta has not allowed ACH reject posting for this biller (Biller.pump_ach_rejects is off)."
    return None


def payment_not_pumped(f: Facts) -> str | None:
    """A void or reject of a payment the partner never received is not sent either."""
    from payments.outbox_models import OutboxEvent

    guid = (f.payload.get("payment") or {}).get("payment_guid")
    source = OutboxEvent.objects.filter(
        event_type__in=[events.PAYMENT, events.CREDIT], idempotency_key=str(guid)
    ).values_list("status", "status_reason").first()
    if source and source[0] == OutboxStatus.NOT_APPLICABLE:
        return f"The payment itself was not pumped: {source[1]}"
    return None


def donation_skipped(f: Facts) -> str | None:
    settings = f.settings(daffron_pump.SETTING_JSON)
    if daffron_pump.skips_donations(settings) and daffron_pump.is_donation(f.payload, settings):
        return "Donation invoice type skipped (setting 131 Daffron.DataPumpConfigs.SkipDonationTypes)."
    return None


def scheduled_switch_off(f: Facts) -> str | None:
    if not f.biller.post_scheduled_payments:
        return "Scheduled payments are posted to Daffron only for billers with post_scheduled_payments on."
    return None


def not_a_real_change(f: Facts) -> str | None:
    if str(f.payload.get("old_value", "")) == str(f.payload.get("new_value", "")):
        return "Not a real change (old value = new value): nothing to send."
    return None


def always(reason: str) -> Callable[[Facts], str | None]:
    return lambda f: reason


@dataclass(frozen=True)
class Rule:
    partners: frozenset[str]  # empty = every partner
    event_types: frozenset[str]
    check: Callable[[Facts], str | None]


RULES: tuple[Rule, ...] = (
    Rule(frozenset(), CHANGES, not_a_real_change),
    Rule(frozenset({"aus"}), frozenset({events.PAYMENT, events.CREDIT}), cloudstore_payment),
    Rule(frozenset({"aus"}), frozenset({events.CREDIT}),
         always("AUS has no credit posting: AddPendingPayment takes payments only.")),
    Rule(frozenset({"cayenta"}), frozenset({events.PAYMENT, events.CREDIT}), posconnect_payment),
    Rule(frozenset({"cayenta"}), frozenset({events.CREDIT}), credit_without_114),
    Rule(frozenset({"cayenta"}), frozenset({events.ACH_REJECT}), c_code_reject),
    Rule(frozenset({"cayenta"}), frozenset({events.ACH_REJECT}), ach_rejects_not_allowed),
    Rule(frozenset({"cayenta"}), frozenset({events.VOID, events.ACH_REJECT}), payment_not_pumped),
    Rule(frozenset({"daffron"}), frozenset({events.PAYMENT}), donation_skipped),
    Rule(frozenset({"daffron"}), frozenset({events.CREDIT}),
         always("Daffron takes no credits: CommitPaymentTransaction posts payments only.")),
    Rule(frozenset({"daffron"}), SCHEDULED, scheduled_switch_off),
    Rule(frozenset({"flexibill"}), frozenset({events.CREDIT}),
         always("No credits in the FlexiBill payment export (SPEC section 3).")),
)


def _unsupported(partner: str, event_type: str) -> str | None:
    """Return why the partner's capability matrix rules the event type out, or None."""
    flow_key = FLOWS.get(event_type)
    name = registry.capabilities(partner).name
    if flow_key is None:
        if event_type in SCHEDULED and partner == "daffron":
            return None
        return f"{name} takes no scheduled-payment notices."
    flow = registry.capabilities(partner).flow(flow_key)
    if flow is None or not flow.supported:
        label = dict(events.EVENT_TYPES).get(event_type, event_type)
        return f"{label}: not supported by {name} ({flow.method if flow else 'not in its matrix'})."
    return None


def decide(biller: Biller, event_type: str, payload: Mapping[str, Any]) -> Decision:
    """Return the new event's status, endpoint (queue), reason and whether unknown outcomes may be resent."""
    partner = biller.partner.code
    reason = _unsupported(partner, event_type)
    pump = PUMPS.get(partner)
    operation = pump.OPERATIONS.get(event_type) if pump else None
    if reason is None and pump is not None and operation is None:
        reason = f"{registry.capabilities(partner).name} has no pump operation for {event_type}."
    if reason is None:
        facts = Facts(biller, event_type, payload)
        for rule in RULES:
            if (not rule.partners or partner in rule.partners) and event_type in rule.event_types:
                reason = rule.check(facts)
                if reason:
                    break
    endpoint = operation.endpoint if operation else ""
    if reason:
        return Decision(OutboxStatus.NOT_APPLICABLE, endpoint, reason)
    if partner in OTHER_ROUTES:
        return Decision(OTHER_ROUTES[partner], "export" if partner == "flexibill" else "download")
    if pump is None:
        return Decision(OutboxStatus.NOT_APPLICABLE, "", f"No delivery route for partner {partner}.")
    return Decision(OutboxStatus.PENDING, endpoint, auto_resend=event_type in pump.AUTO_RESEND)
