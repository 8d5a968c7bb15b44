"""A local (or mounted) folder, for partners that drop files on a share we mount, and for tests.

Folder names are absolute paths, or paths relative to ``DATA_DIR``."""
from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from exchanges.transports.base import RemoteFile, Transport, TransportError


class FolderTransport(Transport):
    kind = "folder"

    def __init__(self, *, root: Path) -> None:
        self.root = root

    def path(self, folder: str) -> Path:
        return self.root / folder  # an absolute folder replaces root

    def open(self) -> None:
        if not self.root.is_dir():
            raise TransportError(f"folder transport: base folder {self.root} does not exist", permanent=True)

    def close(self) -> None:
        pass

    def list(self, folder: str) -> list[RemoteFile]:
        path = self.path(folder)
        try:
            entries = list(os.scandir(path))
        except FileNotFoundError as exc:
            raise TransportError(f"folder {path}: no such folder", permanent=True) from exc
        except OSError as exc:
            raise TransportError(f"folder {path}: {exc.strerror or exc}", permanent=True) from exc
        files = []
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                info = entry.stat(follow_symlinks=False)
                files.append(RemoteFile(entry.name, info.st_size,
                                        datetime.fromtimestamp(info.st_mtime, UTC)))
        return sorted(files, key=lambda f: f.name)

    def get(self, folder: str, name: str, local_path: Path) -> int:
        source = self.path(folder) / name
        try:
            shutil.copyfile(source, local_path)
        except OSError as exc:
            raise TransportError(f"folder: copying {source}: {exc.strerror or exc}") from exc
        return local_path.stat().st_size

    def exists(self, folder: str, name: str) -> bool:
        return (self.path(folder) / name).exists()

    def rename(self, src_folder: str, name: str, dest_folder: str, dest_name: str) -> None:
        source, dest = self.path(src_folder) / name, self.path(dest_folder) / dest_name
        if not dest.parent.is_dir():
            raise TransportError(f"folder: moving {source}: no such folder {dest.parent}", permanent=True)
        try:
            os.rename(source, dest)
        except OSError as exc:
            raise TransportError(f"folder: moving {source} to {dest}: {exc.strerror or exc}") from exc
