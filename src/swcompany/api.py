"""The Python API: ``generate_repo`` and ``resume``. The CLI is a thin shell over these.

Errors before a workspace exists (bad idea, config, model, credentials) raise
``SwcompanyError``. Once the workspace exists, every stop (budget, provider,
interrupt, failing tests) is saved in state and returned in ``RunResult`` with its
exit code, because the workspace is resumable and the caller may want to continue.
"""

from __future__ import annotations

import re
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack
from collections.abc import Iterator

from pydantic import BaseModel, Field

from . import __version__
from .artifacts import QAReport, RunState, StageRecord, Usage
from .config import STICKY_ON_RESUME, load_settings
from .errors import did_you_mean, EXIT_OK, BudgetExhausted, StageStatus, StopReason, Interrupted, ProviderError, SwcompanyError, UsageError, storage_error
from .events import Event, EventSink, ignore
from .overrides import SettingsOverrides

if TYPE_CHECKING:
    from .config import Settings
    from .stages.base import Stage
from .prompts import check_templates
from .workspace import Workspace, slugify

MAX_IDEA_CHARS = 20_000
REJECTS_DIR = "rejects"
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SIMPLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class StageSummary(BaseModel):
    status: StageStatus
    commit: str | None = None
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)
    seconds: float | None = None
    error: str | None = None


class RunResult(BaseModel):
    """What a run produced; the same shape ``status --json`` prints."""

    workspace: str | None = Field(description="null when the run stopped before a workspace existed")
    name: str
    exit_code: int | None
    stop_reason: StopReason
    stages: dict[str, StageSummary]
    files: list[str]
    qa: QAReport | None = None
    usage: Usage
    next_command: str | None = None
    error: str | None = None
    hint: str | None = None
    rejects: str | None = Field(None, description="folder of the model replies that were refused, with reasons")

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK


def clean_idea(idea: str) -> str:
    """Strip control and bidi characters; refuse empty or oversized ideas."""
    text = _CONTROL.sub("", _INVISIBLE.sub("", idea or "")).strip()
    if not text:
        raise UsageError("the idea is empty", hint='describe the project, e.g. swcompany new "a CLI todo app with SQLite storage"')
    if len(text) > MAX_IDEA_CHARS:
        raise UsageError(f"the idea is {len(text):,} characters; at most {MAX_IDEA_CHARS:,} are accepted",
                         hint="summarise the specification, or keep details for a hand-edited docs/prd.md")
    return text


def _next_command(workspace: Workspace, state: RunState) -> str | None:
    """What to type next: the generated app's run command once the code exists, else the resume command.

    A stopped run (budget, provider, interrupt...) has no working code yet, so pointing at the
    design's run command would mislead; a running workspace has no next command.
    """
    import json
    import shlex

    if state.stop_reason == "running":
        return None
    if state.stop_reason not in ("done", "tests_failed"):
        return f"swcompany resume {shlex.quote(str(workspace.root))}"
    try:
        how = json.loads(workspace.read("docs/design.json")).get("how_to_run", "").strip()
    except (OSError, ValueError):
        return None
    return f"cd {shlex.quote(str(workspace.root))} && {how}" if how else None


def result_from_state(workspace: Workspace, state: RunState, hint: str | None = None) -> RunResult:
    """The public summary of a workspace; stages in pipeline order, as state recorded them."""
    stages = {n: StageSummary(**record.model_dump(include={"status", "commit", "model", "usage", "seconds", "error"}))
              for n, record in state.stages.items()}
    error = state.last_error
    if state.stop_reason == "tests_failed" and state.tests is not None:
        q = state.tests
        rounds = f"{q.rounds_used} fix round{'' if q.rounds_used == 1 else 's'}"
        spent = (" (stopped at the fix_minutes limit)" if q.out_of_fix_time else
                 " (stopped: the model found nothing to change)" if q.no_fix_found else "")
        error = (f"the generated tests still fail after {rounds}{spent}: {q.failed} failed, "
                 f"{q.errors} errors (see docs/qa_report.md)")
        more_time = f"SWCOMPANY_FIX_MINUTES={max(20, round(q.fix_minutes * 2))} " if q.out_of_fix_time else ""
        if q.no_fix_found:  # more rounds would replay the same cached replies
            hint = hint or ("a stronger model may find a fix: "
                            f"swcompany resume {workspace.root} --from {state.tests_stage} --model <model>")
        hint = hint or (f"try more rounds: {more_time}swcompany resume {workspace.root} --from {state.tests_stage} "
                        f"--fix-rounds {max(q.rounds_used, 1) * 2}")  # cached rounds replay in seconds
    rejects = workspace.meta / REJECTS_DIR
    return RunResult(workspace=str(workspace.root), name=state.name, exit_code=state.exit_code,
                     stop_reason=state.stop_reason, stages=stages, files=sorted(state.files),
                     qa=state.tests, usage=state.usage, next_command=_next_command(workspace, state),
                     error=error, hint=hint, rejects=str(rejects) if rejects.is_dir() and any(rejects.iterdir()) else None)


