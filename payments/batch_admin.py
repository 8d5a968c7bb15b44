"""Admin of this area (imported by the app's admin module)."""
from __future__ import annotations

