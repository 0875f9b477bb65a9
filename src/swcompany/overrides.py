"""The Python API's keyword arguments, typed: any ``Settings`` field but ``output_dir`` (a parameter of its own).

A ``TypedDict`` so editors and mypy check ``generate_repo(..., jobs="4")`` at the call site;
tests/test_readme_promises.py keeps its keys equal to ``Settings``' fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypedDict


class SettingsOverrides(TypedDict, total=False):
    model: str
    stage_models: dict[str, str]
    base_url: str | None
    api_key_env: str | None
    jobs: int
    parallel_requests: int | None
    temperature: float
    max_output_tokens: int
    timeout: float
    reply_timeout: float
    queue_timeout: float
    stream: Literal["auto", "on", "off"]
    max_retries: int
    retry_deadline: float
    retry_base_delay: float
    repair_attempts: int
    max_reply_chars: int
    structured_output: Literal["auto", "schema", "prompt"]
    max_files: int
    fix_rounds: int
    fix_minutes: float | None
    run_tests: bool
    review: bool
    company: Path | None
    install_deps: bool
    test_timeout: float
    sandbox: Literal["auto", "strict", "none"]
    budget: float | None
    max_tokens: int | None
    cache: bool
    prompts_dir: Path | None
    input_cost_per_token: float | None
    output_cost_per_token: float | None
