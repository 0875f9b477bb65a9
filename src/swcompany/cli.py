"""The ``swcompany`` command: parses flags, calls ``api``, prints, maps errors to exit codes.

Heavy modules (litellm, the pipeline) are imported inside commands so ``--help``,
``--version``, ``status`` and ``config show`` start fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, cast

import typer

from . import __version__
from .cli_support import _error_line, _errors, _list_workspaces, _read_idea
from .errors import EXIT_INTERRUPTED, EXIT_USAGE, UsageError

if TYPE_CHECKING:
    from .overrides import SettingsOverrides

HELP = {"help_option_names": ["-h", "--help"], "max_content_width": 80}
app = typer.Typer(
    help="A software company in a box: one-line idea -> PRD, design, code and tests in a git repository.\n\n"
    'Example: swcompany new "a CLI todo app with SQLite storage"',
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # never print locals (they can hold secrets)
    add_completion=True,
    rich_markup_mode=None,
    context_settings=HELP,
)
config_app = typer.Typer(help="Show, create or check the configuration.", no_args_is_help=True, context_settings=HELP)
company_app = typer.Typer(help="The company file: which stages run, in which order (custom roles too).", no_args_is_help=True, context_settings=HELP)
app.add_typer(company_app, name="company")
app.add_typer(config_app, name="config")
prompts_app = typer.Typer(help="Export the packaged prompts and templates to customise them.", no_args_is_help=True, context_settings=HELP)
app.add_typer(prompts_app, name="prompts")

Model = Annotated[Optional[str], typer.Option("--model", "-m", help="litellm model string, e.g. gpt-4o-mini, "
                                                                                      "anthropic/claude-3-5-sonnet-latest, ollama/qwen2.5-coder")]
BaseUrl = Annotated[Optional[str], typer.Option("--base-url", help="OpenAI-compatible endpoint; use with --model openai/<name>")]
Jobs = Annotated[Optional[int], typer.Option("--jobs", "-j", help="engineer files generated in parallel [default: 4]")]
Budget = Annotated[Optional[float], typer.Option("--budget", "--investment", help="USD cap on the workspace's total spend (exit 3 when reached)")]
MaxTokens = Annotated[Optional[int], typer.Option("--max-tokens", help="cap on the workspace's total tokens")]
FixRounds = Annotated[Optional[int], typer.Option("--fix-rounds", help="QA fix rounds [default: 3]")]
TestTimeout = Annotated[Optional[float], typer.Option("--test-timeout", help="seconds for one sandboxed test run [default: 120]")]
NoTests = Annotated[bool, typer.Option("--no-tests", help="skip the QA stage")]
NoInstall = Annotated[bool, typer.Option("--no-install", help="do not create a venv for the generated project's dependencies")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="do not reuse cached LLM replies")]
Sandbox = Annotated[Optional[str], typer.Option("--sandbox", help="auto: bubblewrap when available, else warn; "
                                                                      "strict: refuse without it; none: no containment [default: auto]")]
Prompts = Annotated[Optional[Path], typer.Option("--prompts", help="folder with prompt/template overrides")]
Company = Annotated[Optional[Path], typer.Option("--company", help="company file (YAML) declaring the stages; see `swcompany company show`")]
Review = Annotated[Optional[bool], typer.Option("--review/--no-review", help="run the code reviewer between engineer and QA [default: off]")]
JsonOut = Annotated[bool, typer.Option("--json", help="print one JSON result on stdout; logs go to stderr")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="print only errors and the workspace path")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="show every LLM call")]
Debug = Annotated[bool, typer.Option("--debug", help="show tracebacks")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"swcompany {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="show the version")] = False) -> None:
    """swcompany"""
    from .config import unknown_env_vars

    for problem in unknown_env_vars():  # a typo in a variable would otherwise be silently ignored
        typer.echo(f"warning: {problem}", err=True)


def _overrides(**flags: object) -> "SettingsOverrides":
    """Flag values that were given (None means 'not given', so config and env still apply)."""
    out: dict[str, Any] = {k: v for k, v in flags.items() if v is not None}
    for flag, field in (("no_tests", "run_tests"), ("no_install", "install_deps"), ("no_cache", "cache")):
        if out.pop(flag, False):
            out[field] = False
        out.pop(flag, None)
    return cast("SettingsOverrides", out)  # typer typed each flag; Settings validates the values


def _ui(json_out: bool, quiet: bool, verbose: bool):
    from .ui import ConsoleUI

    mode = "json" if json_out else "quiet" if quiet else "rich" if sys.stderr.isatty() else "plain"
    return ConsoleUI(mode, verbose=verbose)


def _finish(result, ui, json_out: bool) -> None:
    """Print the outcome and exit with the run's code."""
    code = result.exit_code or 0
    if json_out:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        ui.summary(result)
        if result.error:
            _error_line(result.error, result.hint)
        typer.echo(result.workspace)
    if code == EXIT_INTERRUPTED:
        # Engineer threads may still be waiting on the provider; state is saved, so leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise typer.Exit(code)


