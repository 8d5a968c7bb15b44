"""Run partner simulators until interrupted.

python -m partners.simulators --partner daffron --port 8701
python -m partners.simulators --all --port 8701     # aus 8701, cayenta 8702, daffron 8703

Besides each simulator's own fixture accounts, the demo billers' accounts answer too
(``partners/simulators/demo.py``), so ``make run`` has RTDR for BIDs 123, 1368 and 2778.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from partners.simulators.demo import FIXTURES as DEMO_FIXTURES
from partners.simulators.server import MODES, PARTNERS, SimulatorHandle, serve

ALL_ORDER = ("aus", "cayenta", "daffron")


def main(argv: Sequence[str] | None = None) -> int:
    """Start the simulators asked for, print their URLs, and serve until SIGINT/SIGTERM; returns 0."""
    parser = argparse.ArgumentParser(
        prog="python -m partners.simulators",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--partner", choices=sorted(PARTNERS))
    group.add_argument("--all", action="store_true", help="aus, cayenta, daffron on consecutive ports")
    parser.add_argument("--port", type=int, default=8701)
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument("--slow-seconds", type=float, default=3.0)
    args = parser.parse_args(argv)

    partners = ALL_ORDER if args.all else (args.partner,)
    handles: list[SimulatorHandle] = []
    try:
        for offset, partner in enumerate(partners):
            handle = serve(partner, args.port + offset, fixtures=DEMO_FIXTURES.get(partner))
            handle.mode, handle.slow_seconds = args.mode, args.slow_seconds
            handles.append(handle)
            print(f"{partner} {handle.url}", flush=True)
        stopped = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopped.set())
        stopped.wait()
    finally:
        for handle in handles:
            handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
