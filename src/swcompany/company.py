"""The company file: which stages run, in which order, including custom roles declared in YAML.

The default ships in the package (``company.yaml``; ``swcompany company show`` prints it);
``--company FILE`` or ``company:`` in the config uses another. The file is validated before
any call: a mistake is a ``ConfigError`` naming the file and line (exit 2).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .paths import UnsafePathError, safe_relpath

DEFAULT_COMPANY = Path(__file__).resolve().parent / "company.yaml"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class PromptFiles(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: str = Field(description="Jinja file, relative to the company file")
    user: str


class WriteSpec(BaseModel):
    """A file a custom stage writes: its path and a Jinja template over ``output`` (default: the output)."""

    model_config = ConfigDict(extra="forbid")

    path: str
    content: str | None = None

    @field_validator("path")
    @classmethod
    def _safe(cls, value: str) -> str:
        try:
            return safe_relpath(value)
        except UnsafePathError as exc:
            raise ValueError(str(exc)) from None


class StageEntry(BaseModel):
    """One stage: ``builtin: NAME``, or a custom role (``name``, ``title``, ``prompts``, ``output``...)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    builtin: str | None = None
    name: str | None = None
    title: str | None = None
    when: str | None = Field(None, description="a true/false setting that turns the stage on, e.g. review")
    prompts: PromptFiles | None = None
    reads: list[str] = Field(default_factory=list, description="idea, code, or workspace paths")
    output: Literal["markdown", "json"] = "markdown"
    json_schema: dict[str, Any] | None = Field(None, alias="schema")
    writes: list[WriteSpec] = Field(default_factory=list)
    read_by: list[str] | None = Field(None, description="later stages that get what this one writes (default: the next)")

    @model_validator(mode="after")
    def _shape(self) -> "StageEntry":
        if self.builtin:
            if self.prompts or self.writes or self.json_schema or self.name:
                raise ValueError("a builtin entry takes only 'builtin', 'title' and 'when'")
            return self
        missing = [k for k in ("name", "prompts") if not getattr(self, k)]
        if missing or not self.writes:
            raise ValueError(f"a custom stage needs name, prompts and writes (missing: {', '.join(missing + ([] if self.writes else ['writes']))})")
        if not _NAME.match(self.name or ""):
            raise ValueError(f"stage name {self.name!r} must be lowercase letters, digits and _ (at most 31)")
        if self.output == "json":
            if not self.json_schema:
                raise ValueError("output: json needs a 'schema' (a JSON schema)")
            import jsonschema

            try:
                jsonschema.Draft202012Validator.check_schema(self.json_schema)
            except jsonschema.SchemaError as exc:
                raise ValueError(f"schema is not a valid JSON schema: {exc.message}") from None
        for item in self.reads:
            if item not in ("idea", "code"):
                try:
                    safe_relpath(item)
                except UnsafePathError as exc:
                    raise ValueError(f"reads: {exc}") from None
        return self

    @property
    def stage_name(self) -> str:
        return self.builtin or self.name or ""


class CompanyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "company"
    description: str = ""
    stages: list[StageEntry] = Field(min_length=1)


def _line_of(text: str, loc: tuple) -> int | None:
    """The YAML line of a pydantic error location such as ('stages', 2, 'output')."""
    import yaml

    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def load_company(path: Path | None, *, known_builtins: set[str], settings_flags: set[str]) -> tuple[CompanyFile, Path]:
    """Parse and validate a company file (the packaged default when ``path`` is None)."""
    import yaml

    source = Path(path).expanduser() if path else DEFAULT_COMPANY
    try:
        text = source.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except FileNotFoundError:
        raise ConfigError(f"company file {source} does not exist") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ConfigError(f"company file {source}, line {mark.line + 1 if mark else '?'}: YAML syntax error: {exc.problem}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"company file {source} cannot be read: {exc}") from None
    try:
        company = CompanyFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        line = _line_of(text, loc)
        where = ".".join(str(p) for p in loc)
        raise ConfigError(f"company file {source}, line {line or '?'}: {where + ': ' if where else ''}"
                          f"{err['msg'].removeprefix('Value error, ')}") from None

    def fail(index: int, message: str) -> ConfigError:
        return ConfigError(f"company file {source}, line {_line_of(text, ('stages', index)) or '?'}: {message}")

    names: list[str] = []
    for i, entry in enumerate(company.stages):
        name = entry.stage_name
        if entry.builtin and entry.builtin not in known_builtins:
            raise fail(i, f"unknown builtin stage {entry.builtin!r}; builtins: {', '.join(sorted(known_builtins))}")
        if name in names:
            raise fail(i, f"stage {name!r} appears twice")
        if entry.when and entry.when not in settings_flags:
            raise fail(i, f"when: {entry.when!r} is not a true/false setting ({', '.join(sorted(settings_flags))})")
        if entry.prompts:
            for part in (entry.prompts.system, entry.prompts.user):
                if not (source.parent / part).is_file():
                    raise fail(i, f"prompt file {part} not found next to the company file")
        names.append(name)
    for i, entry in enumerate(company.stages):
        later = names[i + 1:]
        for target in entry.read_by or []:
            if target not in later:
                raise fail(i, f"read_by: {target!r} is not a later stage ({', '.join(later) or 'none'})")
    return company, source