def error_result(exc: SwcompanyError) -> RunResult:
    """The result document for a run that stopped before a workspace existed (``--json`` prints it)."""
    return RunResult(workspace=None, name="", exit_code=exc.exit_code, stop_reason=exc.stop_reason, stages={},
                     files=[], usage=Usage(), error=exc.message, hint=exc.hint, rejects=None)


def _unique_folder(parent: Path, name: str, explicit: bool, force: bool) -> Path:
    """The folder for a new workspace; an unused one (a run that failed on its first call) is reused."""
    candidate = parent / name
    if force or not candidate.exists() or Workspace.unused(candidate):
        return candidate
    if explicit:
        raise UsageError(f"workspace {candidate} already exists", hint="choose another --name, or pass --force")
    n = 2
    while (parent / f"{name}-{n}").exists():
        n += 1
    return parent / f"{name}-{n}"


@contextmanager
def _storage_errors(root: Path) -> Iterator[None]:
    """Disk full, read-only or permission problems become one clear, resumable error (exit 2)."""
    try:
        yield
    except OSError as exc:
        error = storage_error(exc, root)
        if error is None:
            raise
        raise error from None


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """``kill`` (SIGTERM) stops a run like Ctrl-C does: state saved, exit 130."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _refuse_without_containment(settings: "Settings") -> None:
    """``sandbox: strict`` without bubblewrap stops here, before any LLM call (ConfigError, exit 2)."""
    if settings.sandbox == "strict" and settings.run_tests:
        from .sandbox import contained

        contained("strict")


def _warn_unpriced_budget(settings: "Settings", stages: list[str], on_event: EventSink) -> None:
    """``--budget`` counts dollars; with a model whose price is unknown it could never stop the run."""
    if settings.budget is None:
        return
    from .estimate import lookup_prices

    unpriced = sorted(m for m, p in lookup_prices(settings, sorted({settings.model_for(s) for s in stages})).items()
                      if not p.known)
    if unpriced:
        on_event(Event("warning", "", f"warning: the price of {', '.join(unpriced)} is unknown, so --budget cannot "
                                      "stop this run; cap it with --max-tokens, or set input_cost_per_token and "
                                      "output_cost_per_token in the config"))


def _budget_hint(workspace: Workspace, state: RunState, settings: "Settings") -> str:
    """How much was spent and the exact command that continues with more room."""
    u = state.usage
    more = []
    if settings.budget is not None and u.cost >= settings.budget:
        more.append(f"--budget {max(settings.budget * 2, u.cost * 2, 0.01):.2f}")
    if settings.max_tokens is not None and u.tokens >= settings.max_tokens:
        more.append(f"--max-tokens {max(settings.max_tokens * 2, u.tokens * 2)}")
    return f"spent ${u.cost:.4f} and {u.tokens:,} tokens; continue with: swcompany resume {workspace.root} {' '.join(more)}".rstrip()


def _execute(workspace: Workspace, state: RunState, settings: "Settings", on_event: EventSink,
             stages: list["Stage"]) -> RunResult:
    """Run the pipeline (caller holds the lock), turning every stop into a saved, returned result."""
    from .llm import Gateway
    from .pipeline import run_pipeline
    from .stages.registry import docs_routing

    with _sigterm_as_interrupt():
        state.runs += 1
        state.stop_reason, state.exit_code = "running", None
        workspace.save_state(state)
        hint = None
        try:
            gateway = Gateway(settings, cache_dir=workspace.meta / "cache", log=workspace.append_log,
                              spent=state.usage, rejects_dir=workspace.meta / REJECTS_DIR,
                              on_progress=lambda p: on_event(Event("llm_progress", p.stage, p.label, {"progress": p})),
                              on_call=lambda e: on_event(Event("llm_call", e.stage, e.label, {"event": e})))
            on_event(Event("run_started", "", str(workspace.root),
                           {"state": state, "stages": [(s.name, s.title) for s in stages]}))
            run_pipeline(workspace, state, settings, gateway, on_event, stages, docs_routing(stages))
        except KeyboardInterrupt:  # between stages
            state.stop_reason, state.exit_code, state.last_error = "interrupted", Interrupted.exit_code, "interrupted"
            workspace.save_state(state)
            hint = f"continue with: swcompany resume {workspace.root}"
        except SwcompanyError as exc:
            hint = _budget_hint(workspace, state, settings) if isinstance(exc, BudgetExhausted) else exc.hint
            if isinstance(exc, (ProviderError, Interrupted)):
                hint = f"{hint + '; ' if hint else ''}continue with: swcompany resume {workspace.root}"
            if state.exit_code is None:  # failed outside a stage (e.g. gateway set-up)
                state.stop_reason, state.exit_code, state.last_error = exc.stop_reason, exc.exit_code, exc.message
                workspace.save_state(state)
        result = result_from_state(workspace, state, hint)
        on_event(Event("run_finished", "", state.stop_reason, {"result": result}))
        return result


def _company(settings: "Settings") -> list["Stage"]:
    """The run's stages from the company file, with names in settings checked against them."""
    from .stages.registry import check_stage_names, company_stages

    stages = company_stages(settings)
    check_stage_names(settings, stages)
    return stages


