"""A real django-q2 cluster loses a worker mid-delivery (SIGKILL): every event still reaches Daffron once.

The scenario runs in ``bench/pump.py`` (its own scratch database, a loopback Daffron simulator and a
``manage.py qcluster`` subprocess with two workers): once 30 payments are delivered it slows the
simulator, SIGKILLs the worker whose event is in flight and plays the every-minute sweep each second.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT = Path(__file__).resolve().parents[2]
EVENTS = 120


def _scratch_url() -> list[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return []
    parts = urlsplit(url)
    return ["--database-url", urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_fault"))]


def test_a_killed_worker_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    command = [sys.executable, str(PROJECT / "bench" / "pump.py"), "--json", "--events", str(EVENTS),
               "--kill-worker-after", "30", "--accounts", "5", "--billers", "1", "--read-timeout", "0.5",
               "--timeout", "90", *_scratch_url()]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(command, cwd=PROJECT, env={**env, "DATA_DIR": str(tmp_path)}, capture_output=True,
                          text=True, timeout=180, check=False)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0, report
    assert report["killed_pid"], report  # a worker really died while sending
    assert report["lost_attempts"] >= 1, report
    assert report["statuses"] == {"delivered": EVENTS}, report
    assert report["missing"] == 0 and report["posted_once"] == EVENTS, report
    # A send cut by the kill may have reached Daffron: the resend carries the same transactionId and
    # Daffron recognises it (a duplicate it does not post), so every payment is posted exactly once.
    assert report["simulator_duplicates"] <= report["lost_attempts"], report
    assert report["simulator_calls"] == EVENTS + report["simulator_duplicates"], report
