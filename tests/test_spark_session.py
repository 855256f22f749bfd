"""The local-mode driver JVM's class-data archive: written once by the first run (to a
name of its own, so two first runs cannot write one file), then used by every later run.

No JVM needed: what is checked is the option each session start hands the JVM.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from corridor.engines import spark as sp


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "cache" / "spark-classes.jsa"
    monkeypatch.setenv(sp.CLASS_CACHE_ENV, str(path))
    return path


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _old(p: Path) -> None:
    os.utime(p, (p.stat().st_atime - 3600, p.stat().st_mtime - 3600))


def test_first_run_writes_a_file_of_its_own_later_runs_use_the_archive(cache: Path):
    opt = sp._class_cache_option()
    assert opt.split()[0] == f"-XX:ArchiveClassesAtExit={cache}.{os.getpid()}"
    assert "-Xlog:cds*=off" in opt.split()  # its notes would go to the user's stdout
    assert cache.parent.is_dir()
    # the first run's JVM wrote its archive at exit; that driver is gone
    written = cache.with_name(f"{cache.name}.{_dead_pid()}")
    written.write_bytes(b"x" * 100)
    _old(written)
    assert sp._class_cache_option().split()[0] == f"-XX:SharedArchiveFile={cache}"
    assert cache.read_bytes() == b"x" * 100 and not written.exists()


def test_an_archive_still_being_written_is_left_alone(cache: Path):
    cache.parent.mkdir(parents=True)
    live = cache.with_name(f"{cache.name}.{os.getpid()}")  # this process: still running
    live.write_bytes(b"x")
    _old(live)
    recent = cache.with_name(f"{cache.name}.{_dead_pid()}")  # its JVM may still be writing
    recent.write_bytes(b"x")
    assert "ArchiveClassesAtExit" in sp._class_cache_option()
    assert live.exists() and recent.exists() and not cache.exists()


def test_two_first_runs_keep_one_archive(cache: Path):
    cache.parent.mkdir(parents=True)
    for _ in range(2):
        f = cache.with_name(f"{cache.name}.{_dead_pid()}")
        f.write_bytes(b"x" * 10)
        _old(f)
    assert sp._class_cache_option().split()[0] == f"-XX:SharedArchiveFile={cache}"
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]


def test_off_disables_it(monkeypatch):
    monkeypatch.setenv(sp.CLASS_CACHE_ENV, "off")
    assert sp.class_cache_path() is None
    assert sp._class_cache_option() == ""


def test_the_default_archive_is_per_java_and_pyspark_installation(monkeypatch, tmp_path: Path):
    monkeypatch.delenv(sp.CLASS_CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    a = sp.class_cache_path()
    assert a is not None and a.parent == tmp_path / "corridor"
    os.utime(java, (1, 1))  # another build of Java
    assert sp.class_cache_path() != a
