"""The design's run command, tried once before QA writes its tests.

The command a user is told to type first must work: generated code that does not run is the
first thing they would meet. Seen on the 1.5B model: the tip calculator's design said
``--tip 15%`` and its CLI parsed ``--tip`` as a float (exit 2, "invalid float value"); the todo
app's CLI crashed building its parser (``core.add_task``, a method, not a function); the
key-value store passed a ``Config`` object where a path was wanted (TypeError). QA's tests are
written against the code, so the command is mended before them: a usage error or a traceback
in the project's own code has the engineer write that file again, with the command and what it
printed; the new file is kept only if the command then works, else the old one comes back.

Only a plain ``python -m module args`` or ``python file.py args`` is run (no shell), with stdin
closed, in the QA sandbox, time-bounded. A data file the command reads (``--file input.csv``)
that the workspace lacks is written first as a small sample (one short call), so the command
works on a fresh checkout. A timeout (an interactive program) or a file still missing is not
the code's fault and decides nothing.
"""

from __future__ import annotations

import re
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from textwrap import shorten

from ..artifacts import PRD, Design
from ..code_checks import design_modules
from ..errors import ModelOutputError
from ..sandbox import project_env, run_sandboxed
from .base import StageContext
from .engineer import write_afresh

RUN_TIMEOUT = 20.0
_SHELL = re.compile(r"[|<>;&`$]")
_FRAME = re.compile(r'^\s*File "([^"]+)", line \d+', re.M)
_TRACEBACK = "Traceback (most recent call last):"
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")
# What a missing input file or a closed stdin raises: the command's data, not the code.
_NOT_THE_CODE = {"FileNotFoundError", "PermissionError", "IsADirectoryError", "NotADirectoryError", "EOFError",
                 "KeyboardInterrupt", "OSError"}


@dataclass(frozen=True)
class RunFailure:
    """The run command failed because of ``path``: ``what`` says how (one line)."""

    path: str
    what: str
    output: str = ""


def command_argv(how_to_run: str) -> list[str] | None:
    """``python -m pkg.cli --help`` -> its words; None for anything else (a shell line, a pipe,
    another program). A leading ``cd somewhere &&`` is dropped."""
    parts = [part.strip() for part in how_to_run.strip().split("&&")]
    if len(parts) > 1 and not all(part.startswith("cd ") for part in parts[:-1]):
        return None
    command = parts[-1]
    if not command or "\n" in command or _SHELL.search(command):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if len(words) < 2 or words[0] not in ("python", "python3"):
        return None
    if words[1] == "-m" and len(words) > 2 or words[1].endswith(".py"):
        return words
    return None


def entry_file(design: Design, argv: list[str]) -> str | None:
    """The design file the command starts: ``-m pkg.cli`` -> ``pkg/cli.py`` (or a package's ``__main__``)."""
    if argv[1] != "-m":
        return argv[1] if any(f.path == argv[1] for f in design.files) else None
    modules = design_modules(design)
    path = modules.get(f"{argv[2]}.__main__") or modules.get(argv[2])
    return path if path and not path.endswith("__init__.py") else None  # a package without __main__ cannot run


def _raised(output: str) -> tuple[str, str] | None:
    """(the exception class, its line) the last traceback in ``output`` ends with: its first
    unindented line (what the program printed to stdout may come after it: stdout is flushed last)."""
    if _TRACEBACK not in output:
        return None
    for line in output.rsplit(_TRACEBACK, 1)[1].splitlines():
        if line and not line[0].isspace():
            found = _EXCEPTION_LINE.match(line)
            return (found.group(1), line.strip()) if found else None
    return None


def run_failure(design: Design, root: str, argv: list[str], exit_code: int | None, timed_out: bool,
                output: str) -> RunFailure | None:
    """Why the run went wrong in a way the code can mend, or None (it worked, or it is not the code's fault)."""
    if timed_out or exit_code in (0, None):
        return None
    tail = [line for line in output.strip().splitlines() if line.strip()]
    last = tail[-1].strip() if tail else ""
    if exit_code == 2 and re.search(r"^usage:", output, re.M) and "error:" in output:
        path = entry_file(design, argv)
        return RunFailure(path, f"exit 2, {last}") if path else None
    raised = _raised(output)
    if raised is None or raised[0].split(".")[-1] in _NOT_THE_CODE:
        return None
    prefix = root.rstrip("/") + "/"
    paths = {f.path for f in design.files}
    frames = [found[len(prefix):] for found in _FRAME.findall(output) if found.startswith(prefix)]
    own = [frame for frame in frames if frame in paths]
    return RunFailure(own[-1], raised[1]) if own else None


def try_run_command(ctx: StageContext, design: Design, python: str, argv: list[str]) -> RunFailure | None:
    """Run the command with the project's interpreter in the QA sandbox, on a scratch copy of the
    design's files and the samples it reads (what it writes, a ``todo.db``, must not land in the
    workspace); why it failed."""
    with tempfile.TemporaryDirectory(prefix="swcompany-run-") as scratch:
        root = Path(scratch).resolve()
        for path in [*(f.path for f in design.files), *command_inputs(argv, set())]:
            if ctx.exists(path):
                (root / path).parent.mkdir(parents=True, exist_ok=True)
                (root / path).write_text(ctx.read(path), encoding="utf-8")
        venv = ctx.root / ".swcompany" / "venv"  # the project's dependencies, when it has some
        run = run_sandboxed([python, *argv[1:]], root, timeout=RUN_TIMEOUT, extra_env=project_env(root),
                            mode=ctx.settings.sandbox, readonly=(venv.resolve(),) if venv.is_dir() else ())
    failure = run_failure(design, str(root), argv, run.exit_code, run.timed_out, run.output)
    return RunFailure(failure.path, failure.what, run.output) if failure else None


