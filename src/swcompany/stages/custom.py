"""A stage declared in the company file, with no Python: two prompt files, an output, files to write.

It gets what built-in stages get from the pipeline (its own commit with trailers, resume,
``--from``, budget, cache, the live view, ``--json``), because the pipeline does not know the
difference: it only sees the ``Stage`` protocol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..company import StageEntry
from ..config import Settings
from ..prompts import render_file
from .base import DESIGN_JSON, CallPlan, StageContext, StageResult


def read_inputs(ctx: StageContext, reads: list[str]) -> tuple[str, list[dict[str, str]]]:
    """The idea (when read) and the documents a stage reads: workspace paths, or ``code``."""
    docs: list[dict[str, str]] = []
    for item in reads:
        if item == "code":
            if ctx.exists(DESIGN_JSON):
                for spec in ctx.load_design().files:
                    if ctx.exists(spec.path):
                        docs.append({"path": spec.path, "content": ctx.read(spec.path)})
        elif item != "idea" and ctx.exists(item):
            docs.append({"path": item, "content": ctx.read(item)})
    return (ctx.state.idea if "idea" in reads else ""), docs


@dataclass(frozen=True)
class CustomStage:
    entry: StageEntry
    folder: Path  # the company file's folder: prompt files are relative to it
    name: str = field(init=False)
    title: str = field(init=False)
    reads: tuple[str, ...] = field(init=False)
    templates: dict[str, frozenset[str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.entry.stage_name)
        object.__setattr__(self, "title", self.entry.title or self.entry.stage_name.replace("_", " ").capitalize())
        object.__setattr__(self, "reads", tuple(self.entry.reads))

    def run(self, ctx: StageContext) -> StageResult:
        entry = self.entry
        idea, inputs = read_inputs(ctx, entry.reads)
        variables: dict[str, Any] = {"idea": idea, "inputs": inputs, "docs": ctx.docs, "stage": self.name,
                                     "schema": json.dumps(entry.json_schema, separators=(",", ":")) if entry.json_schema else ""}
        assert entry.prompts is not None  # validated in company.py
        messages = [{"role": role, "content": render_file(self.folder / path, **variables)}
                    for role, path in (("system", entry.prompts.system), ("user", entry.prompts.user))]
        if entry.output == "json":
            assert entry.json_schema is not None
            output: Any = ctx.gateway.ask_json(ctx.stage, messages, entry.json_schema, label=self.title)
            default = json.dumps(output, indent=2) + "\n"
        else:
            output = default = ctx.gateway.ask_text(ctx.stage, messages, label=self.title)
        files = {w.path: (default if w.content is None else render_file(None, source=w.content, output=output, idea=idea))
                 for w in entry.writes}
        return StageResult(files=files, message=f"{self.name}: {self.title}\n\nwrote " + ", ".join(files))

    def estimate(self, settings: Settings) -> list[CallPlan]:
        return [CallPlan(self.title, (1, 1 + settings.repair_attempts), (800, 6_000), (300, 2_000))]
