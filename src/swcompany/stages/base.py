"""What a stage receives (StageContext) and returns (StageResult).

The pipeline owns ordering, commits, state and budget; a stage only builds prompts,
parses replies and returns files. Reading earlier artifacts from the workspace (not
from memory) is what makes a person's hand edits count on ``resume --from``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ValidationError

from .. import prompts
from ..artifacts import PRD, Design, RunState
from ..config import Settings
from ..errors import UsageError
from ..events import Event, EventSink
from ..llm import Gateway
from ..structured import format_validation_error
from ..workspace import Workspace

T = TypeVar("T", bound=BaseModel)
PRD_JSON, PRD_MD = "docs/prd.json", "docs/prd.md"
DESIGN_JSON, DESIGN_MD = "docs/design.json", "docs/design.md"


@dataclass
class StageResult:
    """Files to write (path -> text), the commit subject, and the run's exit code so far."""

    files: dict[str, str] = field(default_factory=dict)
    message: str = ""
    commit: bool = True
    exit_code: int = 0
    status: str = "done"


@dataclass
class StageContext:
    workspace: Workspace
    settings: Settings
    gateway: Gateway
    state: RunState
    emit: EventSink
    checkpoint: Callable[[], None]  # save state now (main thread only)
    commit: Callable[[str, str], str]  # (stage, subject) -> sha, for stages with several commits

    def render(self, name: str, **variables: Any) -> str:
        return prompts.render(name, self.settings.prompts_dir, **variables)

    def messages(self, stage: str, schema: type[BaseModel] | None = None, **variables: Any) -> list[dict[str, str]]:
        """System + user messages from ``prompts/<stage>.system.j2`` and ``.user.j2``."""
        if schema is not None:
            variables["schema"] = json.dumps(schema.model_json_schema(), separators=(",", ":"))
        return [
            {"role": "system", "content": self.render(f"prompts/{stage}.system.j2", **variables)},
            {"role": "user", "content": self.render(f"prompts/{stage}.user.j2", **variables)},
        ]

    def info(self, stage: str, message: str, **data: Any) -> None:
        self.emit(Event("info", stage, message, data))

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
