"""Engineer: design -> source files, one LLM call per file, in dependency order.

Files whose dependencies are written are generated concurrently (``jobs`` workers).
Each prompt holds the PRD summary, the design digest, the file's own spec and the
full text of only the files it depends on, so prompt size tracks a file's
dependencies, not the size of the project. Finished files are written and recorded
in state one by one, so a resumed run continues from the first missing file.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import PurePosixPath

from ..artifacts import PRD, Design, FileSpec, dependency_levels
from ..code_checks import design_modules, module_name, repair_code
from ..code_gates import CodeCheck, code_check, cross_module_problems, late_imports
from ..config import Settings
from ..errors import ModelOutputError
from ..events import Event
from ..workspace import sha256_text
from .base import DESIGN_JSON, PRD_JSON, BuiltinStage, CallPlan, StageContext, StageResult, prompt_templates
from .example_gate import examples_met
from .hand_checks import specification_text

EXTRA_FILES = {
    "README.md": "templates/project_readme.md.j2",
    "requirements.txt": "templates/requirements.txt.j2",
    ".gitignore": "templates/gitignore.j2",
}


def file_messages(ctx: StageContext, prd: PRD, design: Design, spec: FileSpec, written: dict[str, str]) -> list[dict[str, str]]:
    """The prompt for one file: only its own dependencies' text goes in."""
    deps = [{"path": d, "purpose": design.file(d).purpose, "content": written[d]} for d in spec.depends_on]
    return ctx.messages("engineer", prd=prd, design=design, file=spec, dependencies=deps)


def ask_source(ctx: StageContext, messages: list[dict[str, str]], path: str, check: CodeCheck | None,
               repair: Callable[[str], str] | None, temperature: float | None = None) -> str:
    """One file from the model through the engineer's gates; when every reply is refused, the last
    one refused only for what is asked once (``CodeCheck.fallback``) is kept rather than the run
    stopped: that question had its one answer, and QA's tests meet what is left."""
    try:
        return ctx.gateway.ask_file(ctx.stage, messages, path, check, repair, temperature=temperature)
    except ModelOutputError:
        if check is not None and check.fallback is not None:
            return check.fallback
        raise


def write_afresh(ctx: StageContext, prd: PRD, design: Design, spec: FileSpec, problem: str,
                 written: dict[str, str] | None = None, temperature: float | None = None) -> str:
    """``spec``'s file written again from scratch: the engineer's own prompt and gates, plus
    ``problem`` (what the earlier version got wrong). For a small model that, asked to edit a
    file, sends it back unchanged. ``written``: the files written so far (else read from disk);
    ``temperature``: the ask's, when a sample unlike the last is wanted.
    Raises ``ModelOutputError`` when no usable file comes back."""
    if written is None:
        written = {d: ctx.read(d) for d in spec.depends_on if ctx.exists(d)}
    else:
        written = {d: written[d] for d in spec.depends_on if d in written}
    messages = file_messages(ctx, prd, design, spec, written)
    messages[-1] = {**messages[-1], "content": messages[-1]["content"] + "\n" + problem.rstrip() + "\n"}
    return ask_source(ctx, messages, spec.path, code_check(design, spec, written, first_write=False),
                      lambda code: repair_code(code, written, spec.path), temperature)


def write_source(ctx: StageContext, prd: PRD, design: Design, spec: FileSpec, written: dict[str, str]) -> str:
    """One Python file through the engineer's gates, then the example gate (``example_gate``):
    written again while it fails examples its specification gives, when generated code may run."""
    content = ask_source(ctx, file_messages(ctx, prd, design, spec, written), spec.path,
                         code_check(design, spec, dict(written)), lambda code: repair_code(code, written, spec.path))
    if not ctx.settings.run_tests:
        return content
    return examples_met(ctx, specification_text(prd, spec), spec.path, content, written,
                        lambda problem, temperature: write_afresh(ctx, prd, design, spec, problem, written, temperature))


def mend_late_imports(ctx: StageContext, prd: PRD, design: Design, written: dict[str, str]) -> None:
    """Each file that imports design modules it does not depend on (``late_imports``: written
    before them, nothing checked its use of them), checked now that all are written, and written
    afresh with their text in its prompt when it gets them wrong; so is a file that gets a file
    written afresh so wrong. Files are written in place."""
    modules = design_modules(design)
    texts = {module_name(p): t for p, t in written.items() if p.endswith(".py")}
    rewritten: set[str] = set()
    for spec in (design.file(p) for level in dependency_levels(design.files) for p in level):
        code = written.get(spec.path, "")
        late = late_imports(code, spec, modules) if spec.path.endswith(".py") else []
        late = late or sorted(rewritten & set(spec.depends_on))
        problems = cross_module_problems(code, spec.path, texts) if late else []
        if not problems:
            continue
        names = ", ".join(late)
        ctx.info(f"{spec.path} uses {names} wrongly (written before it, or written again): writing it afresh",
                 problems=problems)
        problem = (f"An earlier version of {spec.path} used {names} wrongly: {'; '.join(problems)}. "
                   f"The code of {names} is shown above: use only the names it defines, with their signatures.")
        seeing = spec.model_copy(update={"depends_on": list(dict.fromkeys([*spec.depends_on, *late]))})
        try:
            content = write_afresh(ctx, prd, design, seeing, problem, written)
        except ModelOutputError:
            continue  # the file as written: QA's tests meet what is left
        written[spec.path] = texts[module_name(spec.path)] = content
        ctx.write(spec.path, content)
        rewritten.add(spec.path)


