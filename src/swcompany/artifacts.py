"""Pydantic models for every artifact a stage produces and for the run state.

Validation lives here (path safety, unique paths, acyclic dependencies) so a bad
model reply is rejected with an exact error message we can send back for repair.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, UTC
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from .display import strip_control
from .errors import StageStatus, StopReason  # re-exported: defined beside the errors that carry them
from .structured import unfence
from .paths import MAX_COMPONENT_BYTES, UnsafePathError, layout_problems, owned_path_problem, safe_relpath

MAX_DESIGN_FILES = 300
ENTRY_POINTS = frozenset({"cli.py", "main.py", "__main__.py", "app.py"})  # command-line entry points of a design
# Every array has a ceiling: a grammar-constrained local model (llama.cpp, vLLM, Ollama
# enforce the JSON schema as a grammar) then always terminates, and small models stay small.
MAX_ITEMS = {"short": 8, "requirements": 15, "criteria": 12, "files": 40, "deps": 20}
_TEXT_KEYS = ("description", "text", "criterion", "goal", "value", "name", "title", "summary")


def _as_text(value: object) -> object:
    """Small models write ``{"id": "G1", "description": "..."}`` where a string is wanted: same meaning."""
    if isinstance(value, dict):
        for key in _TEXT_KEYS:
            if isinstance(value.get(key), str) and value[key].strip():
                return value[key]
    return value


def _texts(value: object) -> object:
    return [_as_text(v) for v in value] if isinstance(value, list) else value


Texts = Annotated[list[str], BeforeValidator(_texts)]


class UserStory(BaseModel):
    as_a: str = Field(description="the kind of user")
    i_want: str = Field(description="what they want to do")
    so_that: str = Field("", description="why it matters to them")

    @model_validator(mode="before")
    @classmethod
    def _from_sentence(cls, data: object) -> object:
        if isinstance(data, str):  # "As a user, I want ..." written as one sentence
            return {"as_a": "user", "i_want": data}
        return data


def _priority(value: object) -> object:
    """``"Must"``, ``"high"``, ``"P1"``: the meaning is clear, the spelling is not ours."""
    text = str(value).strip().lower() if value is not None else "must"
    return {"high": "must", "p1": "must", "critical": "must", "medium": "should", "p2": "should",
            "low": "could", "p3": "could", "nice to have": "could"}.get(text, text)


class Requirement(BaseModel):
    id: str = Field("", description="short id such as R1")
    description: str
    priority: Annotated[Literal["must", "should", "could"], BeforeValidator(_priority)] = "must"

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: object) -> object:
        return {"description": data} if isinstance(data, str) else data


class AcceptanceCriterion(BaseModel):
    """One observable check; the id lets a test name the criterion it checks."""

    id: str = Field("", description="short id such as AC1")
    description: str

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: object) -> object:
        if isinstance(data, str):
            return {"description": data}
        if isinstance(data, dict) and not isinstance(data.get("description"), str):
            text = _as_text(data)
            return {**data, "description": text} if isinstance(text, str) else data
        return data

    def __str__(self) -> str:
        return f"{self.id}: {self.description}" if self.id else self.description


_Item = TypeVar("_Item", Requirement, AcceptanceCriterion)


def _without_repeats(items: list[_Item]) -> list[_Item]:
    """Each description once: a 1.5B PRD for the expression calculator listed AC4-AC7 again as
    AC9-AC12, word for word, and QA wrote (and fix rounds mended) a test for each copy."""
    seen: set[str] = set()
    kept: list[_Item] = []
    for item in items:
        key = " ".join(item.description.casefold().split())
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _number(prefix: str, items: list) -> None:
    """Give unnamed requirements and criteria stable ids (R1, AC1...) in reading order."""
    for i, item in enumerate(items, 1):
        if not item.id.strip():
            item.id = f"{prefix}{i}"


class PRD(BaseModel):
    """Product requirements: what to build and how we will know it works."""

    title: str = Field(min_length=1)
    summary: str = Field(min_length=1, description="two or three sentences")
    goals: Texts = Field(min_length=1, max_length=MAX_ITEMS["short"])
    user_stories: list[UserStory] = Field(min_length=1, max_length=MAX_ITEMS["short"])
    requirements: list[Requirement] = Field(min_length=1, max_length=MAX_ITEMS["requirements"])
    acceptance_criteria: list[AcceptanceCriterion] = Field(min_length=1, max_length=MAX_ITEMS["criteria"])
    out_of_scope: Texts = Field(default_factory=list, max_length=MAX_ITEMS["short"])

    @model_validator(mode="after")
    def _ids(self) -> "PRD":
        self.requirements = _without_repeats(self.requirements)
        self.acceptance_criteria = _without_repeats(self.acceptance_criteria)
        _number("R", self.requirements)
        _number("AC", self.acceptance_criteria)
        return self


def _checked_path(value: str) -> str:
    try:
        return safe_relpath(value)
    except UnsafePathError as exc:
        raise ValueError(str(exc)) from None


def _source_path(value: str) -> str:
    problem = owned_path_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _fixable_path(value: str) -> str:
    problem = owned_path_problem(value, allow_tests=True)
    if problem:
        raise ValueError(problem)
    return value


SafePath = Annotated[str, AfterValidator(_checked_path)]
"""A workspace-relative path a model named, normalised and refused if it could escape."""
SourcePath = Annotated[str, AfterValidator(_checked_path), AfterValidator(_source_path)]
"""A design file: safe, and none of the files the pipeline owns (docs/, tests/, README.md ...)."""
FixablePath = Annotated[str, AfterValidator(_checked_path), AfterValidator(_fixable_path)]
"""A QA fix target: like a design file, but tests/ is allowed."""


def _test_name_problem(path: str) -> str | None:
    """QA writes tests/test_<flattened path>.py; a name too long for the disk could never be written."""
    if not path.endswith(".py"):
        return None
    stem = path.removesuffix(".py").removeprefix("src/")
    name = f"test_{stem.replace('/', '_')}.py"
    if len(name.encode("utf-8")) > MAX_COMPONENT_BYTES:
        return f"{path}: its test file name would be longer than {MAX_COMPONENT_BYTES} bytes; use a shorter path"
    return None


class FileSpec(BaseModel):
    path: SourcePath = Field(description="relative POSIX path, e.g. todo/storage.py")
    purpose: str
    depends_on: list[str] = Field(default_factory=list, max_length=MAX_ITEMS["deps"],
                                  description="paths of design files this one imports")
    interface: str = Field("", description="public functions/classes: signatures with docstrings, no bodies")


class DataStructure(BaseModel):
    name: str
    description: str


_NOT_ON_PYPI = frozenset(sys.stdlib_module_names) | {"python", "python3", ""}


def _requirement_name(requirement: str) -> str:
    """``"requests>=2; python_version>'3'"`` -> ``"requests"``."""
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].strip().lower()


def _names_local_module(requirement: str, paths: list[str]) -> bool:
    """``pomodoro_timer.core`` among the pip requirements of a design whose files include
    ``pomodoro_timer/core.py`` (seen on a 1.5B model): pip finds no such package and the whole
    install fails, so the tests then ran without the real third-party packages either."""
    top = _requirement_name(requirement).replace("-", "_").split(".")[0]
    local = {PurePosixPath(p).parts[0].removesuffix(".py").lower() for p in paths}
    return top in local


class Design(BaseModel):
    """System design: the file plan the engineer follows, in dependency order."""

    language: str = "python"
    summary: str
    files: list[FileSpec] = Field(min_length=1, max_length=MAX_DESIGN_FILES)
    data_structures: list[DataStructure] = Field(default_factory=list, max_length=MAX_ITEMS["short"])
    api_spec: str = ""
    how_to_run: str = Field(description="shell command(s) to run the program")
    dependencies: Texts = Field(default_factory=list, max_length=MAX_ITEMS["short"],
                                description="third-party packages (pip requirement strings)")

    @field_validator("files", mode="before")
    @classmethod
    def _merge_repeated_paths(cls, value: object) -> object:
        """One path listed once per class (seen on a 1.5B model) means one file with all of them."""
        if not isinstance(value, list) or not all(isinstance(f, dict) for f in value):
            return value
        merged: dict[object, dict[str, Any]] = {}
        for entry in value:
            path = entry.get("path")
            first = merged.setdefault(path if isinstance(path, str) else id(entry), dict(entry))
            if first is entry or first == entry:
                continue
            interface, extra = str(first.get("interface") or ""), str(entry.get("interface") or "")
            if extra and extra not in interface:
                first["interface"] = f"{interface}\n{extra}".strip()
            deps, more = first.get("depends_on") or [], entry.get("depends_on") or []
            if isinstance(deps, list) and isinstance(more, list):
                first["depends_on"] = deps + [d for d in more if d not in deps]
        return list(merged.values())

    @field_validator("dependencies")
    @classmethod
    def _third_party_only(cls, value: list[str]) -> list[str]:
        """Small models list ``sqlite3``, ``argparse`` or ``python3.11`` here; pip installs none of them."""
        return [d for d in value if _requirement_name(d) not in _NOT_ON_PYPI
                and not re.fullmatch(r"python[\d.]*", _requirement_name(d))]

    @field_validator("how_to_run")
    @classmethod
    def _printable_command(cls, value: str) -> str:
        """Printed in ``next:``: escape sequences (clipboard writes, line erases) never survive."""
        return strip_control(value).strip()

    @model_validator(mode="after")
    def _check_graph(self) -> "Design":
        if len(self.files) > MAX_DESIGN_FILES:
            raise ValueError(f"design lists {len(self.files)} files; at most {MAX_DESIGN_FILES} are allowed")
        paths = [f.path for f in self.files]
        dupes = sorted({p for p in paths if paths.count(p) > 1})
        if dupes:
            raise ValueError(f"duplicate file paths: {', '.join(dupes)}")
        problems = layout_problems(paths) + [p for p in map(_test_name_problem, paths) if p]
        if problems:
            raise ValueError("; ".join(problems[:5]))
        known = set(paths)
        for spec in self.files:
            normalised = []
            for dep in spec.depends_on:
                try:
                    dep = safe_relpath(dep)
                except UnsafePathError as exc:
                    raise ValueError(f"{spec.path}: bad dependency: {exc}") from None
                if dep not in known:
                    raise ValueError(f"{spec.path} depends on {dep!r}, which is not in the file list")
                if dep == spec.path:
                    raise ValueError(f"{spec.path} depends on itself")
                if PurePosixPath(dep).name in ENTRY_POINTS and PurePosixPath(spec.path).name not in ENTRY_POINTS:
                    # A module never uses the CLI; the CLI uses it. The 1.5B pomodoro timer's design
                    # listed core.py -> cli.py -> core.py three times over, and the run stopped (exit 4).
                    continue
                normalised.append(dep)
            spec.depends_on = normalised
        dependency_levels(self.files)  # raises on cycles
        self.dependencies = [d for d in self.dependencies if not _names_local_module(d, paths)]
        return self

    def file(self, path: str) -> FileSpec:
        return next(f for f in self.files if f.path == path)


def dependency_levels(files: list[FileSpec]) -> list[list[str]]:
    """Group paths into levels where each level depends only on earlier ones (Kahn).

    Raises ``ValueError`` naming the files on a cycle.
    """
    deps = {f.path: set(f.depends_on) for f in files}
    done: set[str] = set()
    levels: list[list[str]] = []
    while len(done) < len(deps):
        ready = sorted(p for p, d in deps.items() if p not in done and d <= done)
        if not ready:
            stuck = sorted(p for p in deps if p not in done)
            raise ValueError(f"dependency cycle among: {', '.join(stuck[:10])}")
        levels.append(ready)
        done.update(ready)
    return levels


class FixedFile(BaseModel):
    path: FixablePath
    content: Annotated[str, AfterValidator(unfence)]  # small models fence file text even inside JSON


class FixReply(BaseModel):
    """A QA fix round's answer: whole-file replacements."""

    files: list[FixedFile] = Field(min_length=1, max_length=MAX_ITEMS["short"],
                                   description="complete new contents of each file to change")
    explanation: str = ""


