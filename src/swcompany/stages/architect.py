"""Architect: PRD -> system design (docs/design.json + docs/design.md).

Besides the schema, a design passes quality gates a small model needs (``review_design``):
at most ``max_files`` files, interfaces as signatures (never bodies), no imports of local
modules the design lacks, and ``depends_on`` completed from what each file refers to, so
the engineer writes a file after the modules it uses and sees their code. Classes named without
their methods, and methods given outside a class, are asked about once (``design_check``).
"""

from __future__ import annotations

import ast
import copy
import keyword
import re
from collections.abc import Callable
from pathlib import PurePosixPath

from ..artifacts import Design, FileSpec, dependency_levels
from ..code_checks import (
    ENTRY_POINTS, class_owners, defined_in_interface, design_modules, drop_definitions, interface_bodies, missing_local_modules, module_name,
    parse_or_none, referenced_files, without_bodies,
)
from ..config import Settings
from ..structured import ReplyError
from ..workspace import sha256_text
from .base import (
    DESIGN_JSON, DESIGN_MD, PRD_JSON, PRD_MD, BuiltinStage, CallPlan, StageContext, StageResult, prompt_templates,
)



def hand_edited_markdown(ctx: StageContext) -> str:
    """docs/prd.md when a person edited it (and not the JSON): then the markdown is authoritative."""
    if not ctx.exists(PRD_MD):
        return ""
    recorded = {path: record.sha256 for path, record in ctx.state.files.items()}
    md_edited = sha256_text(ctx.read(PRD_MD)) != recorded.get(PRD_MD, "")
    json_edited = sha256_text(ctx.read(PRD_JSON)) != recorded.get(PRD_JSON, "")
    return ctx.read(PRD_MD) if md_edited and not json_edited and PRD_MD in recorded else ""


def _add_dependency(design: Design, spec: FileSpec, dep: str) -> None:
    """Add ``dep`` to ``spec.depends_on`` unless that would make a cycle."""
    if dep == spec.path or dep in spec.depends_on:
        return
    spec.depends_on.append(dep)
    try:
        dependency_levels(design.files)
    except ValueError:
        spec.depends_on.remove(dep)


def complete_dependencies(design: Design) -> None:
    """Derive missing ``depends_on`` edges: what a file's interface or purpose refers to (modules,
    and classes another file's interface defines), and, for an entry point (cli.py, main.py...),
    every other module of its package."""
    modules = design_modules(design)
    classes = class_owners({f.path: f.interface for f in design.files})
    for spec in design.files:
        text = f"{spec.interface}\n{spec.purpose}"
        for dep in sorted(referenced_files(text, modules)):
            _add_dependency(design, spec, dep)
        # `def add_task(task: Task)` uses the file whose interface defines `class Task`
        for dep in sorted({path for name, path in classes.items() if re.search(rf"(?<![\w.]){re.escape(name)}\b", text)}):
            _add_dependency(design, spec, dep)
    for spec in design.files:
        path = PurePosixPath(spec.path)
        if path.name not in ENTRY_POINTS:
            continue
        for other in design.files:
            other_path = PurePosixPath(other.path)
            if other_path.parent == path.parent and other_path.suffix == ".py" and \
                    other_path.name not in ENTRY_POINTS and other_path.name != "__init__.py":
                _add_dependency(design, spec, other.path)


def one_home_per_definition(design: Design) -> None:
    """Give each function one file: a package's ``__init__.py`` that repeats what a module of its
    package defines re-exports it instead, and a ``main`` outside the entry point goes when the
    entry point has one.

    The 1.5B model's roman converter design put both conversions and a ``main`` into
    ``__init__.py`` as well as into their own modules and ``cli.py``; the engineer, asked for
    ``__init__.py`` with the real code elsewhere, answered three times with comment-only bodies
    (the prompt's "only the CLI has a main" did not hold). Normalised here, not re-prompted:
    the fix is mechanical and a re-prompt costs a minute on such a model.
    """
    entry_mains = {str(PurePosixPath(f.path).parent) for f in design.files
                   if PurePosixPath(f.path).name in ENTRY_POINTS and "main" in defined_in_interface(f.interface)}
    for spec in design.files:
        path = PurePosixPath(spec.path)
        package = str(path.parent)
        drop: set[str] = set()
        if path.name not in ENTRY_POINTS and package in entry_mains and "main" in defined_in_interface(spec.interface):
            drop.add("main")
        reexports: dict[str, list[str]] = {}
        if path.name == "__init__.py":
            for other in design.files:
                other_path = PurePosixPath(other.path)
                if other is spec or str(other_path.parent) != package or other_path.suffix != ".py":
                    continue
                mine = defined_in_interface(spec.interface)
                for name in (n for n in defined_in_interface(other.interface) if n in mine):
                    if other_path.name in ENTRY_POINTS:  # importing the CLI from __init__ runs it twice under -m
                        drop.add(name)
                    elif name not in drop and not any(name in names for names in reexports.values()):
                        reexports.setdefault(module_name(other.path), []).append(name)
        repeated = drop | {name for names in reexports.values() for name in names}
        if not repeated:
            continue
        imports = [f"from {module} import {', '.join(names)}" for module, names in reexports.items()]
        rest = drop_definitions(spec.interface, repeated)
        spec.interface = "\n\n".join(part for part in ("\n".join(imports), rest) if part)


