"""The local folder transport."""
from __future__ import annotations

from pathlib import Path

import pytest

from exchanges.transports.base import TransportError, free_name, matches
from exchanges.transports.folder import FolderTransport


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    for name in ("in", "done", "bad"):
        (tmp_path / name).mkdir()
    return tmp_path


def test_lists_copies_and_moves_files(folders: Path, tmp_path: Path) -> None:
    (folders / "in" / "b.BAF").write_text("2|x|1.00\n")
    (folders / "in" / "a.BIF").write_text("FH|...\n")
    (folders / "in" / "sub").mkdir()
    with FolderTransport(root=folders) as transport:
        assert [f.name for f in transport.list("in")] == ["a.BIF", "b.BAF"]
        assert transport.get("in", "a.BIF", tmp_path / "copy") == 7
        assert transport.move("in", "a.BIF", "done") == "a.BIF"
    assert (tmp_path / "copy").read_text() == "FH|...\n"
    assert (folders / "done" / "a.BIF").exists() and not (folders / "in" / "a.BIF").exists()


def test_absolute_folders_ignore_the_root(folders: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    (folders / "in" / "a.BIF").write_text("x")
    with FolderTransport(root=tmp_path_factory.mktemp("elsewhere")) as transport:
        assert [f.name for f in transport.list(str(folders / "in"))] == ["a.BIF"]
        transport.move(str(folders / "in"), "a.BIF", str(folders / "bad"))
    assert (folders / "bad" / "a.BIF").exists()


def test_move_never_overwrites(folders: Path) -> None:
    (folders / "done" / "a.BIF").write_text("old")
    (folders / "in" / "a.BIF").write_text("new")
    with FolderTransport(root=folders) as transport:
        new_name = transport.move("in", "a.BIF", "done")
    assert new_name != "a.BIF" and (folders / "done" / new_name).read_text() == "new"
    assert (folders / "done" / "a.BIF").read_text() == "old"


def test_missing_folders_are_permanent_errors(folders: Path) -> None:
    (folders / "in" / "a.BIF").write_text("x")
    with FolderTransport(root=folders) as transport:
        with pytest.raises(TransportError) as listing:
            transport.list("nope")
        with pytest.raises(TransportError) as moving:
            transport.move("in", "a.BIF", "nope")
    assert listing.value.permanent and "no such folder" in str(listing.value)
    assert moving.value.permanent and (folders / "in" / "a.BIF").exists()


def test_patterns_match_without_regard_to_case() -> None:
    assert matches("2778_11202026.bif", "2778_*.BIF")
    assert not matches("2779_11202026.BIF", "2778_*")


def test_free_name_adds_a_timestamp_only_when_taken() -> None:
    assert free_name("a.BIF", lambda n: False) == "a.BIF"
    taken = free_name("a.BIF", lambda n: n == "a.BIF")
    assert taken.startswith("a_") and taken.endswith(".BIF")
    assert free_name("README", lambda n: n == "README").startswith("README_")
