"""Settings: every knob comes from the environment through this one object."""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, computed_field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AppEnv(StrEnum):
    """Where mus runs; production hides details that help in development."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Runtime configuration; read once per process, overridable in tests."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    data_dir_path: Path = Field(default=Path("./data"), validation_alias="DATA_DIR_PATH")
    music_dir_override: Path | None = Field(default=None, validation_alias="MUSIC_DIR_PATH")
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "DRAGONFLY_URL"),
    )
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    max_upload_size_mb: int = Field(default=200, ge=1, validation_alias="MAX_UPLOAD_SIZE_MB")
    secret_key: str | None = Field(default=None, validation_alias="SECRET_KEY")
    app_env: AppEnv = Field(default=AppEnv.DEVELOPMENT, validation_alias="APP_ENV")
    event_channel: str = Field(default="mus:events", validation_alias="MUS_EVENT_CHANNEL")
    port: int = Field(default=8000, ge=1, le=65535, validation_alias="PORT")
    watcher_enabled: bool = Field(default=True, validation_alias="MUS_WATCHER_ENABLED")
    initial_scan_enabled: bool = Field(default=True, validation_alias="MUS_INITIAL_SCAN_ENABLED")
    write_lock_grace_seconds: float = Field(
        default=3.0, ge=0, validation_alias="MUS_WRITE_LOCK_GRACE_SECONDS"
    )
    worker_queues: str = Field(default="", validation_alias="MUS_WORKER_QUEUES")
    worker_concurrency: int = Field(default=6, ge=1, validation_alias="MUS_WORKER_CONCURRENCY")
    """Jobs one worker process runs at once. Its writers take turns (the write gate), so on
    2 cores more slots only add switching: 1,000 new files to COMPLETE took 7.9 s at 4 and 6,
    8.4 s at 10, files copied in 3.6 s at 6 and 3.9 s at 10 (README, performance)."""
    worker_prefetch: int = Field(default=1, ge=1, validation_alias="MUS_WORKER_PREFETCH")
    """Jobs a worker holds beyond the ones it runs (streaq's prefetch): every held job is one
    a newly queued higher-priority job waits behind, and one was measured enough to keep the
    slots busy."""
    worker_processes: int = Field(
        default_factory=lambda: os.cpu_count() or 1, validation_alias="MUS_WORKER_PROCESSES"
    )
    """Worker processes `mus run` (and the containers) start: one per core by default, since
    one process runs its jobs on one core (the GIL)."""
    worker_grace_seconds: int = Field(default=20, ge=0, validation_alias="MUS_WORKER_GRACE_SECONDS")
    scan_processes: int = Field(default=0, ge=0, validation_alias="MUS_SCAN_PROCESSES")
    """Processes `mus scan` analyses in (0: one per core); 1 keeps it in the calling process."""
    reconcile_seconds: float = Field(default=10.0, ge=0, validation_alias="MUS_RECONCILE_SECONDS")
    """How often the api looks for PENDING tracks no job is coming for (0: never)."""
    max_prune_share: float = Field(default=0.5, ge=0, le=1, validation_alias="MUS_MAX_PRUNE_SHARE")
    """A scan of a root holding no audio file prunes at most this share of the library;
    beyond it the root "looks unmounted" and nothing is pruned."""
    watcher_batch_files: int = Field(default=50, ge=1, validation_alias="MUS_WATCHER_BATCH_FILES")
    """New files of one watcher batch indexed (and analysed) per job; 1: a job per file.
    Chosen by `make bench` (README, performance)."""
    watcher_grace_seconds: float = Field(
        default=60.0, ge=0, validation_alias="MUS_WATCHER_GRACE_SECONDS"
    )
    """How long the file watcher may be restarting before the healthcheck answers 503."""
    worker_redelivery_seconds: float = Field(
        default=6.0, gt=0, validation_alias="MUS_WORKER_REDELIVERY_SECONDS"
    )
    """How long a job held by a dead worker waits before another worker takes it (streaq's
    idle timeout); a live worker renews every job it holds six times per this time."""
    normalise_id3: bool = Field(default=False, validation_alias="MUS_NORMALISE_ID3")
    """Opt-in: slow analysis rewrites an MP3's ID3v2 tag as v2.3. Off by default, since a scan
    must not change a byte of the user's files (a backup tool sees every rewrite as a change)."""
    database_busy_timeout_seconds: float = Field(
        default=30.0, gt=0, validation_alias="MUS_DATABASE_BUSY_TIMEOUT_SECONDS"
    )
    """How long one SQLite statement waits for a lock another process holds (busy_timeout);
    past it the statement fails as "database is locked", a transient fault."""
    resource_patience_seconds: float = Field(
        default=600.0, gt=0, validation_alias="MUS_RESOURCE_PATIENCE_SECONDS"
    )
    """How long a job waits out a transient fault (database busy, disk full, read-only
    folder, broker away) before giving up its run to the queue's own retry."""
    free_space_warning_mb: int = Field(
        default=200, ge=0, validation_alias="MUS_FREE_SPACE_WARNING_MB"
    )
    """Below this many free MiB in the data or the music folder, the healthcheck and
    `/admin` warn."""
    cover_max_pixels: int = Field(default=40_000_000, ge=1, validation_alias="MUS_COVER_MAX_PIXELS")
    """An embedded cover larger than this (width x height) is skipped with a log line, not
    decoded: a 10 KB PNG can claim 9400x9400, which Pillow's own limit (89 M) still lets in."""
    cover_decodes: int = Field(default=2, ge=1, validation_alias="MUS_COVER_DECODES")
    """Covers one process decodes at once; each holds up to cover_max_pixels x 4 bytes."""
    sse_max_connections: int = Field(default=200, ge=1, validation_alias="MUS_SSE_MAX_CONNECTIONS")
    """Open event streams the api serves at once; past it 503, so the api (and its
    healthcheck) keeps the file descriptors it needs."""
    parity_report_path: Path = Field(
        default=Path("../contract_tests/report/parity.html"),
        validation_alias="MUS_PARITY_REPORT_PATH",
    )
    """The contract suite's latest parity page, shown in the operator's view when it exists
    (relative paths are from the api's working folder, `backend/` under `make run`)."""

    @field_validator("worker_processes", mode="before")
    @classmethod
    def _empty_is_one_per_core(cls, value: object) -> object:
        """`MUS_WORKER_PROCESSES=` (as compose passes an unset `${MUS_WORKER_PROCESSES:-}`)."""
        return os.cpu_count() or 1 if value == "" else value

    @field_validator("worker_processes")
    @classmethod
    def _at_least_one_worker_process(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be 1 or more (unset: one per core), not {value}")
        return value

    @property
    def worker_queue_names(self) -> list[str] | None:
        """`MUS_WORKER_QUEUES=high_priority,medium_priority` -> a dedicated worker; empty = all."""
        names = [name.strip() for name in self.worker_queues.split(",") if name.strip()]
        return names or None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def music_dir_path(self) -> Path:
        """The library root: `MUSIC_DIR_PATH`, else `DATA_DIR_PATH/music`."""
        return (self.music_dir_override or self.data_dir_path / "music").resolve()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def covers_dir_path(self) -> Path:
        """Where extracted cover art lives (derived, never configured apart)."""
        return (self.data_dir_path / "covers").resolve()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def database_dir_path(self) -> Path:
        """Folder of the SQLite file and its WAL."""
        return (self.data_dir_path / "database").resolve()

    @property
    def database_url(self) -> str:
        """SQLAlchemy URL of the SQLite database shared by api and worker."""
        return f"sqlite+aiosqlite:///{self.database_dir_path / 'mus.db'}"

    @property
    def max_upload_size_bytes(self) -> int:
        """Upload limit in bytes, as the API enforces it while streaming."""
        return self.max_upload_size_mb * 1024 * 1024

    def ensure_directories(self) -> None:
        """Create the data folders; start-up calls this before anything else."""
        for path in (self.music_dir_path, self.covers_dir_path, self.database_dir_path):
            path.mkdir(parents=True, exist_ok=True)


def settings_problem(error: ValidationError) -> str:
    """One line per invalid setting, naming its variable: what a command prints, not a trace."""
    return "; ".join(
        f"{'.'.join(str(part) for part in issue['loc'])}: "
        + issue["msg"].removeprefix("Value error, ")
        for issue in error.errors(include_url=False)
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call `get_settings.cache_clear()` after changing env."""
    return Settings()