@app.command()
def new(
    idea: Annotated[Optional[str], typer.Argument(help="the project idea, in one line or more")] = None,
    idea_file: Annotated[Optional[str], typer.Option("--idea-file", help="read the idea from a file ('-' for stdin)")] = None,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="workspace folder name [default: from the idea]")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="parent folder of workspaces [default: ./workspace]")] = None,
    force: Annotated[bool, typer.Option("--force", help="reuse an existing workspace folder")] = False,
    model: Model = None, base_url: BaseUrl = None, jobs: Jobs = None, budget: Budget = None,
    max_tokens: MaxTokens = None, fix_rounds: FixRounds = None, test_timeout: TestTimeout = None, no_tests: NoTests = False,
    no_install: NoInstall = False, no_cache: NoCache = False, prompts: Prompts = None, sandbox: Sandbox = None,
    company: Company = None, review: Review = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="render the PM prompt and estimate tokens and cost; call nothing")] = False,
    json_out: JsonOut = False, quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
) -> None:
    """Turn an idea into a repository: PRD, design, code, tests, one commit per stage.

    Examples:

      swcompany new "a CLI todo app with SQLite storage"

      swcompany new "a URL shortener" -m ollama/qwen2.5-coder

      echo "a todo app" | swcompany new --json

      swcompany new --idea-file spec.md --budget 2 --json
    """
    from . import api

    ui = _ui(json_out, quiet, verbose)
    overrides = _overrides(model=model, base_url=base_url, jobs=jobs, budget=budget, max_tokens=max_tokens,
                           fix_rounds=fix_rounds, test_timeout=test_timeout, no_tests=no_tests,
                           no_install=no_install, no_cache=no_cache, prompts_dir=prompts, company=company, review=review,
                           sandbox=sandbox)
    with _errors(debug, json_out), ui.session():
        text = _read_idea(idea, idea_file)
        if dry_run:
            plan = api.dry_run(text, **overrides)
            if json_out:
                typer.echo(plan.model_dump_json(indent=2))
            else:
                ui.dry_run(plan)
            return
        result = api.generate_repo(text, name=name, output_dir=output, force=force, on_event=ui, **overrides)
    _finish(result, ui, json_out)


@app.command()
def resume(
    directory: Annotated[Path, typer.Argument(help="the workspace to continue")],
    from_stage: Annotated[Optional[str], typer.Option(
        "--from", help="re-run from this stage (a name from `swcompany status`, e.g. architect) using the files on disk")] = None,
    model: Model = None, base_url: BaseUrl = None, jobs: Jobs = None, budget: Budget = None,
    max_tokens: MaxTokens = None, fix_rounds: FixRounds = None, test_timeout: TestTimeout = None, no_tests: NoTests = False,
    no_install: NoInstall = False, no_cache: NoCache = False, prompts: Prompts = None, company: Company = None,
    review: Review = None, sandbox: Sandbox = None,
    json_out: JsonOut = False, quiet: Quiet = False, verbose: Verbose = False, debug: Debug = False,
) -> None:
    """Continue a stopped run; finished stages and cached replies cost nothing.

    Examples:

      swcompany resume workspace/todo-cli

      swcompany resume workspace/todo-cli --budget 5

      swcompany resume workspace/todo-cli --from architect
    """
    from . import api

    ui = _ui(json_out, quiet, verbose)
    with _errors(debug, json_out), ui.session():
        result = api.resume(
            directory, from_stage=from_stage, on_event=ui,
            **_overrides(model=model, base_url=base_url, jobs=jobs, budget=budget, max_tokens=max_tokens,
                         fix_rounds=fix_rounds, test_timeout=test_timeout, no_tests=no_tests, no_install=no_install, no_cache=no_cache,
                         prompts_dir=prompts, company=company, review=review, sandbox=sandbox),
        )
    _finish(result, ui, json_out)


