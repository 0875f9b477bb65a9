"""Effective settings: defaults < config file < ``SWCOMPANY_*`` env vars < flags.

Settings never hold an API key: only the *name* of the variable to read it from, so
dumping settings into state or logs can never leak one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError, did_you_mean
from .redact import remember_secret

DEFAULT_CONFIG_PATH = Path("~/.swcompany/config.yaml")


class Settings(BaseModel):
    """Every knob of a run. Field names are the config keys and env var suffixes."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model: str = Field("gpt-4o-mini", description="litellm model string used by every stage")
    stage_models: dict[str, str] = Field(
        default_factory=dict, description="per-stage model overrides, e.g. {engineer: gpt-4o} (names from the company file)"
    )
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint (use with openai/<model>)")
    api_key_env: str | None = Field(None, description="name of the env var holding the API key")
    jobs: int = Field(4, ge=1, le=32, description="engineer files generated concurrently")
    parallel_requests: int | None = Field(
        None, ge=1, le=64, description="LLM requests in flight at once [default: jobs; 1 with base_url, as local servers run one slot]")
    temperature: float = Field(0.2, ge=0, le=2)
    max_output_tokens: int = Field(4096, ge=64, description="max_tokens of one reply (doubled on truncation)")
    timeout: float = Field(120.0, gt=0, description="seconds an LLM request may go without a new token (idle timeout)")
    reply_timeout: float = Field(1800.0, gt=0, description="seconds one streamed reply may take in all")
    queue_timeout: float = Field(
        900.0, gt=0, description="seconds a streamed request to a base URL may wait for its first byte (the server busy "
        "with other clients' replies); the idle timeout then counts from the first byte")
    stream: Literal["auto", "on", "off"] = Field(
        "auto", description="stream replies (auto: for OpenAI-compatible providers); the timeout then counts idle time")
    max_retries: int = Field(4, ge=0, le=20, description="retries of a failed LLM request")
    retry_deadline: float = Field(300.0, gt=0, description="total seconds one call may spend retrying")
    retry_base_delay: float = Field(1.0, ge=0, description="first backoff delay in seconds")
    repair_attempts: int = Field(2, ge=0, le=10, description="re-prompts for invalid JSON or code")
    max_reply_chars: int = Field(1_000_000, ge=1000, description="longer replies are refused and re-prompted, never stored")
    structured_output: Literal["auto", "schema", "prompt"] = Field(
        "auto", description="send JSON schema via response_format (schema), in the prompt only, or auto-detect"
    )
    max_files: int = Field(8, ge=1, le=300, description="most source files a design may have (small models do best small)")
    fix_rounds: int = Field(3, ge=0, le=20, description="QA fix rounds")
    fix_minutes: float | None = Field(
        10.0, gt=0, description="no new fix round starts once the rounds took this long (a local model's round takes minutes)")
    run_tests: bool = Field(True, description="run the QA stage")
    review: bool = Field(False, description="run the code reviewer between engineer and QA")
    company: Path | None = Field(None, description="company file (YAML) declaring the stages; default: the packaged one")
    install_deps: bool = Field(True, description="make a venv for the generated project's dependencies")
    test_timeout: float = Field(120.0, gt=0, description="seconds for one sandboxed test run")
    sandbox: Literal["auto", "strict", "none"] = Field(
        "auto", description="contain generated code with bubblewrap: auto (warn when unavailable), strict (refuse), none"
    )
    budget: float | None = Field(None, ge=0, description="USD cap on the workspace's total spend")
    max_tokens: int | None = Field(None, ge=0, description="cap on the workspace's total tokens")
    cache: bool = Field(True, description="content-addressed response cache in the workspace")
    prompts_dir: Path | None = Field(None, description="folder of prompt/template overrides")
    output_dir: Path = Field(Path("workspace"), description="where new workspaces are created")
    input_cost_per_token: float | None = Field(None, ge=0, description="USD, for models litellm has no price for")
    output_cost_per_token: float | None = Field(None, ge=0)

    @field_validator("output_dir", "prompts_dir")
    @classmethod
    def _usable_folder(cls, value: Path | None) -> Path | None:
        """``~`` expands (a config file is not a shell); names over NAME_MAX are refused, not crashed on."""
        if value is None:
            return None
        value = value.expanduser()
        if any(len(part.encode("utf-8", "surrogateescape")) > 255 for part in value.parts):
            raise ValueError("a folder name in it is longer than 255 bytes")
        return value

    def model_for(self, stage: str) -> str:
        """The litellm model string a stage uses."""
        return self.stage_models.get(stage, self.model)

    def public_dump(self) -> dict[str, Any]:
        """JSON-safe dump for state files and ``config show`` (holds no secrets by design)."""
        return self.model_dump(mode="json")


# Settings that define *what* a run builds and spends; a resume keeps them unless a flag
# overrides. Operational knobs (timeouts, retries, jobs, cache) follow the current env.
STICKY_ON_RESUME = frozenset({
    "model", "stage_models", "base_url", "api_key_env", "temperature", "max_output_tokens",
    "structured_output", "max_files", "fix_rounds", "run_tests", "review", "company", "install_deps", "budget", "max_tokens",
    "input_cost_per_token", "output_cost_per_token", "prompts_dir",
})


