"""docker/docker-compose*.yml: valid Compose files that run what mus needs, as mus names it."""

from __future__ import annotations

import os
from typing import Any

import pytest
from docker_files import DOCKER_DIR, REPO_ROOT, load_compose
from jsonschema import Draft202012Validator

from mus.adapters.queue.streaq_job_queue import PRIORITIES
from mus.core.config import Settings
from mus.worker import worker_from_settings

COMPOSE = "docker-compose.yml"
OVERRIDE = "docker-compose.override.yml.example"


def settings_env_names() -> set[str]:
    """Every environment variable name Settings reads (aliases included)."""
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif alias is not None:
            names.update(str(choice) for choice in alias.choices)  # type: ignore[union-attr]
    return names


def command_text(service: dict[str, Any]) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


@pytest.mark.parametrize("name", [COMPOSE, OVERRIDE])
def test_compose_file_is_valid_against_the_compose_specification(
    name: str, compose_schema: dict[str, Any]
) -> None:
    validator = Draft202012Validator(compose_schema)
    errors = sorted(validator.iter_errors(load_compose(name)), key=lambda e: list(e.path))
    assert [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors] == []


def test_the_schema_rejects_what_compose_would_reject(compose_schema: dict[str, Any]) -> None:
    """Guards the guard: a misspelt key and a wrong type must fail validation."""
    validator = Draft202012Validator(compose_schema)
    document = load_compose(COMPOSE)
    document["services"]["redis"]["helthcheck"] = document["services"]["redis"]["healthcheck"]
    assert not validator.is_valid(document)
    document = load_compose(COMPOSE)
    document["services"]["api"]["depends_on"] = {"redis": {"condition": "when_ready"}}
    assert not validator.is_valid(document)


def test_services_are_the_api_the_streaq_worker_and_redis() -> None:
    services = load_compose(COMPOSE)["services"]
    assert set(services) == {"api", "streaq-worker", "streaq-worker-high", "redis"}
    assert "profiles" not in services["streaq-worker"]
    assert services["streaq-worker-high"]["profiles"] == ["dedicated"]  # opt-in only


def test_api_runs_uvicorn_on_the_app_after_a_healthy_redis() -> None:
    api = load_compose(COMPOSE)["services"]["api"]
    assert api["command"][:2] == ["uvicorn", "mus.main:app"]
    assert api["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert "/api/v1/healthcheck" in " ".join(api["healthcheck"]["test"])
    assert any(str(port).endswith(":8000") for port in api["ports"])


@pytest.mark.parametrize("service", ["api", "streaq-worker", "streaq-worker-high"])
def test_backend_services_share_settings_data_and_music(service: str) -> None:
    spec = load_compose(COMPOSE)["services"][service]
    environment = spec["environment"]
    assert set(environment) <= settings_env_names(), "a variable mus does not read"
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    targets = {volume.rsplit(":", 1)[1]: volume for volume in spec["volumes"]}
    assert targets["/data"].startswith("mus-data:")
    assert environment["DATA_DIR_PATH"] == "/data"
    assert environment["MUSIC_DIR_PATH"] == "/music" and "/music" in targets
    assert spec["depends_on"]["redis"]["condition"] == "service_healthy"
    build = spec["build"]
    assert (DOCKER_DIR / build["context"] / build["dockerfile"]).resolve() == (
        REPO_ROOT / "docker" / "backend.Dockerfile"
    )


def worker_of(service: dict[str, Any]) -> list[str]:
    """The priorities the worker of a compose service consumes, highest first."""
    environment = {key: str(value) for key, value in service["environment"].items()}
    settings = Settings.model_validate(environment)
    return list(worker_from_settings(settings).priorities)


def test_the_streaq_worker_runs_one_streaq_cli_per_core_on_all_three_queues() -> None:
    worker = load_compose(COMPOSE)["services"]["streaq-worker"]
    # `mus worker`: supervises MUS_WORKER_PROCESSES `python -m streaq run` children
    # (tests/local_stack/test_worker_pool.py runs it for real).
    assert worker["command"] == ["python", "-m", "mus.local_stack.worker_pool"]
    assert (REPO_ROOT / "backend/src/mus/local_stack/worker_pool.py").is_file()
    assert "MUS_WORKER_QUEUES" not in worker["environment"]
    assert worker_of(worker) == list(reversed(PRIORITIES))
    settings = Settings.model_validate(
        {key: str(value) for key, value in worker["environment"].items()}
    )
    assert worker["environment"]["MUS_WORKER_PROCESSES"] == ""  # unset: one per core
    assert settings.worker_processes == (os.cpu_count() or 1)


def test_the_dedicated_worker_consumes_only_high_priority() -> None:
    services = load_compose(COMPOSE)["services"]
    dedicated = services["streaq-worker-high"]
    assert dedicated["command"] == ["streaq", "run", "mus.worker:worker"]
    assert worker_of(dedicated) == ["high_priority"]
    shared = {k: v for k, v in dedicated["environment"].items() if k != "MUS_WORKER_QUEUES"}
    pool = services["streaq-worker"]["environment"]
    assert shared == {k: v for k, v in pool.items() if k != "MUS_WORKER_PROCESSES"}


def test_redis_keeps_an_append_only_file_on_a_volume_and_reports_health() -> None:
    compose = load_compose(COMPOSE)
    redis = compose["services"]["redis"]
    assert redis["image"].startswith("redis:7")
    assert "--appendonly yes" in command_text(redis)
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "redis-data:/data" in redis["volumes"]
    assert set(compose["volumes"]) >= {"mus-data", "redis-data"}


def test_the_development_override_reloads_from_the_bind_mounted_source() -> None:
    override = load_compose(OVERRIDE)["services"]
    for name, reload_marker in (("api", "--reload"), ("streaq-worker", "watchfiles")):
        command = command_text(override[name])
        sync = command.index("uv pip sync /app/requirements.txt")
        assert sync < command.index(reload_marker), f"{name} must sync before it starts"
        assert "../backend/src:/app/src" in override[name]["volumes"]
        assert "../backend/requirements.txt:/app/requirements.txt:ro" in override[name]["volumes"]
    assert "mus.main:app" in command_text(override["api"])
    assert "streaq run mus.worker:worker" in command_text(override["streaq-worker"])
    assert (DOCKER_DIR / "../backend/src/mus").resolve().is_dir()


def test_every_service_is_restarted_when_it_dies() -> None:
    """A worker killed by the OOM killer, an api crash, a Redis restart: compose starts them
    again (the worker rides out the broker meanwhile)."""
    services = load_compose("docker-compose.yml")["services"]
    policies = {name: service.get("restart") for name, service in services.items()}
    assert policies == dict.fromkeys(services, "unless-stopped")
