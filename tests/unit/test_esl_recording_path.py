"""Which ``Record-File-Path`` the ESL gate takes into the vault: only a regular file directly
in ``esl.recordings_dir``, looked at with ``lstat``; everything else is refused (and, since the
sink is then never called, left where it is)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from dialguard.esl.recording import UnsafeRecordingPath, recording_file

NAME = "dg-0b9e7c1e-5a8f-4f8e-9d4f-2b1f3c4d5e6f.wav"


@pytest.fixture
def rec(tmp_path: Path) -> Path:
    directory = tmp_path / "recordings"
    directory.mkdir()
    return directory


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the recordings directory that a hostile RECORD_STOP would like taken."""
    outside = tmp_path / "home" / NAME
    outside.parent.mkdir()
    outside.write_bytes(b"not yours")
    return outside


def refused(path: str | Path, directory: Path | str) -> str:
    with pytest.raises(UnsafeRecordingPath) as caught:
        recording_file(str(path), str(directory))
    return str(caught.value)


def test_a_regular_file_directly_in_the_directory_is_taken(rec: Path) -> None:
    (rec / NAME).write_bytes(b"RIFF")
    assert recording_file(f"{rec}/{NAME}", str(rec)) == rec / NAME


def test_the_configured_directory_may_itself_be_a_symlink(tmp_path: Path, rec: Path) -> None:
    (rec / NAME).write_bytes(b"RIFF")
    (tmp_path / "link").symlink_to(rec)
    link = tmp_path / "link"
    assert recording_file(f"{link}/{NAME}", str(link)) == link / NAME


def test_a_file_outside_the_directory_is_refused(rec: Path, secret: Path) -> None:
    assert refused(secret, rec) == "not directly in esl.recordings_dir"


def test_a_dot_dot_path_is_refused_even_when_it_ends_inside(rec: Path, secret: Path) -> None:
    (rec / NAME).write_bytes(b"RIFF")
    assert "'..'" in refused(f"{rec}/../home/{NAME}", rec)
    assert "'..'" in refused(f"{rec}/../{rec.name}/{NAME}", rec)
    assert "'.'" in refused(f"{rec}/./{NAME}", rec)


def test_a_symlink_in_the_directory_is_refused(rec: Path, secret: Path) -> None:
    (rec / NAME).symlink_to(secret)
    assert refused(rec / NAME, rec) == "is a symbolic link, not a regular file"


def test_a_symlink_to_a_file_inside_is_refused_too(rec: Path) -> None:
    (rec / "real.wav").write_bytes(b"RIFF")
    (rec / NAME).symlink_to(rec / "real.wav")
    assert refused(rec / NAME, rec) == "is a symbolic link, not a regular file"


def test_a_symlinked_subdirectory_is_refused(rec: Path, secret: Path) -> None:
    (rec / "sub").symlink_to(secret.parent)
    assert refused(rec / "sub" / NAME, rec) == "not directly in esl.recordings_dir"


def test_a_fifo_is_refused_without_opening_it(rec: Path) -> None:
    os.mkfifo(rec / NAME)  # opening it for reading would block the ingest forever
    assert refused(rec / NAME, rec) == "is a FIFO, not a regular file"


def test_a_device_is_refused() -> None:
    assert refused("/dev/null", "/dev") == "is a character device, not a regular file"


def test_a_directory_and_a_socket_are_refused(rec: Path) -> None:
    (rec / NAME).mkdir()
    assert refused(rec / NAME, rec) == "is a directory, not a regular file"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(rec / "s.wav"))
        assert refused(rec / "s.wav", rec) == "is a socket, not a regular file"


def test_a_hard_link_to_a_file_elsewhere_is_refused(rec: Path, secret: Path) -> None:
    os.link(secret, rec / NAME)
    assert refused(rec / NAME, rec) == "has 2 hard links"


@pytest.mark.parametrize("path", ["", NAME, f"recordings/{NAME}", f"/x\0/{NAME}"])
def test_relative_or_nul_paths_are_refused(rec: Path, path: str) -> None:
    refused(path, rec)


def test_a_missing_file_is_refused(rec: Path) -> None:
    assert refused(rec / NAME, rec) == "No such file or directory"


def test_nothing_is_taken_while_the_directory_is_a_freeswitch_variable(rec: Path) -> None:
    (rec / NAME).write_bytes(b"RIFF")
    assert "not an absolute path" in refused(rec / NAME, "$${recordings_dir}")