def config_path() -> Path:
    """The config file location: ``$SWCOMPANY_CONFIG`` or ``~/.swcompany/config.yaml``."""
    return Path(os.environ.get("SWCOMPANY_CONFIG") or DEFAULT_CONFIG_PATH).expanduser()


def _key_lines(text: str) -> dict[str, int]:
    """Line numbers of top-level keys, for error messages."""
    import yaml

    node = yaml.compose(text)
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse the YAML config; syntax errors and unknown keys name the line."""
    if not path.exists():
        return {}
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        raise ConfigError(f"config file {path}: YAML syntax error at {where}: {exc.problem}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping of keys, got {type(data).__name__}")
    lines = _key_lines(text)
    for key in data:
        if key not in Settings.model_fields:
            raise ConfigError(
                f"config file {path}, line {lines.get(str(key), '?')}: unknown key {key!r}{did_you_mean(str(key), Settings.model_fields)}",
                hint="run `swcompany config init --print` to see every key",
            )
    return data


ENV_PREFIX = "SWCOMPANY_"
# SWCOMPANY_ variables that are not settings: the config file's path, and switches of their own.
_OTHER_VARIABLES = {"CONFIG", "REMOTE_PRICES", "BWRAP"}


def unknown_env_vars(environ: Mapping[str, str] | None = None) -> list[str]:
    """``SWCOMPANY_*`` variables that set nothing (a typo silently ignored otherwise), with a suggestion."""
    env = os.environ if environ is None else environ
    known = {f"{ENV_PREFIX}{n.upper()}" for n in Settings.model_fields} | {ENV_PREFIX + n for n in _OTHER_VARIABLES}
    return [f"{name} is not a setting and is ignored{did_you_mean(name, known)}"
            for name in sorted(env) if name.startswith(ENV_PREFIX) and name not in known]


def _line_of(file: Path, key: str) -> str:
    try:
        return str(_key_lines(file.read_text(encoding="utf-8")).get(key, "?"))
    except Exception:  # noqa: BLE001 - a line number must never hide the error itself
        return "?"


def read_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """``SWCOMPANY_<FIELD>`` variables for scalar fields (strings; pydantic coerces)."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        if name == "stage_models":
            continue
        value = env.get(f"SWCOMPANY_{name.upper()}")
        if value is not None and value != "":
            out[name] = value
    return out


def load_settings(overrides: Mapping[str, Any] | None = None, *, path: Path | None = None,
                  environ: dict[str, str] | None = None, saved: dict[str, Any] | None = None) -> Settings:
    """Merge the layers into validated settings.

    ``saved`` is a resumed run's own settings: they beat the config file and env (the run
    keeps the model it started with) but not flags given to ``resume``.
    """
    file = path or config_path()
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    env = read_env(environ)
    layers: dict[str, Any] = read_config_file(file)
    layers.update(env)
    layers.update(saved or {})
    layers.update(given)
    try:
        settings = Settings.model_validate(layers)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "settings"
        key = str(first["loc"][0]) if first["loc"] else ""
        where = ("the command line" if key in given else "the workspace's saved settings" if key in (saved or {})
                 else f"${ENV_PREFIX}{key.upper()}" if key in env else f"config file {file}, line {_line_of(file, key)}")
        raise ConfigError(f"invalid setting {loc} (from {where}): {first['msg'].removeprefix('Value error, ')}") from None
    if settings.api_key_env:  # its name may look harmless (MY_VAR): scrub its value by value
        remember_secret((os.environ if environ is None else environ).get(settings.api_key_env))
    return settings


STARTER_CONFIG = """\
# swcompany configuration. Precedence: this file < SWCOMPANY_* env vars < command-line flags.
# API keys are never stored here: litellm reads the provider's usual variable
# (OPENAI_API_KEY, ANTHROPIC_API_KEY, AZURE_API_KEY, ...), or set api_key_env.

# Any litellm model string: gpt-4o-mini, anthropic/claude-3-5-sonnet-latest,
# ollama/qwen2.5-coder, openai/<name> together with base_url.
model: gpt-4o-mini
# stage_models:          # per-stage overrides
#   engineer: gpt-4o
# base_url: http://localhost:8000/v1   # any OpenAI-compatible server
# api_key_env: MY_PROVIDER_KEY         # read the key from this variable instead
jobs: 4                  # engineer files generated in parallel
fix_rounds: 3            # QA fix rounds before giving up
# fix_minutes: 10        # ...or once the fix rounds took this many minutes (null: no time limit)
# budget: 2.50           # USD cap on a workspace's total spend (exit 3 when reached)
# max_tokens: 500000     # token cap on a workspace's total use
# input_cost_per_token: 0.0000005    # prices for models litellm does not know
# output_cost_per_token: 0.0000015
# prompts_dir: ~/my-prompts          # overrides for prompts/ and templates/
# max_reply_chars: 1000000          # longer model replies are refused and re-prompted
# output_dir: workspace
# sandbox: auto          # bubblewrap containment: auto (warn if missing), strict (refuse), none
"""