class QAReport(BaseModel):
    """The honest outcome of the generated project's tests."""

    verdict: Literal["passed", "failed", "skipped", "error"]
    tests_run: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    rounds_used: int = 0
    fix_minutes: float = Field(0.0, description="wall time the fix rounds took, in minutes")
    out_of_fix_time: bool = Field(False, description="fix rounds stopped because fix_minutes was spent, not rounds")
    no_fix_found: bool = Field(False, description="fix rounds stopped because the model sent the files back unchanged")
    timed_out: bool = False
    flooded: bool = False
    install_error: str | None = None
    last_output: str = ""
    test_files: list[str] = Field(default_factory=list)
    unwritten_tests: list[str] = Field(default_factory=list, description="test files left out: the model never got them right, and why")
    fixed_files: list[str] = Field(default_factory=list)
    fix_notes: list[str] = Field(default_factory=list, description="each fix round's files and its stated reason (deleted tests must be named)")
    command: str = "python -m pytest tests"
    sandbox: Literal["bubblewrap", "none"] = "none"  # "none": the tests ran without containment


# --- run state ---------------------------------------------------------------------



def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Usage(BaseModel):
    """Token and cost totals; ``calls`` counts provider requests, cache hits apart."""

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    seconds: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: "Usage") -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class StageRecord(BaseModel):
    status: StageStatus = "pending"
    commit: str | None = None
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float = 0.0
    error: str | None = None
    progress: dict[str, Any] = Field(default_factory=dict, description="the stage's own record of work a resume must not repeat")


