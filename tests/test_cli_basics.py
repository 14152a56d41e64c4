import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from persona_assistant.cli.app import app
from persona_assistant.schemas import Persona

runner = CliRunner()


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_version_and_help():
    out = run_cli("--version")
    assert out.returncode == 0 and "persona-assistant" in out.stdout
    out = run_cli("--help")
    assert out.returncode == 0 and "init" in out.stdout


def test_init_creates_workspace_and_keeps_existing(tmp_path):
    ws = tmp_path / "ws"
    out = run_cli("init", str(ws))
    assert out.returncode == 0, out.stderr
    assert (ws / "crm").is_dir() and (ws / "notes").is_dir() and (ws / ".persona-assistant").is_dir()
    brief = (ws / "brief.yaml").read_text()
    assert brief.startswith("#") and "banned_phrases" in brief and "proof_points" in brief
    assert oct(os.stat(ws / "brief.yaml").st_mode & 0o777) != "0o600"
    (ws / "brief.yaml").write_text("product: mine\n")
    assert run_cli("init", str(ws)).returncode == 0
    assert (ws / "brief.yaml").read_text() == "product: mine\n"


def test_init_on_a_file_is_usage_error(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    out = run_cli("init", str(f))
    assert out.returncode == 2
    assert out.stderr.startswith("error: init:") and "Traceback" not in out.stderr


def test_schema_prints_json_schema_and_rejects_unknown():
    out = run_cli("schema", "persona")
    assert out.returncode == 0
    schema = json.loads(out.stdout)
    assert schema == Persona.model_json_schema()
    assert schema["additionalProperties"] is False
    bad = run_cli("schema", "persona2")
    assert bad.returncode == 2 and "did you mean persona" in bad.stderr and bad.stdout == ""


def test_usage_errors_are_one_line_exit_2_without_traceback():
    for args in (("init",), ("nosuch-command",), ("schema", "--bogus")):
        out = run_cli(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr and out.stderr.strip()
