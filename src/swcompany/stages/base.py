"""The seam every stage plugs into: the ``Stage`` protocol, what it receives and what it returns.

The pipeline owns ordering, the only writer (files, hashes), commits with trailers, state and
budget; a stage builds prompts, parses replies and hands files over, either all at the end
(``StageResult.files``) or one at a time through ``ctx.write`` (the engineer's incremental
saves, QA's fix rounds). Reading earlier artifacts from the workspace (not from memory) is what
makes a person's hand edits count on ``resume --from``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from collections.abc import Callable

from pydantic import BaseModel, ValidationError

from .. import prompts
from ..artifacts import PRD, Design, FileRecord, RunState, StageRecord
from ..config import Settings
from ..errors import StageStatus, UsageError
from ..events import Event, EventSink
from ..llm import Gateway
from ..structured import format_validation_error
from ..workspace import Workspace

T = TypeVar("T", bound=BaseModel)
P = TypeVar("P", bound=BaseModel)
PRD_JSON, PRD_MD = "docs/prd.json", "docs/prd.md"
DESIGN_JSON, DESIGN_MD = "docs/design.json", "docs/design.md"


@dataclass
class StageResult:
    """Files to write (path -> text), the commit subject, and the run's exit code so far."""

    files: dict[str, str] = field(default_factory=dict)
    message: str = ""
    commit: bool = True
    exit_code: int = 0
    status: StageStatus = "done"


@dataclass(frozen=True)
class CallPlan:
    """A rule-of-thumb estimate of one kind of call a stage makes (for ``--dry-run``)."""

    label: str
    calls: tuple[int, int]
    prompt_tokens: tuple[int, int]
    completion_tokens: tuple[int, int]


class Stage(Protocol):
    """One role of the company. The registry (``stages/registry.py``) is the only list of them."""

    # Read-only members, so frozen dataclasses (custom stages) qualify as well as plain classes.
    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def reads(self) -> tuple[str, ...]: ...  # artifacts it reads: "idea", "code", or workspace paths
    @property
    def templates(self) -> dict[str, frozenset[str]]: ...  # template -> the variables it is rendered with

    def run(self, ctx: "StageContext") -> StageResult: ...

    def estimate(self, settings: Settings) -> list[CallPlan]: ...


@dataclass
class StageContext:
    """What a stage may use. Writes and commits go through the pipeline's callbacks."""

    stage: str
    workspace: Workspace
    settings: Settings
    gateway: Gateway
    state: RunState
    emit: EventSink
    checkpoint: Callable[[], None]  # save state now (main thread only)
    _write: Callable[[str, str], str]  # (path, text) -> sha, recorded in the one file record
    _commit: Callable[[str, str], str]  # (step, subject) -> sha, for stages with several commits
    docs: list[dict[str, str]] = field(default_factory=list)  # documents earlier custom stages wrote for this one

    # --- the writer seam ---

    def write(self, path: str, text: str) -> str:
        """Write one file now (atomic, recorded with this stage's name); returns its sha256."""
        return self._write(path, text)

    def commit(self, step: str, subject: str) -> str:
        """An intermediate commit (e.g. a fix round); its trailer says ``<stage>-<step>``."""
        return self._commit(step, subject)

    @property
    def record(self) -> StageRecord:
        return self.state.stages[self.stage]

    def progress(self, model: type[P]) -> P:
        """This stage's own progress record in state (what a resume must not repeat)."""
        return model.model_validate(self.record.progress)

    def save_progress(self, value: BaseModel) -> None:
        self.record.progress = value.model_dump(mode="json")
        self.checkpoint()

    def files_written(self) -> dict[str, FileRecord]:
        """Files this stage wrote in earlier (interrupted) runs, as recorded."""
        return {p: r for p, r in self.state.files.items() if r.stage == self.stage}

    # --- reading and prompting ---

    @property
    def root(self) -> Path:
        return self.workspace.root

    def read(self, path: str) -> str:
        return self.workspace.read(path)

    def exists(self, path: str) -> bool:
        return self.workspace.exists(path)

    def render(self, name: str, **variables: Any) -> str:
        return prompts.render(name, self.settings.prompts_dir, **variables)

    def messages(self, stage: str, schema: type[BaseModel] | None = None, **variables: Any) -> list[dict[str, str]]:
        """System + user messages from ``prompts/<stage>.system.j2`` and ``.user.j2``."""
        if schema is not None:
            variables["schema"] = json.dumps(schema.model_json_schema(), separators=(",", ":"))
        variables.setdefault("docs", self.docs)
        return [
            {"role": "system", "content": self.render(f"prompts/{stage}.system.j2", **variables)},
            {"role": "user", "content": self.render(f"prompts/{stage}.user.j2", **variables)},
        ]

    def info(self, message: str, **data: Any) -> None:
        self.emit(Event("info", self.stage, message, data))

    def load(self, path: str, model: type[T]) -> T:
        """Read an artifact a person may have edited; a broken edit is a usage error, not a crash."""
        try:
            return model.model_validate_json(self.workspace.read(path))
        except FileNotFoundError:
            raise UsageError(f"{path} is missing", hint="resume from the stage that writes it") from None
        except ValidationError as exc:
            raise UsageError(f"{path} is not a valid {model.__name__}:\n{format_validation_error(exc, 3)}") from None

    def load_prd(self) -> PRD:
        return self.load(PRD_JSON, PRD)

    def load_design(self) -> Design:
        return self.load(DESIGN_JSON, Design)


@dataclass(frozen=True)
class BuiltinStage:
    """A stage written in Python: its functions plus the facts the registry shows."""

    name: str
    title: str
    reads: tuple[str, ...]
    templates: dict[str, frozenset[str]]
    runner: Callable[[StageContext], StageResult]
    plans: Callable[[Settings], list[CallPlan]]
    previewer: Callable[[Settings, str], list[dict[str, str]]] | None = None

    @property
    def preview(self) -> Callable[[Settings, str], list[dict[str, str]]] | None:
        """Its first prompt from the idea alone, for ``--dry-run`` (stages that need artifacts have none)."""
        return self.previewer

    def run(self, ctx: StageContext) -> StageResult:
        return self.runner(ctx)

    def estimate(self, settings: Settings) -> list[CallPlan]:
        return self.plans(settings)


def prompt_templates(role: str, variables: set[str]) -> dict[str, frozenset[str]]:
    """The system and user prompt of a role, each rendered with ``variables`` (+ ``docs``)."""
    names = frozenset(variables | {"docs"})
    return {f"prompts/{role}.system.j2": names, f"prompts/{role}.user.j2": names}