class FileRecord(BaseModel):
    """A file as the pipeline wrote it: the one record of hashes (hand edits are detected against it)."""

    sha256: str
    bytes: int = 0
    stage: str = ""


class RunState(BaseModel):
    """Everything needed to resume or report a run; saved atomically, never secret."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = 2
    tool_version: str = ""
    name: str
    idea: str
    settings: dict = Field(default_factory=dict)
    created_at: str = Field(default_factory=utcnow)
    updated_at: str = Field(default_factory=utcnow)
    stages: dict[str, StageRecord] = Field(default_factory=dict, description="in pipeline order")
    files: dict[str, FileRecord] = Field(default_factory=dict, description="every file a stage wrote, as written")
    usage: Usage = Field(default_factory=Usage)
    tests: QAReport | None = Field(None, description="the generated project's latest test verdict")
    tests_stage: str = Field("", description="the stage that produced that verdict")
    stop_reason: StopReason = "running"
    last_error: str | None = None
    exit_code: int | None = None
    runs: int = 0

    @model_validator(mode="before")
    @classmethod
    def _from_version_1(cls, data: Any) -> Any:
        """Workspaces made before the Stage protocol keep resuming: move v1 fields to their new homes."""
        if not isinstance(data, dict) or data.get("schema_version", 1) >= 2:
            return data
        data = dict(data)
        files = {p: {"sha256": h, "stage": ""} for p, h in (data.pop("artifact_hashes", None) or {}).items()}
        files.update({p: {**r, "stage": "engineer"} for p, r in (data.pop("engineer_files", None) or {}).items()})
        data["files"] = files
        data["tests"] = data.pop("qa", None)
        data["tests_stage"] = "qa" if data["tests"] else ""
        progress = data.pop("qa_progress", None)
        if progress and isinstance(data.get("stages", {}).get("qa"), dict):
            data["stages"]["qa"] = {**data["stages"]["qa"], "progress": {**progress, "report": data["tests"]}}
        data["schema_version"] = 2
        return data