_DATA_ARGUMENT = re.compile(r"^(?![/~-])[\w.\-/]+\.(?:csv|tsv|txt|md|json|xml|ya?ml|ini|toml|log|html)$")
_OUTPUT_OPTION = re.compile(r"^-+(?:o|out\w*|dest\w*|save\w*|export\w*|write\w*|target\w*|to)$", re.I)
MAX_SAMPLES = 2
MAX_SAMPLE_SOURCE_CHARS = 12_000


def command_inputs(argv: list[str], design_paths: set[str]) -> list[str]:
    """Relative data files the command reads (``--file input.csv``, a first positional
    ``notes.md``): not an option naming an output (``-o``, ``--output``...), not a later positional
    (``in.csv out.json``), not a file of the design. At most ``MAX_SAMPLES``."""
    args = argv[3:] if len(argv) > 2 and argv[1] == "-m" else argv[2:]
    found: list[str] = []
    option: str | None = None
    positional = 0
    for token in args:
        name, value = token.split("=", 1) if token.startswith("-") and "=" in token else (option, token)
        if token.startswith("-") and "=" not in token:
            option = token
            continue
        if name is None:
            positional += 1
        if _DATA_ARGUMENT.match(value) and value not in design_paths and \
                not (name and _OUTPUT_OPTION.match(name)) and (name is not None or positional == 1):
            found.append(value)
        option = None
    return list(dict.fromkeys(found))[:MAX_SAMPLES]


def write_samples(ctx: StageContext, prd: PRD, design: Design, argv: list[str]) -> list[str]:
    """A small sample of each data file the run command reads and the workspace lacks, written
    with one short call each, so the command works on a fresh checkout and its check exercises
    the code: the CSV converter's ``--file input.csv`` and the markdown formatter's
    ``--input input.md`` stopped at "No such file", and the check decided nothing."""
    written = []
    entry = entry_file(design, argv)
    reading = [entry, *design.file(entry).depends_on] if entry else [f.path for f in design.files]
    sources, used = [], 0
    for path in reading:
        text = ctx.read(path) if ctx.exists(path) else ""
        if text and used + len(text) <= MAX_SAMPLE_SOURCE_CHARS:
            sources.append({"path": path, "content": text})
            used += len(text)
    for path in command_inputs(argv, {f.path for f in design.files}):
        if ctx.exists(path):
            continue
        messages = ctx.messages("sample_input", prd=prd, command=shlex.join(argv), path=path, sources=sources)
        try:
            ctx.write(path, ctx.gateway.ask_file(ctx.stage, messages, path))
        except ModelOutputError as exc:
            ctx.info(f"no sample {path} for the run command: {exc.message[:160]}")
            continue
        written.append(path)
    return written


def check_run_command(ctx: StageContext, prd: PRD, design: Design, python: str) -> str | None:
    """Write the samples the run command reads, run it; if the code broke it, have the engineer
    write the file again. Returns a note for the QA report when something was done, else None.
    Writes, never commits."""
    argv = command_argv(design.how_to_run)
    if argv is None:
        return None
    samples = write_samples(ctx, prd, design, argv)
    wrote = f"before the tests: a sample {', '.join(samples)} was written for the run command" if samples else None
    if (failure := try_run_command(ctx, design, python, argv)) is None:
        return wrote
    note = _mend(ctx, prd, design, python, argv, failure)
    return f"{wrote}; {note.removeprefix('before the tests: ')}" if wrote else note


def _mend(ctx: StageContext, prd: PRD, design: Design, python: str, argv: list[str], failure: RunFailure) -> str:
    """The failing file written again; kept only if the command then works."""
    command, spec = shlex.join(argv), design.file(failure.path)
    ctx.info(f"run command `{command}` failed ({failure.what[:160]}); {failure.path} is written again")
    output = "\n".join(failure.output.strip().splitlines()[-25:])
    problem = (f"The project's run command `{command}` fails; it printed:\n```\n{output}\n```\n"
               f"Write {failure.path} again, from scratch, so that this command works.")
    before = ctx.read(failure.path)
    try:
        content = write_afresh(ctx, prd, design, spec, problem)
    except ModelOutputError as exc:
        return (f"before the tests: the run command `{command}` failed ({failure.what}); writing {failure.path} "
                f"again failed: {shorten(exc.message, 200, placeholder=' ...')}")
    ctx.write(failure.path, content)
    if try_run_command(ctx, design, python, argv) is None:
        ctx.info("the run command works now")
        return f"before the tests: the run command `{command}` failed ({failure.what}); {failure.path} was written again"
    ctx.write(failure.path, before)
    ctx.info(f"the run command still fails; the earlier {failure.path} is kept")
    return (f"before the tests: the run command `{command}` failed ({failure.what}); {failure.path} written again "
            "still failed, so the earlier version is kept")
