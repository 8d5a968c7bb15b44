"""Download speed of the transports over loopback: SFTP get() (pipelined) vs SFTPFile.read(), FTPS.

    python -m bench.transport_download --mb 20

Starts the test suite's loopback SFTP and FTPS servers on 127.0.0.1, downloads one file of the given
size with each client and prints MB/s. Client and servers share one process (and its GIL), so the
figures are a floor. No database needed.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import paramiko

from exchanges.transports.ftps import FtpsTransport
from exchanges.transports.sftp import SftpTransport
from tests.exchanges.transport_servers import PASSWORD, USER, FtpsServer, SftpServer, self_signed_certificate


def _timed(label: str, size: int, func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    seconds = time.perf_counter() - start
    print(f"{label:<32} {size / seconds / 1e6:8.1f} MB/s  ({seconds:.2f} s)")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=20, help="file size in MB (default 20)")
    args = parser.parse_args(argv)
    size = args.mb * 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "remote"
        (root / "inbox").mkdir(parents=True)
        with open(root / "inbox" / "big.BIF", "wb") as out:
            out.writelines(os.urandom(1_000_000) for _ in range(args.mb))
        key = paramiko.RSAKey.generate(2048)
        sftp_server = SftpServer(root, key)
        cert, fingerprint = self_signed_certificate(Path(tmp))
        ftps_server = FtpsServer(root, cert)
        target = Path(tmp) / "copy"
        try:
            with SftpTransport(host="127.0.0.1", port=sftp_server.port, username=USER, password=PASSWORD,
                               host_key_fingerprint=key.fingerprint) as sftp:
                _timed("SFTP get() (pipelined)", size, lambda: sftp.get("/inbox", "big.BIF", target))

                def read_loop() -> None:
                    with sftp.sftp.open("/inbox/big.BIF", "rb") as remote, open(target, "wb") as local:
                        while chunk := remote.read(32768):
                            local.write(chunk)

                _timed("SFTP SFTPFile.read() loop", size, read_loop)
            with FtpsTransport(host="127.0.0.1", port=ftps_server.port, username=USER, password=PASSWORD,
                               certificate_fingerprint=fingerprint) as ftps:
                _timed("FTPS RETR, PROT P", size, lambda: ftps.get("/inbox", "big.BIF", target))
        finally:
            sftp_server.close()
            ftps_server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
