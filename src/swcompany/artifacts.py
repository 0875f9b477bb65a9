"""Pydantic models for every artifact a stage produces and for the run state.

Validation lives here (path safety, unique paths, acyclic dependencies) so a bad
model reply is rejected with an exact error message we can send back for repair.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .paths import UnsafePathError, safe_relpath

MAX_DESIGN_FILES = 300


class UserStory(BaseModel):
    as_a: str = Field(description="the kind of user")
    i_want: str = Field(description="what they want to do")
    so_that: str = Field(description="why it matters to them")


class Requirement(BaseModel):
    id: str = Field(description="short id such as R1")
    description: str
    priority: Literal["must", "should", "could"] = "must"


class PRD(BaseModel):
    """Product requirements: what to build and how we will know it works."""

    title: str = Field(min_length=1)
    summary: str = Field(min_length=1, description="two or three sentences")
    goals: list[str] = Field(min_length=1)
    user_stories: list[UserStory] = Field(min_length=1)
    requirements: list[Requirement] = Field(min_length=1)
    acceptance_criteria: list[str] = Field(min_length=1)
    out_of_scope: list[str] = Field(default_factory=list)


def _checked_path(value: str) -> str:
    try:
        return safe_relpath(value)
    except UnsafePathError as exc:
        raise ValueError(str(exc)) from None


SafePath = Annotated[str, AfterValidator(_checked_path)]
"""A workspace-relative path a model named, normalised and refused if it could escape."""


class FileSpec(BaseModel):
    path: SafePath = Field(description="relative POSIX path, e.g. todo/storage.py")
    purpose: str
    depends_on: list[str] = Field(default_factory=list, description="paths of design files this one imports")
    interface: str = Field("", description="public functions/classes with signatures")


class DataStructure(BaseModel):
    name: str
    description: str


class Design(BaseModel):
    """System design: the file plan the engineer follows, in dependency order."""

    language: str = "python"
    summary: str
    files: list[FileSpec] = Field(min_length=1)
    data_structures: list[DataStructure] = Field(default_factory=list)
    api_spec: str = ""
    how_to_run: str = Field(description="shell command(s) to run the program")
    dependencies: list[str] = Field(default_factory=list, description="third-party packages (pip requirement strings)")

    @model_validator(mode="after")
    def _check_graph(self) -> "Design":
        if len(self.files) > MAX_DESIGN_FILES:
            raise ValueError(f"design lists {len(self.files)} files; at most {MAX_DESIGN_FILES} are allowed")
        paths = [f.path for f in self.files]
        dupes = sorted({p for p in paths if paths.count(p) > 1})
        if dupes:
            raise ValueError(f"duplicate file paths: {', '.join(dupes)}")
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
                normalised.append(dep)
            spec.depends_on = normalised
        dependency_levels(self.files)  # raises on cycles
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
    path: SafePath
    content: str


class FixReply(BaseModel):
    """A QA fix round's answer: whole-file replacements."""

    files: list[FixedFile] = Field(min_length=1, description="complete new contents of each file to change")
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
    timed_out: bool = False
    flooded: bool = False
    install_error: str | None = None
    last_output: str = ""
    test_files: list[str] = Field(default_factory=list)
    fixed_files: list[str] = Field(default_factory=list)
    command: str = "python -m pytest tests"
    sandbox: Literal["bubblewrap", "none"] = "none"  # "none": the tests ran without containment


class QAProgress(BaseModel):
    """Where the QA stage is, so a resume neither rewrites tests nor repeats fix rounds."""

    tests_written: bool = False
    test_files: list[str] = Field(default_factory=list)
    rounds_done: int = 0
    fixed_files: list[str] = Field(default_factory=list)


# --- run state ---------------------------------------------------------------------

StageStatus = Literal["pending", "running", "done", "failed", "skipped"]
StopReason = Literal[
    "running", "done", "budget", "provider", "model_output", "interrupted", "error",
    "tests_failed", "usage", "config", "busy", "storage",
]


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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


class FileRecord(BaseModel):
    sha256: str
    bytes: int


class RunState(BaseModel):
    """Everything needed to resume or report a run; saved atomically, never secret."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = 1
    tool_version: str = ""
    name: str
    idea: str
    settings: dict = Field(default_factory=dict)
    created_at: str = Field(default_factory=utcnow)
    updated_at: str = Field(default_factory=utcnow)
    stages: dict[str, StageRecord] = Field(default_factory=dict)
    engineer_files: dict[str, FileRecord] = Field(default_factory=dict)
    artifact_hashes: dict[str, str] = Field(default_factory=dict, description="sha256 of each file as a stage wrote it")
    usage: Usage = Field(default_factory=Usage)
    qa: QAReport | None = None
    qa_progress: QAProgress = Field(default_factory=QAProgress)
    stop_reason: StopReason = "running"
    last_error: str | None = None
    exit_code: int | None = None
    runs: int = 0