def finished_files(ctx: StageContext, design: Design) -> dict[str, str]:
    """Files recorded as done whose bytes on disk still match the record."""
    done: dict[str, str] = {}
    records = ctx.files_written()
    for spec in design.files:
        record = records.get(spec.path)
        if record and ctx.exists(spec.path):
            text = ctx.read(spec.path)
            if sha256_text(text) == record.sha256:
                done[spec.path] = text
    return done


def package_marker(spec: FileSpec) -> str | None:
    """The text of a package's ``__init__.py`` the design gives no interface: a docstring, written
    without a call. Asked for one, the 1.5B roman numeral converter's ``__init__.py`` imported a
    class ``core`` never defined (written before ``core``, so nothing could check it), and every
    test of the package failed to import."""
    if PurePosixPath(spec.path).name != "__init__.py" or spec.interface.strip():
        return None
    purpose = " ".join(spec.purpose.replace('"', "'").split()).rstrip(".") or "The package"
    return f'"""{purpose[0].upper()}{purpose[1:]}."""\n'


def run(ctx: StageContext) -> StageResult:
    prd, design = ctx.load_prd(), ctx.load_design()
    order = [p for level in dependency_levels(design.files) for p in level]
    written = finished_files(ctx, design)
    total = len(order)
    if written:
        ctx.info(f"{len(written)}/{total} files already written; continuing")
    markers = {f.path: text for f in design.files if f.path not in written and (text := package_marker(f)) is not None}
    for path, text in markers.items():
        ctx.write(path, text)
        written[path] = text
    if markers:
        ctx.checkpoint()
    for done, path in enumerate(markers, len(written) - len(markers) + 1):  # counted like any file: 1/N first
        ctx.emit(Event("file_done", ctx.stage, path, {"done": done, "total": total}))

    pending = [p for p in order if p not in written]
    pool = ThreadPoolExecutor(max_workers=ctx.settings.jobs, thread_name_prefix="engineer")
    running: dict[Future[str], str] = {}

    def submit_ready() -> None:
        for path in list(pending):
            if len(running) >= ctx.settings.jobs:
                return
            spec = design.file(path)
            if all(d in written for d in spec.depends_on):
                pending.remove(path)
                if path.endswith(".py"):
                    running[pool.submit(write_source, ctx, prd, design, spec, dict(written))] = path
                else:
                    running[pool.submit(ask_source, ctx, file_messages(ctx, prd, design, spec, written), path, None, None)] = path

    try:
        submit_ready()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            batch = [(running.pop(future), future.result()) for future in finished]
            written.update(batch)
            submit_ready()  # start the next files first: disk and state work overlaps their calls
            for path, content in batch:
                ctx.write(path, content)
            ctx.checkpoint()
            for path, _ in batch:
                done = sum(1 for p in order if p in written)
                ctx.emit(Event("file_done", ctx.stage, path, {"done": done, "total": total}))
    finally:
        # On a stop, don't wait for calls in flight (their replies still land in the cache).
        pool.shutdown(wait=not running, cancel_futures=True)

    mend_late_imports(ctx, prd, design, written)
    extras = {
        path: ctx.render(template, prd=prd, design=design, idea_excerpt=ctx.state.idea.strip().splitlines()[0][:200])
        for path, template in EXTRA_FILES.items()
        if path not in written and not (path == "requirements.txt" and design.language.lower() != "python")
    }
    return StageResult(files=extras, message=f"engineer: write {total} source files\n\n" + "\n".join(f"- {p}" for p in order))


def plans(settings: Settings) -> list[CallPlan]:
    return [CallPlan("source files", (3, settings.max_files * 2), (1_000, 4_000), (400, 3_000))]


STAGE = BuiltinStage(
    name="engineer", title="Engineer", reads=(PRD_JSON, DESIGN_JSON), runner=run, plans=plans,
    templates={**prompt_templates("engineer", {"prd", "design", "file", "dependencies"}),
               **{template: frozenset({"prd", "design", "idea_excerpt"}) for template in EXTRA_FILES.values()}},
)