@app.command()
def status(
    directory: Annotated[Path, typer.Argument(help="a workspace")] = Path("."),
    json_out: JsonOut = False, debug: Debug = False,
) -> None:
    """Show a workspace's stages, files, tokens, cost and last error.

    Example: swcompany status workspace/todo-cli --json
    """
    from . import api

    with _errors(debug, json_out):
        listed = api.workspaces_in(directory) if not (directory / ".swcompany").is_dir() else []
        if listed:
            _list_workspaces(listed, json_out)
            return
        result = api.status(directory)
    if json_out:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    from .ui import ConsoleUI

    ui = ConsoleUI("rich" if sys.stdout.isatty() else "plain", to_stdout=True)
    ui.summary(result)
    typer.echo(f"files: {len(result.files)} written")  # the summary above printed the tests line
    typer.echo(f"stop reason: {result.stop_reason}" + (f" (exit {result.exit_code})" if result.exit_code is not None else ""))
    if result.error:
        from .display import terminal_safe

        typer.echo(f"last error: {terminal_safe(result.error)}")
        if result.next_command:  # the summary shows it only for runs without an error
            typer.echo(f"next: {terminal_safe(result.next_command)}")
    if result.rejects:
        typer.echo(f"refused model replies (with reasons): {result.rejects}")


@app.command()
def doctor(
    model: Model = None, base_url: BaseUrl = None, json_out: JsonOut = False, debug: Debug = False,
) -> None:
    """Check the configured provider with one tiny call per model: latency, or the exact reason it fails.

    Examples:

      swcompany doctor

      swcompany doctor --model ollama/qwen2.5-coder

      swcompany doctor -m openai/my-model --base-url http://localhost:8000/v1
    """
    from .config import load_settings
    from .doctor import probe_models
    from .stages.registry import company_stages

    with _errors(debug, json_out):
        settings = load_settings(_overrides(model=model, base_url=base_url))
        results = probe_models(settings, [s.name for s in company_stages(settings)])
    if json_out:
        typer.echo(json.dumps([r.model_dump() for r in results], indent=2))
    for r in results if not json_out else []:
        where = f" via {settings.base_url}" if settings.base_url else ""
        if r.ok:
            typer.echo(f"ok: {r.model}{where} answered in {r.latency_s:.2f}s")
        else:
            _error_line(r.error or "failed", r.hint)
    raise typer.Exit(max((r.exit_code for r in results), default=0))


app.command("models", help="Alias of `doctor`: check each configured model with one tiny call.\n\n"
            "Example: swcompany models --model gpt-4o-mini")(doctor)
config_app.command("doctor", help="Alias of `swcompany doctor`.\n\nExample: swcompany config doctor --json")(doctor)


@prompts_app.command("export")
def prompts_export(
    directory: Annotated[Path, typer.Argument(help="folder to copy prompts/ and templates/ into")],
    force: Annotated[bool, typer.Option("--force", help="overwrite existing files")] = False,
    debug: Debug = False,
) -> None:
    """Copy the packaged prompts and templates for editing; use them with --prompts DIR.

    Examples:

      swcompany prompts export my-prompts

      swcompany new "a todo app" --prompts my-prompts
    """
    from .prompts import export_templates

    with _errors(debug):
        written = export_templates(directory, force=force)
    typer.echo(f"wrote {len(written)} files to {directory} (use: --prompts {directory}, or prompts_dir in the config)")


@prompts_app.command("list")
def prompts_list() -> None:
    """List the packaged prompt and template names.

    Example: swcompany prompts list
    """
    from .prompts import template_names

    for name in template_names("prompts") + template_names("templates"):
        typer.echo(name)


@company_app.command("show")
def company_show(
    company: Company = None, debug: Debug = False,
) -> None:
    """Print the company file in use (the packaged default unless --company or `company:` says otherwise).

    Examples:

      swcompany company show > my-company.yaml

      swcompany company show --company examples/analyst/company.yaml
    """
    from .config import load_settings
    from .stages.registry import company_stages, company_text

    with _errors(debug):
        settings = load_settings(_overrides(company=company))
        stages = company_stages(settings, enabled_only=False)  # validates the file
        text = company_text(settings.company)
    typer.echo(text.rstrip())
    typer.echo(f"# stages: {', '.join(s.name for s in stages)}")