def review_design(design: Design, max_files: int) -> None:
    """Raise ``ReplyError`` with every problem a re-prompt should fix; normalise what we can."""
    problems = []
    if len(design.files) > max_files:
        problems.append(f"the design lists {len(design.files)} files; use at most {max_files}: "
                        "the fewest files that do the job (e.g. one module and a small CLI)")
    modules = design_modules(design)
    roots = {m.split(".")[0] for m in modules}
    for spec in design.files:
        spec.interface, bodies = interface_bodies(spec.interface)
        if bodies:  # signatures were asked for: the code goes, no question (three alike ended a run)
            spec.interface, _ = interface_bodies(without_bodies(spec.interface))
        missing = missing_local_modules(spec.interface, modules, roots)
        if missing:
            problems.append(f"{spec.path}: the interface imports {', '.join(missing)}, which no file of the design "
                            f"provides (the design's modules: {', '.join(sorted(modules))})")
    problems += shadowed_modules([f.path for f in design.files])
    one_home_per_definition(design)
    design.how_to_run = runnable_command(design)
    if problems:
        raise ReplyError("The design needs changes:\n" + "\n".join(f"- {p}" for p in problems)
                         + "\nReply with the corrected complete JSON object only.")
    complete_dependencies(design)


def shadowed_modules(paths: list[str]) -> list[str]:
    """``todo/cli.py`` beside a folder ``todo/cli/``: one import name for two things, one unreachable."""
    folders = {str(PurePosixPath(p).parent) for p in paths if p.endswith(".py")}
    return [f"{p} and the folder {p[:-3]}/ would both be imported as {module_name(p)}; rename one of them"
            for p in paths if p.endswith(".py") and p[:-3] in folders]


_SCRIPT_RUN = re.compile(r"^(python3?)\s+((?:[\w.-]+/)+[\w.-]+)\.py\b")


_BARE_MODULE_RUN = re.compile(r"^python3?\s+-m\s+([\w.]+)$")


def runnable_command(design: Design) -> str:
    """``python pkg/cli.py 10`` -> ``python -m pkg.cli 10``: run as a script, a module of a package
    cannot import its siblings (``sys.path[0]`` is the package folder), as a module it can.
    ``python -m pkg.cli`` alone gets ``--help``: a CLI without its arguments stops with a usage
    error (seen on the 1.5B model, which was asked for example arguments), and the command is the
    one a user is told to try first. So does one whose arguments are placeholders
    (``--path /path/to/text/files``, the word counter's; ``<csv_file_path>``, the CSV converter's,
    which the shell reads as a redirection)."""
    command = design.how_to_run.strip()
    match = _SCRIPT_RUN.match(command)
    if match and f"{match.group(2)}.py" in {f.path for f in design.files}:
        command = f"{match.group(1)} -m {module_name(match.group(2) + '.py')}{command[match.end():]}"
    module_run = re.match(r"^(python3?\s+-m\s+[\w.]+)\s", command)
    if module_run and re.search(r"(?:^|[\s=/])path/to/|\s/?your[_-]|<\w[^<>]*>", command[module_run.end(1):], re.I):
        command = module_run.group(1)  # `--path /path/to/text/files` works nowhere; --help is added below
    bare = _BARE_MODULE_RUN.match(command)
    entry_points = {module_name(f.path).removesuffix(".__main__") for f in design.files
                    if PurePosixPath(f.path).name in ENTRY_POINTS}
    if bare and bare.group(1) in entry_points:
        command += " --help"
    return command if command != design.how_to_run.strip() else design.how_to_run


_CLASS_LINE = re.compile(r"^(\s*class \w+(?:\([^)]*\))?)\s*$", re.M)


def bare_classes(design: Design) -> list[str]:
    """``path: Class`` for each class an interface names without one method or field (``class
    PasswordHistory`` alone): the engineer then invents its methods and the tests guess others
    (the password generator's design named three such classes). ``class X`` without its colon,
    as small models write it, counts."""
    found = []
    for spec in design.files:
        tree = parse_or_none(_CLASS_LINE.sub(r"\1: ...", spec.interface))
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)) if tree else ():
            if not cls.bases and not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.AnnAssign, ast.Assign))
                                         for n in cls.body):  # `class StoreError(Exception)` needs no methods
                found.append(f"{spec.path}: {cls.name}")
    return found


