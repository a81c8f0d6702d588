"""The throwaway-server helper itself: where it looks for PostgreSQL, and the reason it
gives when there is none."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from tests import pg_server


def test_without_binaries_or_pgserver_the_reason_names_what_to_install(monkeypatch):
    monkeypatch.setattr(pg_server, "find_bindir", lambda: None)
    real_import = builtins.__import__

    def no_pgserver(name: str, *args: object, **kwargs: object):
        if name == "pgserver":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pgserver)
    with pytest.raises(pg_server.Unavailable, match="postgresql package"):
        pg_server.start()


def test_an_explicit_bindir_comes_first(monkeypatch, tmp_path: Path):
    for name in ("initdb", "pg_ctl", "postgres"):
        (tmp_path / name).write_text("")
    monkeypatch.setenv("KETALOG_PG_BINDIR", str(tmp_path))
    assert pg_server.find_bindir() == tmp_path


def test_a_folder_without_the_server_programs_is_passed_over(monkeypatch, tmp_path: Path):
    (tmp_path / "initdb").write_text("")  # a client-only install has no postgres
    monkeypatch.setenv("KETALOG_PG_BINDIR", str(tmp_path))
    assert pg_server.find_bindir() != tmp_path
