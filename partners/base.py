"""The partner adapter contract and the catalogue shapes every partner module fills in.

A partner module declares what it supports, and only that: a missing capability is absent.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# Data flows, in the order the seeds list them.
FLOWS: tuple[tuple[str, str], ...] = (
    ("invoice", "Invoice"),
    ("adjustments", "Adjustments/Balances"),
    ("payments", "Payments"),
    ("ach_rejects", "ACH Rejects Posting"),
    ("void", "Void"),
    ("autopay_changes", "Change Log - AutoPay Enrollment"),
    ("paperless_changes", "Change Log - Paperless Enrollment"),
    ("phone_changes", "Change Log - Phone Number"),
    ("email_changes", "Change Log - Email Address"),
    ("bill_images", "Bill Images"),
)

# Support levels, as the seeds write them.
SUPPORTED = "supported"
SUPPORTED_STAR = "supported_star"
NOT_SUPPORTED = "not_supported"
NOT_SUPPORTED_STAR = "not_supported_star"
CUSTOM = "custom"
REQUIRED = "required"
SUPPORT_LEVELS: tuple[tuple[str, str], ...] = (
    (SUPPORTED, "Supported"),
    (SUPPORTED_STAR, "Supported*"),
    (NOT_SUPPORTED, "Not Supported"),
    (NOT_SUPPORTED_STAR, "Not Supported*"),
    (CUSTOM, "Custom"),
    (REQUIRED, "Required"),
)
#: Levels under which a biller may use the product or feature.
USABLE_LEVELS = frozenset({SUPPORTED, SUPPORTED_STAR, CUSTOM, REQUIRED})

PRODUCT, FEATURE, DEVICE = "product", "feature", "device"
CATEGORIES: tuple[tuple[str, str], ...] = ((PRODUCT, "Product"), (FEATURE, "Feature"), (DEVICE, "Device"))


@dataclass(frozen=True)
class Flow:
    """One data flow: how the partner and we exchange it, or that it is not supported."""

    key: str  # one of FLOWS
    method: str  # "TXT File", "RTDR", "Data Pump", "Webservices", "Not Supported" ...
    transmission: str  # "FTPS (Default) or SFTP", "RTDR", "Data Pump", "N/A" ...
    notes: str = ""
    supported: bool = True


@dataclass(frozen=True)
class Support:
    """A product, feature or device and the partner's support level for it."""

    category: str  # PRODUCT, FEATURE or DEVICE
    name: str
    level: str  # one of SUPPORT_LEVELS
    note: str = ""


@dataclass(frozen=True)
class Capabilities:
    """A partner's capability matrix, transcribed from its seed."""

    code: str
    name: str
    summary: str
    flows: tuple[Flow, ...]
    supports: tuple[Support, ...]
    #: BIF customization name -> the seed's note for this partner (Required, In BIF, ...).
    bif_customizations: dict[str, str] = field(default_factory=dict)
    #: Advanced setting numbers a biller of this partner must have before going live.
    required_settings: tuple[int, ...] = ()

    def flow(self, key: str) -> Flow | None:
        return next((f for f in self.flows if f.key == key), None)

    def support(self, name: str) -> Support | None:
        return next((s for s in self.supports if s.name == name), None)


class PartnerError(Exception):
    """A call to or a file from a partner failed; ``permanent`` says whether retrying can help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Adapter(Protocol):
    """What a partner module offers. Only the methods a partner supports are present."""

    code: str
    capabilities: Capabilities
