"""The `mus` command: scan a folder, make a demo library, check the set-up, run the stack or
its workers."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mus.core.config import Settings, get_settings, settings_problem

app = typer.Typer(help="mus: a self-hosted music library server.", no_args_is_help=True)
console = Console()


def valid_settings() -> Settings:
    """The environment's settings; an invalid one ends the command with one line naming it."""
    try:
        return get_settings()
    except ValidationError as exc:
        typer.echo(f"mus: not started: {settings_problem(exc)}", err=True)
        raise typer.Exit(1) from None


def settings_for_music_dir(path: Path | None) -> Settings:
    """The environment's settings, with the music folder replaced by PATH when given."""
    settings = get_settings()
    if path is None:
        return settings
    return settings.model_copy(update={"music_dir_override": path.resolve()})


@app.command()
def scan(
    path: Annotated[
        Path | None,
        typer.Argument(help="Music folder to index (default: the configured music folder)"),
    ] = None,
) -> None:
    """Index a music folder: fast scan, then slow analysis inline, then a summary."""
    from mus.adapters.persistence.database import Database
    from mus.application.inline_scan import run_inline_scan

    settings = settings_for_music_dir(path)
    if not settings.music_dir_path.is_dir():
        console.print(f"[red]not a folder:[/red] {settings.music_dir_path}")
        raise typer.Exit(2)
    settings.ensure_directories()

    async def main() -> None:
        database = Database.from_settings(settings)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            fast = progress.add_task("fast scan", total=None)
            slow = progress.add_task("slow analysis", total=None, visible=False)
            try:
                report = await run_inline_scan(
                    database,
                    settings,
                    on_fast_progress=lambda n: progress.advance(fast, n),
                    on_slow_start=lambda total: progress.update(slow, total=total, visible=True),
                    on_slow_progress=lambda n: progress.advance(slow, n),
                )
            finally:
                await database.dispose()
            # What the bar counted: every file the walk handed on. Its skips (empty files,
            # loops, FIFOs) never reach a reader, so they are listed below, not in the total.
            progress.update(fast, total=report.fast_scan.found)
        fast_report = report.fast_scan
        console.print(
            f"found {fast_report.found}, indexed {fast_report.indexed} "
            f"({fast_report.inserted} new, {fast_report.changed} changed, "
            f"{fast_report.pruned} pruned), complete {report.complete}, errors {report.errors}, "
            f"elapsed {report.elapsed_seconds:.1f}s"
        )
        for failure in fast_report.failures:
            console.print(f"  skipped {failure.path}: {failure.reason}")
        if fast_report.root_looks_unmounted:
            console.print(
                f"library root looks unmounted: no audio file found, "
                f"{fast_report.prune_refused} tracks kept (not pruned)"
            )

    asyncio.run(main())


@app.command("demo-library")
def demo_library(
    path: Annotated[Path, typer.Argument(help="Folder to create the demo in")],
) -> None:
    """Write a small library of generated audio (all five formats, with covers) to PATH."""
    from mus.demo.demo_library import create_demo_library

    try:
        files = create_demo_library(path)
    except (FileExistsError, RuntimeError) as exc:
        console.print(f"[red]cannot create the demo library:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"wrote {len(files)} demo tracks to {path.resolve()}")


@app.command()
def doctor() -> None:
    """Check data folder, ffprobe, database and broker; exit 1 when something needed is missing."""
    from mus.application.doctor import doctor_failed, format_check, run_doctor

    checks = asyncio.run(run_doctor(get_settings()))
    for check in checks:
        console.print(format_check(check), highlight=False)
    if doctor_failed(checks):
        raise typer.Exit(1)


@app.command()
def run() -> None:
    """Start api, workers and file watcher (and a local Redis if needed) until Ctrl-C."""
    from mus.local_stack.stack import run_local_stack

    raise typer.Exit(run_local_stack(valid_settings()))


@app.command()
def worker() -> None:
    """Run MUS_WORKER_PROCESSES streaq workers (one per core by default), restarting a dead one."""
    from mus.local_stack.worker_pool import run_worker_pool

    raise typer.Exit(run_worker_pool(valid_settings()))


def main() -> None:  # pragma: no cover - console entry point
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