def _serve_extra() -> None:
    """fastapi, rq and redis come with the optional ``serve`` extra."""
    import importlib.util

    missing = [m for m in ("fastapi", "uvicorn", "rq", "redis", "prometheus_client") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"the serve extra is not installed (missing: {', '.join(missing)})",
                         hint="pip install 'swcompany[serve]'")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8000,
    redis_url: Annotated[Optional[str], typer.Option("--redis-url", help="Redis for jobs [default: $REDIS_URL, else a private redis-server]")] = None,
    cleanup_interval: Annotated[float, typer.Option("--cleanup-interval", help="seconds between checks for jobs of dead workers")] = 5.0,
    debug: Debug = False,
) -> None:
    """Serve the HTTP API for teams (jobs run on `swcompany worker`s over Redis). Needs `swcompany[serve]`.

    Examples:

      REDIS_URL=redis://localhost:6379/0 SWCOMPANY_SERVE_TOKENS=team-a:$(openssl rand -hex 16) swcompany serve --port 8000

      swcompany serve            # one machine: starts a private redis-server and prints a token
    """
    with _errors(debug):
        _serve_extra()
        from .serve.server import run_server

        run_server(host, port, redis_url, say=lambda line: typer.echo(line, err=True), cleanup_interval=cleanup_interval)


@app.command()
def worker(
    redis_url: Annotated[Optional[str], typer.Option("--redis-url", help="Redis holding the queue [default: $REDIS_URL]")] = None,
    burst: Annotated[bool, typer.Option("--burst", help="exit when the queue is empty")] = False,
    monitor_interval: Annotated[int, typer.Option(
        "--monitor-interval", min=1, help="seconds between heartbeats; a dead worker's job is retried after 2x this + 5 s")] = 10,
    name: Annotated[Optional[str], typer.Option("--name", help="worker name [default: random]")] = None,
    nice: Annotated[int, typer.Option("--nice", min=0, max=19, help="lower CPU priority, so an API on the same machine stays fast")] = 0,
    debug: Debug = False,
) -> None:
    """Run queued projects (an RQ worker). Provider keys belong in this process's environment only.

    Examples:

      REDIS_URL=redis://localhost:6379/0 OPENAI_API_KEY=sk-... swcompany worker

      swcompany worker --redis-url redis://redis:6379/0 --burst
    """
    with _errors(debug):
        _serve_extra()
        url = redis_url or os.environ.get("REDIS_URL")
        if not url:
            raise UsageError("no Redis to take jobs from", hint="set REDIS_URL=redis://host:6379/0 or pass --redis-url")
        from .serve.worker import run_worker

        run_worker(url, burst=burst, monitor_interval=monitor_interval, name=name, nice=nice, say=lambda line: typer.echo(line, err=True))


@config_app.command("show")
def config_show(debug: Debug = False) -> None:
    """Print the effective settings; keys are never shown.

    Later layers win: defaults, then the config file, then SWCOMPANY_* variables, then flags.

    Example: swcompany config show
    """
    from .config import config_path, load_settings

    with _errors(debug):
        settings = load_settings()
    typer.echo(f"# config file: {config_path()}" + ("" if config_path().exists() else " (not found; defaults apply)"))
    import yaml

    typer.echo(yaml.safe_dump(settings.public_dump(), sort_keys=False).rstrip())
    key_var = settings.api_key_env
    if key_var:
        typer.echo(f"# api key: ${key_var} is {'set (***)' if os.environ.get(key_var) else 'NOT set'}")


@config_app.command("init")
def config_init(
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
    print_only: Annotated[bool, typer.Option("--print", help="print the starter file instead of writing it")] = False,
) -> None:
    """Write a commented starter config to ~/.swcompany/config.yaml (or $SWCOMPANY_CONFIG).

    Example: swcompany config init --print > my-config.yaml
    """
    from .config import STARTER_CONFIG, config_path

    if print_only:
        typer.echo(STARTER_CONFIG, nl=False)
        return
    path = config_path()
    if path.exists() and not force:
        _error_line(f"{path} already exists", "pass --force to overwrite it")
        raise typer.Exit(EXIT_USAGE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STARTER_CONFIG, encoding="utf-8")
    typer.echo(f"wrote {path}")


def main() -> None:
    app(prog_name="swcompany")
