"""Mistakes a council's IT team makes in its first week, each answered with one plain line and a
non-zero exit, never a traceback (issue 16)."""

from __future__ import annotations

import socket

from test_settings_and_cli import run


def one_plain_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_starting_twice_on_one_port_is_one_plain_line(tmp_path):
    with socket.socket() as taken:  # stands in for the bot already running
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--local", env={"PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path}/b.db"})
    assert result.returncode == 2
    line = one_plain_line(result.stderr)
    assert line.startswith("policy-bot: not starting: ") and f"port {port}" in line and "already in use" in line
    assert not (tmp_path / "b.db").exists()  # it stopped before touching the database
