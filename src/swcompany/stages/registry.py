"""The one registry of stages: built-ins by name, and the company file that orders them.

The UI, config validation, prompt checks, estimates, ``--from``, ``status``, ``doctor`` and the
Python API all ask this module; nothing outside a stage names a stage.
"""

from __future__ import annotations

from pathlib import Path

from ..company import load_company
from ..config import Settings
from ..errors import ConfigError, did_you_mean
from . import architect, engineer, pm, qa, review
from .base import Stage
from .custom import CustomStage

BUILTIN: dict[str, Stage] = {s.STAGE.name: s.STAGE for s in (pm, architect, engineer, review, qa)}


def bool_settings() -> set[str]:
    return {name for name, field in Settings.model_fields.items() if field.annotation is bool}


def company_stages(settings: Settings, *, enabled_only: bool = True) -> list[Stage]:
    """The stages of a run, in order, from the company file (validated; ConfigError with its line)."""
    company, source = load_company(settings.company, known_builtins=set(BUILTIN), settings_flags=bool_settings())
    stages: list[Stage] = []
    for entry in company.stages:
        if enabled_only and entry.when and not getattr(settings, entry.when):
            continue
        stages.append(BUILTIN[entry.builtin] if entry.builtin else CustomStage(entry, source.parent))
    return stages


def docs_routing(stages: list[Stage]) -> dict[str, list[str]]:
    """For each stage, the earlier custom stages whose files go into its prompt (``read_by``).

    Pure: it reads the enabled stages of a run, so the company file is parsed once per run.
    """
    routes: dict[str, list[str]] = {}
    for i, stage in enumerate(stages):
        if not isinstance(stage, CustomStage):
            continue
        read_by = stage.entry.read_by
        targets = read_by if read_by is not None else [s.name for s in stages[i + 1:i + 2]]
        for target in targets:
            routes.setdefault(target, []).append(stage.name)
    return routes


def check_stage_names(settings: Settings, stages: list[Stage]) -> None:
    """``stage_models`` and ``--from`` may only name stages of this company."""
    names = [s.name for s in stages]
    for key in settings.stage_models:
        if key not in names:
            raise ConfigError(f"stage_models names {key!r}, which is not a stage of this company{did_you_mean(key, names)}",
                              hint=f"stages: {', '.join(names)}")


def company_text(path: Path | None) -> str:
    from ..company import DEFAULT_COMPANY

    return (Path(path).expanduser() if path else DEFAULT_COMPANY).read_text(encoding="utf-8")
