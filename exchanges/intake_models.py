"""Models of this area (imported by the app's models module)."""
from __future__ import annotations

