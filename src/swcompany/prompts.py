"""Jinja rendering for LLM prompts (``prompts/``) and artifact templates (``templates/``).

Templates are looked up first in the user's override folder (``--prompts DIR`` /
``prompts_dir``), then in the packaged copies. ``StrictUndefined`` turns a missing
variable into a clear error naming the template, never a silently empty prompt.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ConfigError

_PACKAGE_DIR = Path(__file__).resolve().parent


def packaged_root() -> Path:
    """Folder holding ``prompts/`` and ``templates/``: inside the wheel, or the source checkout."""
    if (_PACKAGE_DIR / "prompts").is_dir():
        return _PACKAGE_DIR
    return _PACKAGE_DIR.parent.parent  # editable install: src/swcompany -> repo root


@lru_cache(maxsize=8)
def _environment(override: str | None):
    import jinja2

    roots = [str(Path(override).expanduser())] if override else []
    roots.append(str(packaged_root()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(roots),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.globals["docs"] = []  # documents from earlier custom stages; a stage passes its own
    return env


def render(name: str, override_dir: Path | None = None, **variables: Any) -> str:
    """Render ``prompts/x.j2`` or ``templates/x.j2``; errors name the template and variable."""
    import jinja2

    env = _environment(str(override_dir) if override_dir else None)
    try:
        return env.get_template(name).render(**variables)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"template {name} not found in {override_dir or 'the packaged prompts'}") from None
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"template {name}: {exc.message}", hint="fix the variable name in the template") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"template {exc.name or name}, line {exc.lineno}: {exc.message}") from None


def template_names(kind: str = "prompts") -> list[str]:
    """Packaged template names of one kind, e.g. ``prompts/pm.system.j2``."""
    folder = packaged_root() / kind
    return sorted(f"{kind}/{p.name}" for p in folder.glob("*.j2"))


SHARED_TEMPLATES = {"prompts/json_contract.j2": frozenset({"schema"})}


def template_variables(stages: list) -> dict[str, frozenset[str]]:
    """Each template the stages render, with the variables it gets (``Stage.templates``)."""
    out = dict(SHARED_TEMPLATES)
    for stage in stages:
        out.update(stage.templates)
    return out


def check_templates(override_dir: Path | None, stages: list, *, packaged: bool = False) -> None:
    """Fail before any LLM call if an overridden template uses a variable its stage lacks.

    Only the user's override files are checked on each run (the packaged ones are checked by
    our test suite with ``packaged=True``), which keeps this off the start-up path.
    """
    import jinja2
    from jinja2 import meta

    root = Path(override_dir).expanduser() if override_dir else None
    if root is not None and not root.is_dir():  # a typo must not silently fall back to the packaged prompts
        raise ConfigError(f"prompts folder {override_dir} {'is not a folder' if root.exists() else 'does not exist'}",
                          hint="create one with: swcompany prompts export DIR")
    env = _environment(str(override_dir) if override_dir else None)
    for name, allowed in template_variables(stages).items():
        if not packaged and (root is None or not (root / name).is_file()):
            continue
        try:
            source = env.loader.get_source(env, name)[0]
            undeclared = meta.find_undeclared_variables(env.parse(source)) - set(env.globals)
        except jinja2.TemplateNotFound:
            raise ConfigError(f"template {name} not found in {override_dir or 'the packaged prompts'}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"template {name}, line {exc.lineno}: {exc.message}") from None
        unknown = sorted(undeclared - allowed)
        if unknown:
            raise ConfigError(
                f"template {name} uses undefined variable {unknown[0]!r}",
                hint=f"it may use: {', '.join(sorted(allowed)) or 'no variables'}",
            )


def export_templates(target: Path, force: bool = False) -> list[Path]:
    """Copy the packaged prompts/ and templates/ into ``target`` for editing."""
    import shutil

    written = []
    for kind in ("prompts", "templates"):
        for source in sorted((packaged_root() / kind).glob("*.j2")):
            dest = target / kind / source.name
            if dest.exists() and not force:
                raise ConfigError(f"{dest} already exists", hint="pass --force to overwrite")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            written.append(dest)
    return written


def render_file(path: Path | None, *, source: str | None = None, **variables: Any) -> str:
    """Render a custom stage's template: a file next to the company file, or inline ``source``.

    The packaged prompts stay reachable (``{% include "prompts/json_contract.j2" %}``).
    """
    import jinja2

    roots = [str(path.parent)] if path is not None else []
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([*roots, str(packaged_root())]),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                             lstrip_blocks=True, autoescape=False)
    name = path.name if path is not None else "(inline content)"
    try:
        template = env.get_template(path.name) if path is not None else env.from_string(source or "")
        return template.render(**variables)
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"template {exc.name} not found (included from {name})") from None
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"template {name}: {exc.message}",
                          hint=f"it may use: {', '.join(sorted(variables))}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"template {name}, line {exc.lineno}: {exc.message}") from None
