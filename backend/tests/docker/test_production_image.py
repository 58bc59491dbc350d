"""docker/*Dockerfile and production/supervisord.conf agree with each other and with the repo."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from docker_files import (
    DOCKER_DIR,
    PRODUCTION_DIR,
    REPO_ROOT,
    SUPERVISORD_CONF,
    dockerfile_env,
    dockerfile_instructions,
)
from supervisor.options import ServerOptions

BACKEND_DOCKERFILE = DOCKER_DIR / "backend.Dockerfile"
PRODUCTION_DOCKERFILE = PRODUCTION_DIR / "Dockerfile"
DOCKERFILES = [BACKEND_DOCKERFILE, PRODUCTION_DOCKERFILE]


def arguments_of(path: Path, keyword: str) -> list[str]:
    return [rest for found, rest in dockerfile_instructions(path) if found == keyword]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name + "/" + p.name)
def test_images_are_python_3_11_slim_with_ffmpeg_and_the_locked_requirements(
    dockerfile: Path,
) -> None:
    assert arguments_of(dockerfile, "FROM") == ["python:3.11-slim"]
    runs = " ".join(arguments_of(dockerfile, "RUN"))
    assert re.search(r"apt-get install [^&]*\bffmpeg\b", runs)
    assert "uv pip sync /app/requirements.txt" in runs
    env = dockerfile_env(dockerfile)
    assert env["PYTHONPATH"] == "/app/src"
    assert set(env) >= {"DATA_DIR_PATH", "MUSIC_DIR_PATH"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name + "/" + p.name)
def test_everything_an_image_copies_exists_in_the_build_context(dockerfile: Path) -> None:
    """The build context is the repository root (see docker-compose.yml and the headers)."""
    missing = []
    for arguments in arguments_of(dockerfile, "COPY"):
        tokens = [t for t in shlex.split(arguments) if not t.startswith("--")]
        missing += [source for source in tokens[:-1] if not (REPO_ROOT / source).exists()]
    assert missing == [], (
        "missing from the repository (backend/requirements.txt comes from `make back-lock`)"
    )
    copies = " ".join(arguments_of(dockerfile, "COPY"))
    assert "backend/src /app/src" in copies


def test_the_production_image_runs_supervisord_on_its_config() -> None:
    copies = arguments_of(PRODUCTION_DOCKERFILE, "COPY")
    assert "docker/production/supervisord.conf /etc/mus/supervisord.conf" in copies
    (command,) = arguments_of(PRODUCTION_DOCKERFILE, "CMD")
    assert json.loads(command)[:2] == ["sh", "-c"]
    assert json.loads(command)[2].endswith("&& exec supervisord -n -c /etc/mus/supervisord.conf")
    runs = " ".join(arguments_of(PRODUCTION_DOCKERFILE, "RUN"))
    assert re.search(r"apt-get install [^&]*\bredis-server\b", runs)
    assert "supervisor==" in runs
    assert re.search(r"mkdir -p [^&]*/run/mus\b", runs), "supervisord's pid/socket folder"
    assert "/api/v1/healthcheck" in " ".join(arguments_of(PRODUCTION_DOCKERFILE, "HEALTHCHECK"))


@pytest.mark.parametrize(
    ("given", "expected"),
    [("", str(len(os.sched_getaffinity(0)))), ("3", "3")],
    ids=["unset-one-per-core", "given"],
)
def test_the_image_command_gives_supervisord_one_worker_per_core_unless_told(
    tmp_path: Path, given: str, expected: str
) -> None:
    """The CMD's own shell line, run with a `supervisord` on PATH that reports what it got."""
    (command,) = arguments_of(PRODUCTION_DOCKERFILE, "CMD")
    argv = json.loads(command)
    reporter = tmp_path / "supervisord"
    reporter.write_text('#!/bin/sh\necho "$MUS_WORKER_PROCESSES $*"\n')
    reporter.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "MUS_WORKER_PROCESSES": given}
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    assert result.stdout == f"{expected} -n -c /etc/mus/supervisord.conf\n"
    assert dockerfile_env(PRODUCTION_DOCKERFILE)["MUS_WORKER_PROCESSES"] == ""


def test_the_image_sets_every_variable_supervisord_conf_expands() -> None:
    """supervisord refuses to start on an unset %(ENV_X)s: the image must define them all."""
    lines = SUPERVISORD_CONF.read_text().splitlines()
    settings = "\n".join(line for line in lines if not line.lstrip().startswith(";"))
    used = set(re.findall(r"%\(ENV_([A-Za-z0-9_]+)\)s", settings))
    shell_used = set(re.findall(r"\$([A-Z][A-Z0-9_]+)", settings))
    env = dockerfile_env(PRODUCTION_DOCKERFILE)
    assert used and used <= set(env), sorted(used - set(env))
    assert shell_used <= set(env), sorted(shell_used - set(env))


def parse_supervisord_conf(
    monkeypatch: pytest.MonkeyPatch, run_dir: Path, **overrides: str
) -> dict[str, Any]:
    """Let supervisor itself parse the file with the image's environment (nothing starts).

    Only MUS_RUN_DIR moves to a temp folder: supervisor checks that the pid file's folder
    exists, and /run/mus exists in the image, not here.
    """
    image_env = dockerfile_env(PRODUCTION_DOCKERFILE)
    assert image_env["MUS_RUN_DIR"] == "/run/mus"
    overrides = {"MUS_RUN_DIR": str(run_dir), **overrides}
    for key, value in {**image_env, **overrides}.items():
        monkeypatch.setenv(key, value)
    options = ServerOptions()
    options.realize(args=["-c", str(SUPERVISORD_CONF)])
    return {
        process.name: process
        for group in options.process_group_configs
        for process in group.process_configs
    }


def test_supervisor_reads_the_config_with_the_image_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    programs = parse_supervisord_conf(monkeypatch, tmp_path, MUS_WORKER_PROCESSES="2")
    assert set(programs) == {"api", "streaq-worker-1", "streaq-worker-2", "redis"}
    api, worker, redis = programs["api"], programs["streaq-worker-1"], programs["redis"]
    assert programs["streaq-worker-2"].command == worker.command
    assert api.command == (
        "/opt/venv/bin/python -m uvicorn mus.main:app --host 0.0.0.0 --port 8000"
    )
    assert worker.command == "/opt/venv/bin/python -m streaq run mus.worker:worker"
    assert "--appendonly yes" in redis.command
    assert (api.autostart, worker.autostart, redis.autostart) == (True, True, True)
    # Redis comes up before, and goes down after, the processes that use it.
    assert redis.priority < api.priority and redis.priority < worker.priority
    assert all(p.autorestart for p in programs.values())
    assert api.stopasgroup and worker.stopasgroup


def test_an_external_redis_turns_the_embedded_one_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    programs = parse_supervisord_conf(
        monkeypatch,
        tmp_path,
        MUS_EMBEDDED_REDIS="false",
        REDIS_URL="redis://cache:6379/0",
        MUS_WORKER_PROCESSES="1",
    )
    assert programs["redis"].autostart is False
    assert programs["api"].autostart and programs["streaq-worker-1"].autostart
