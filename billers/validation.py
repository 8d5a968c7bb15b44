"""Validate advanced setting values by kind, with messages that name the setting and the rule."""
from __future__ import annotations

import json
import re
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from billers.models import SettingDefinition, SettingKind

CODE_LIST_RE = re.compile(r"^\d+\([A-Za-z0-9_\-]+\)(\|\d+\([A-Za-z0-9_\-]+\))*$")
CODE_LIST_ITEM_RE = re.compile(r"(\d+)\(([^)]*)\)")


def _text(raw: str) -> str:
    return raw


def _int(raw: str) -> str:
    if not re.fullmatch(r"-?\d+", raw):
        raise ValueError("must be a whole number")
    return str(int(raw))


def _bool(raw: str) -> str:
    if raw not in {"0", "1"}:
        raise ValueError("must be 0 or 1")
    return raw


def _url(raw: str) -> str:
    try:
        URLValidator(schemes=["http", "https"])(raw)
    except ValidationError:
        raise ValueError("must be an http(s) URL, e.g. https://cis.partner.example:8083/services/CB") from None
    return raw


def _secret(raw: str) -> str:
    return raw


def _json(raw: str) -> str:
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"must be valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(parsed, dict):
        raise ValueError("must be a JSON object ({...})")
    return raw


def _code_list(raw: str) -> str:
    if not CODE_LIST_RE.fullmatch(raw):
        raise ValueError("must look like sourceId(code)|sourceId(code), e.g. 0(WEB)|2(CSRWEB)|8(POS)")
    return raw


KIND_VALIDATORS: dict[str, Callable[[str], str]] = {
    SettingKind.TEXT: _text,
    SettingKind.INT: _int,
    SettingKind.BOOL: _bool,
    SettingKind.URL: _url,
    SettingKind.SECRET: _secret,
    SettingKind.JSON: _json,
    SettingKind.CODE_LIST: _code_list,
}


def _one_of(*allowed: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")

    return check


def _block_codes(value: str) -> None:
    parsed = json.loads(value)
    unknown = set(parsed) - {"block_ach", "block_cc", "cash_only"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}; use block_ach, block_cc, cash_only")
    if not all(isinstance(v, list) and all(isinstance(c, str) for c in v) for v in parsed.values()):
        raise ValueError('each key must hold a list of code strings, e.g. {"block_ach": ["N"]}')


#: Rules beyond the kind, for settings whose seeds name the allowed values.
NUMBER_RULES: dict[int, Callable[[str], None]] = {
    28: _block_codes,
    35: _one_of("1", "2"),
    119: _one_of("1", "2", "3", "4"),
}


def clean_setting_value(definition: SettingDefinition, raw: str) -> str:
    """Return the normalised value, or raise ValidationError naming the setting and the rule."""
    value = (raw or "").strip()
    label = f"Setting {definition.number} ({definition.name})"
    if not value:
        raise ValidationError(f"{label}: a value is required.")
    shown = "the value" if definition.is_secret else repr(value)
    try:
        value = KIND_VALIDATORS[definition.kind](value)
        rule = NUMBER_RULES.get(definition.number)
        if rule:
            rule(value)
    except ValueError as exc:
        raise ValidationError(f"{label}: {shown} {exc}.") from None
    return value


def parse_code_list(value: str) -> dict[int, str]:
    """Return {source id: code} from a setting 64/65 value."""
    return {int(source): code for source, code in CODE_LIST_ITEM_RE.findall(value or "")}
