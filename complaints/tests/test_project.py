"""The README's promises that code can check."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from complaints.management.commands.state_diagram import case_transitions, mermaid

README = Path(settings.BASE_DIR, "README.md").read_text(encoding="utf-8")


def test_readme_state_diagram_is_the_one_the_code_draws():
    assert "```mermaid\n" + mermaid() + "\n```" in README


def test_state_diagram_comes_from_django_fsm_graph():
    edges = case_transitions()
    assert ("confirming", "analyzing", "confirm") in edges
    assert ("verifying", "analyzing", "unsatisfied") in edges
    assert ("closed", "analyzing", "reopen") in edges
    assert sum(1 for edge in edges if edge[2] == "cancel") == 6


def test_state_diagram_command_prints_the_block(capsys):
    call_command("state_diagram")
    assert capsys.readouterr().out.strip() == "```mermaid\n" + mermaid() + "\n```"


def test_readme_shows_the_two_commands_and_demo_logins():
    for text in ("make run", "make test", "agent1", "supervisor1", "admin1", "demo12345"):
        assert text in README


def _settings_in_subprocess(*command, **env):
    import os
    import subprocess
    import sys

    unset = {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the last: browser tests'
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    environment.update(env, DJANGO_SETTINGS_MODULE="casetracker.settings")
    return subprocess.run(
        [
            sys.executable,
            *(command or ["-c", "from django.conf import settings; print(settings.DEBUG)"]),
        ],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _settings_in_subprocess(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    result = _settings_in_subprocess(DEBUG="0", SECRET_KEY="x" * 60)
    assert result.returncode == 0 and result.stdout.strip() == "False"


SECRET = "test-only-9f2c4e7a1b8d3f6e0c5a2b9d8e7f1a3c4b6d8e0f2a4c6e8b"


def test_the_deploy_check_passes_with_production_settings():
    result = _settings_in_subprocess(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY=SECRET, ALLOWED_HOSTS="shop.example",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr
    # The same check fails loudly when the settings are weakened.
    weakened = _settings_in_subprocess(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY=SECRET, ALLOWED_HOSTS="shop.example", SECURE_COOKIES="0",
    )  # fmt: skip
    assert weakened.returncode != 0
    assert "SESSION_COOKIE_SECURE" in weakened.stderr