def generate_repo(idea: str, *, name: str | None = None, output_dir: str | Path | None = None, force: bool = False,
                  on_event: EventSink = ignore, config_path: Path | None = None,
                  investment: float | None = None, n_round: int | None = None, code_review: bool | None = None,
                  project_name: str | None = None, **settings: Unpack[SettingsOverrides]) -> RunResult:
    """Turn an idea into a git workspace with a PRD, a design, code and tests.

    ``settings`` are any ``Settings`` fields (model, base_url, jobs, budget, review, company...).
    The MetaGPT-style names work too: ``investment`` is ``budget``, ``n_round`` is ``fix_rounds``,
    ``code_review`` is ``review`` and ``project_name`` is ``name``.
    """
    from .llm import preflight

    aliases = {"budget": investment, "fix_rounds": n_round, "review": code_review}
    given: dict[str, Any] = {**{k: v for k, v in aliases.items() if v is not None}, **settings}
    name = name if name is not None else project_name
    text = clean_idea(idea)
    effective = load_settings({**given, "output_dir": output_dir}, path=config_path)
    if effective.company is not None:  # saved in state: a resume from another folder must find it
        effective = effective.model_copy(update={"company": Path(effective.company).expanduser().resolve()})
    stages = _company(effective)
    _refuse_without_containment(effective)
    check_templates(effective.prompts_dir, stages)
    preflight(effective, [s.name for s in stages])
    _warn_unpriced_budget(effective, [s.name for s in stages], on_event)
    if name is not None and not _SIMPLE_NAME.match(name):
        raise UsageError(f"project name {name!r} must be a simple folder name", hint=f"for example --name {slugify(name)}")
    parent = Path(effective.output_dir)
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"output path {parent} is not a folder")
    outer = Workspace.enclosing(parent)
    if outer is not None:
        on_event(Event("warning", "", f"warning: {parent} is inside the workspace {outer}: the new workspace's "
                                      "repository will be nested in its repository (use -o to put it elsewhere)"))
    folder = _unique_folder(parent, name or slugify(text), name is not None, force)
    workspace = Workspace.create(folder, force=force or Workspace.unused(folder))
    with _storage_errors(workspace.root), workspace.lock():
        state = RunState(tool_version=__version__, name=folder.name, idea=text, settings=effective.public_dump(),
                         stages={s.name: StageRecord() for s in stages})
        workspace.save_state(state)
        return _execute(workspace, state, effective, on_event, stages)


