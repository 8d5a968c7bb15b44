"""A text field encrypted at rest with Fernet (key: settings.FIELD_ENCRYPTION_KEY)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models

MASK = "********"


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """Return the plain text; raise ValueError when the token was made with another key."""
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with FIELD_ENCRYPTION_KEY") from exc


def mask(value: str) -> str:
    """Show that a secret is set without showing any of it."""
    return MASK if value else ""


class EncryptedTextField(models.TextField):
    """Stores ciphertext in the database; Python code sees plain text."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str:
        return decrypt(value) if value else ""

    def get_prep_value(self, value: Any) -> str:
        value = super().get_prep_value(value)
        return encrypt(value) if value else ""