_STRAY_METHOD = re.compile(r"^(?:async\s+)?def\s+(\w+)\s*\(\s*(?:self|cls)\b", re.M)


_GENERIC_STEMS = frozenset({"core", "main", "app", "logic", "lib", "utils", "helpers", "models", "model", "base"})


def class_name_for(path: str) -> str:
    """A class name a file's methods could live in: ``todo_list/storage.py`` -> ``Storage``, and for a
    generic module name its package's, ``todo_list/core.py`` -> ``TodoList``. Said in the question
    instead of a placeholder: asked to use ``class Name:``, the 1.5B todo app's architect named its
    class ``Name``, twice in two runs."""
    parts = PurePosixPath(path).with_suffix("").parts
    parts = parts[1:] if parts[0] == "src" and len(parts) > 1 else parts
    stem = parts[-1]
    if stem in _GENERIC_STEMS or stem == "__init__":
        stem = parts[-2] if len(parts) > 1 else "App"
    return "".join(word.capitalize() for word in stem.split("_") if word) or "App"


def stray_methods(design: Design) -> list[str]:
    """``path: name`` for each method (``self`` first) an interface gives outside any class: the
    pomodoro timer's design said only ``def start(self) -> None: ... def stop(self) -> None: ...``,
    and the engineer was then refused for putting them in a class."""
    return [f"{spec.path}: {name}" for spec in design.files if not re.search(r"^\s*class\s", spec.interface, re.M)
            for name in _STRAY_METHOD.findall(spec.interface)]


def design_check(max_files: int, attempts: int) -> Callable[[Design], None]:
    """``review_design`` for each reply, and, asked once, classes named without their methods and
    methods outside their class: a design the model cannot mend so is still one the engineer can write.
    ``attempts``: the replies the gateway takes in all; the question is never put to the last of
    them, whose refusal would end the run over a design the engineer can write."""
    asked = False
    replies = 0

    def check(design: Design) -> None:
        nonlocal asked, replies
        replies += 1
        review_design(design, max_files)
        if replies >= attempts:
            return
        problems = [f"{where}: the interface names the class without its methods; list each public method as a "
                    "signature with a one-line docstring and `...` as body" for where in bare_classes(design)]
        problems += [f"{where}: a method (it takes self) outside any class; put it inside its class (for example "
                     f"`class {class_name_for(where.split(': ')[0])}:` with the methods indented under it)"
                     for where in stray_methods(design)]
        if not asked and problems:
            asked = True
            raise ReplyError("The design needs changes:\n" + "\n".join(f"- {p}" for p in problems)
                             + "\nReply with the corrected complete JSON object only.")

    return check


def design_schema(max_files: int) -> dict:
    """The Design JSON schema with the file ceiling as ``maxItems`` (a grammar keeps small models small)."""
    schema = copy.deepcopy(Design.model_json_schema())
    schema["properties"]["files"]["maxItems"] = max_files
    return schema


def package_name(title: str) -> str:
    """The prompt's example package, named after this project: small models copy examples, so an
    example about roman numerals gave a word counter a `roman/` package."""
    words = re.findall(r"[a-z]+", title.lower())
    words = [w for w in words if w not in {"a", "an", "the", "and", "for", "of", "cli", "app", "tool", "command", "line"}]
    name = "_".join(words[:3])
    return name if name.isidentifier() and not keyword.iskeyword(name) else "app"


def run(ctx: StageContext) -> StageResult:
    prd = ctx.load_prd()
    max_files = ctx.settings.max_files
    messages = ctx.messages("architect", schema=Design, prd_json=prd.model_dump_json(indent=2),
                            prd_markdown=hand_edited_markdown(ctx), max_files=max_files, package=package_name(prd.title))
    design = ctx.gateway.ask_model(ctx.stage, messages, Design, label="design", schema=design_schema(max_files),
                                   check=design_check(max_files, ctx.settings.repair_attempts + 1))
    levels = dependency_levels(design.files)
    return StageResult(
        files={
            DESIGN_JSON: design.model_dump_json(indent=2) + "\n",
            DESIGN_MD: ctx.render("templates/design.md.j2", design=design, levels=levels),
        },
        message=f"architect: write design\n\n{len(design.files)} files in {len(levels)} dependency levels",
    )


def plans(settings: Settings) -> list[CallPlan]:
    return [CallPlan("design", (1, 2), (1_500, 3_500), (1_000, 4_000))]


STAGE = BuiltinStage(
    name="architect", title="Architect", reads=(PRD_JSON, PRD_MD), runner=run, plans=plans,
    templates={**prompt_templates("architect", {"schema", "prd_json", "prd_markdown", "max_files", "package"}),
               "templates/design.md.j2": frozenset({"design", "levels"})},
)
