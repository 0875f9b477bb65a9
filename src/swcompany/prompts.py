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
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(roots),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


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
