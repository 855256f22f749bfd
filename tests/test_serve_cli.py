"""``corridor users add`` (password prompted, argon2 hash) and ``corridor serve``'s TLS warning."""

from __future__ import annotations

from typer.testing import CliRunner

from corridor.cli import app
from corridor.serve.app import TLS_WARNING, is_loopback
from corridor.serve.auth import verify_login
from corridor.store import Store


def test_users_add_prompts_and_stores_only_a_hash(db_file):
    r = CliRunner().invoke(app, ["--db", str(db_file), "users", "add", "maria", "--role", "analyst"],
                           input="a-long-password\na-long-password\n")
    assert r.exit_code == 0, r.output
    assert "maria (analyst) saved" in r.output
    with Store.open(db_file) as s:
        h = s.one("SELECT password_hash, role FROM users WHERE username = 'maria'")
        assert h[0].startswith("$argon2id$") and "a-long-password" not in h[0] and h[1] == "analyst"
        assert verify_login(s, "maria", "a-long-password").role.name == "analyst"
        assert verify_login(s, "maria", "wrong") is None
    again = CliRunner().invoke(app, ["--db", str(db_file), "users", "add", "maria", "--role", "admin"],
                               input="a-long-password\na-long-password\n")
    assert again.exit_code == 1 and "exists" in again.output
    bad = CliRunner().invoke(app, ["--db", str(db_file), "users", "add", "x", "--role", "boss"],
                             input="a-long-password\na-long-password\n")
    assert bad.exit_code == 1 and "role 'boss'" in bad.output
    short = CliRunner().invoke(app, ["--db", str(db_file), "users", "add", "y", "--role", "viewer"],
                               input="short\nshort\n")
    assert short.exit_code == 1 and "at least" in short.output
    listed = CliRunner().invoke(app, ["users", "list", "--db", str(db_file)])  # --db after works too
    assert listed.output.split() == ["maria", "analyst"]


def test_only_loopback_is_served_without_a_tls_warning():
    assert is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert "TLS" in TLS_WARNING.format(host="0.0.0.0")


def test_corridor_serve_starts_one_process_over_the_store(db_file):
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with Store.open(db_file):
        pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-m", "corridor", "serve", "--db", str(db_file), "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                r = httpx.get(base + "/", follow_redirects=False, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert httpx.get(base + "/login").status_code == 200
        assert httpx.get(base + "/api/vessels").status_code == 401
        # the store is held by the server: a second writer is refused with a clear message
        other = CliRunner().invoke(app, ["--db", str(db_file), "users", "list"])
        assert other.exit_code == 75 and "is in use by another process" in other.output
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"corridor serve: http://127.0.0.1:{port}/" in out
    assert "warning" not in out.split("corridor serve:")[0]  # loopback: no TLS warning
