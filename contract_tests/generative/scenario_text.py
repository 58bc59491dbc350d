"""A shrunk history as a contract scenario to paste into `scenarios/` (arq's calls, as run)."""

from __future__ import annotations

import textwrap

from harness.field_diff import FieldDifference

IMPORTS = """\
from mus.demo.audio_generator import audio_bytes
from mus.demo.audio_spec import AudioSpec, CoverSpec

from harness.world import World
"""


def scenario_source(
    name: str, transcript: list[str], differences: list[FieldDifference], seed: int | None
) -> str:
    """`@scenarios.add async def name(world)`: the transcript, less the final drain (the
    contract's `run_scenario` drains and records after every scenario)."""
    body = list(transcript)
    if body and body[-1] == "await world.drain()":
        body.pop()
    first = differences[0].path if differences else "an invariant"
    origin = f"seed {seed}" if seed is not None else "the example database"
    doc = f'"""Found by make contract-fuzz ({origin}): arq and streaq differ at {first}."""'
    return (
        "# needs, at the top of the module:\n"
        + textwrap.indent(IMPORTS, "# ")
        + "\n@scenarios.add\n"
        + f"async def {name}(world: World) -> None:\n"
        + textwrap.indent("\n".join([doc, *body]), "    ")
        + "\n"
    )
