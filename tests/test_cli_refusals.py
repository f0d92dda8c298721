"""Mistakes a council's IT team makes in its first week, each answered with one plain line and a
non-zero exit, never a traceback (issue 16)."""

from __future__ import annotations

import socket

from support.processes import ROOT, run_cli


def one_plain_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_starting_twice_on_one_port_is_one_plain_line(tmp_path):
    with socket.socket() as taken:  # stands in for the bot already running
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--local", env={"PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path}/b.db"})
    assert result.returncode == 2
    line = one_plain_line(result.stderr)
    assert line.startswith("policy-bot: not starting: ") and f"port {port}" in line and "already in use" in line
    assert not (tmp_path / "b.db").exists()  # it stopped before touching the database


def test_policy_publish_refuses_an_empty_label_and_the_same_text_under_a_new_one(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}
    policy = ROOT / "domain/data/example-policy.md"
    for label in ("", "   "):
        empty = run_cli("policy", "publish", str(policy), "--version", label, env=env)
        assert empty.returncode == 2 and "--version" in one_plain_line(empty.stderr)
    assert run_cli("policy", "publish", str(policy), "--version", "2.0", env=env).returncode == 0
    same = run_cli("policy", "publish", str(policy), "--version", "2.1", env=env)
    assert same.returncode == 2
    line = one_plain_line(same.stderr)
    assert "same text as the current version 2.0" in line and "--force" in line
    forced = run_cli("policy", "publish", str(policy), "--version", "2.1", "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    listing = run_cli("policy", "list", env=env).stdout
    assert "2.0\t" in listing and "2.1\t" in listing and "\t\t" not in listing


def test_ask_from_an_empty_policy_file_is_refused(tmp_path):
    empty = tmp_path / "empty.md"
    empty.write_text("")
    result = run_cli("ask", "--json", "--policy", str(empty), "Can I use ChatGPT?",
                 env={"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"})
    assert result.returncode == 2 and result.stdout == ""
    assert "empty.md has no readable text" in one_plain_line(result.stderr)


def test_export_of_an_unknown_person_says_so_and_fails(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/b.db"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    out = tmp_path / "export.json"
    result = run_cli("export-user", "no-such-person", "--out", str(out), env=env)
    assert result.returncode == 1 and result.stdout == "" and not out.exists()
    assert "no records about 'no-such-person'" in one_plain_line(result.stderr)


def test_every_commands_help_is_free_of_stray_metavars():
    import re

    import click
    import typer
    from typer.testing import CliRunner

    from cli.main import app

    def paths(command: click.Command, prefix: tuple[str, ...] = ()):
        yield prefix
        for name, sub in getattr(command, "commands", {}).items():
            yield from paths(sub, (*prefix, name))

    runner = CliRunner()
    every = list(paths(typer.main.get_command(app)))
    assert ("policy", "publish") in every and ("export-user",) in every
    for path in every:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
        assert result.exit_code == 0, (path, result.output)
        stray = re.findall(r"<(?:bool|str|int|float|path)>|\{\w+\}", result.output)
        assert not stray, f"policy-bot {' '.join(path)} --help shows {stray}:\n{result.output}"