def resume(path: str | Path, *, from_stage: str | None = None, on_event: EventSink = ignore,
           config_path: Path | None = None, **settings: Unpack[SettingsOverrides]) -> RunResult:
    """Continue a stopped run: finished stages and cached calls cost nothing."""
    from .llm import preflight
    from .pipeline import reconcile, reset_from

    workspace = Workspace.open(Path(path))
    with _storage_errors(workspace.root), workspace.lock():  # lock before reading state: no race
        state = workspace.load_state()
        saved = {k: v for k, v in state.settings.items() if k in STICKY_ON_RESUME}
        effective = load_settings(dict(settings), path=config_path, saved=saved)
        stages = _company(effective)
        for stage in stages:  # a company file may have gained stages since the run began
            state.stages.setdefault(stage.name, StageRecord())
        state.stages = {s.name: state.stages[s.name] for s in stages}
        if from_stage is not None:
            if from_stage not in state.stages:
                raise UsageError(f"unknown stage {from_stage!r}{did_you_mean(from_stage, state.stages)}",
                                 hint=f"choose one of {', '.join(state.stages)}")
            reset_from(state, from_stage)
        note = reconcile(state, workspace)
        if note:
            on_event(Event("info", "", note))
        pending = [n for n, r in state.stages.items() if r.status not in ("done", "skipped")]
        if not pending:
            on_event(Event("info", "", "nothing to do: every stage is finished"))
            return result_from_state(workspace, state, hint="use --from STAGE to regenerate a stage")
        _refuse_without_containment(effective)
        check_templates(effective.prompts_dir, stages)
        preflight(effective, pending)
        _warn_unpriced_budget(effective, pending, on_event)
        state.settings = effective.public_dump()
        return _execute(workspace, state, effective, on_event, stages)


def status(path: str | Path) -> RunResult:
    """The state of a workspace, without importing litellm."""
    workspace = Workspace.open(Path(path))
    return result_from_state(workspace, workspace.load_state())


def workspaces_in(folder: str | Path) -> list[RunResult]:
    """The workspaces directly inside ``folder`` (e.g. ./workspace), for ``status`` on their parent."""
    root = Path(folder)
    if not root.is_dir():
        return []
    found = []
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            found.append(status(child))
        except SwcompanyError:
            continue  # not a workspace, or an unreadable one: status on it says why
    return found


class DryRun(BaseModel):
    """What ``new --dry-run`` shows: the PM prompt, models and an estimate; nothing is called."""

    models: dict[str, str]
    pm_prompt: list[dict[str, str]]
    estimate: list[Any]
    tokens: tuple[int, int]
    cost: tuple[float, float] | None


def dry_run(idea: str, *, config_path: Path | None = None, **settings: Unpack[SettingsOverrides]) -> DryRun:
    """Render the first stage's prompt and estimate the run's tokens and cost, without any LLM call."""
    from .estimate import count_tokens, estimate_run, lookup_prices

    text = clean_idea(idea)
    effective = load_settings(dict(settings), path=config_path)
    stages = _company(effective)
    check_templates(effective.prompts_dir, stages)
    first = next((s for s in stages if getattr(s, "preview", None) is not None), None)
    preview = getattr(first, "preview", None)  # only stages that speak first can show their prompt
    messages: list[dict[str, str]] = preview(effective, text) if preview is not None else []
    models = {stage.name: effective.model_for(stage.name) for stage in stages}
    first_tokens = count_tokens(models[first.name], messages) if first is not None and messages else 0
    estimates = estimate_run(stages, effective, models, lookup_prices(effective, sorted(set(models.values()))),
                             first_stage=first.name if first is not None else "", first_prompt_tokens=first_tokens)
    tokens = (sum(e.tokens[0] for e in estimates), sum(e.tokens[1] for e in estimates))
    costs = [e.cost for e in estimates if e.cost is not None]
    cost = None if len(costs) < len(estimates) else (sum(c[0] for c in costs), sum(c[1] for c in costs))
    return DryRun(models=models, pm_prompt=messages, estimate=estimates, tokens=tokens, cost=cost)
