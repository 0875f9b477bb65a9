"""The only place that writes files or git in a workspace.

Guarantees: paths stay inside the root (no ``..``, no absolute, no symlink escape),
every write is atomic (temp file + fsync + rename), each stage is one commit with
trailers, run metadata lives in ``.swcompany/`` (kept out of git), and a lock stops
two processes from working on one workspace at once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from .artifacts import RunState, Usage
from .errors import UsageError, WorkspaceBusyError
from .paths import UnsafePathError, safe_relpath

META_DIR = ".swcompany"
STATE_FILE = "state.json"
LLM_LOG = "llm.jsonl"
GIT_FALLBACK_IDENTITY = ("swcompany", "swcompany@localhost")
# Nothing planted in .git/config or .git/hooks may run when swcompany calls git.
SAFE_GIT_CONFIG = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false")
_GIT_ENV_ALLOW = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
                  "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "XDG_CONFIG_HOME", "GIT_EXEC_PATH")


class GitError(UsageError):
    """A git command failed in the workspace."""

    def __init__(self, code: int, args: tuple[str, ...], stderr: str):
        super().__init__(f"git {' '.join(args[:2])} failed (exit {code}): {stderr.splitlines()[-1] if stderr else ''}")
        self.stderr = stderr


def git_env() -> dict[str, str]:
    """git's environment from an allow-list: locale, PATH, HOME (for ~/.gitconfig) and identity only."""
    from .redact import sandbox_env

    env = sandbox_env()
    env.update({k: v for k, v in os.environ.items() if k in _GIT_ENV_ALLOW})
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def slugify(text: str, max_len: int = 40) -> str:
    """A folder-safe name from free text: ascii, lowercase, dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_len:
            break
        slug = candidate
    return slug or "project"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=1)
def file_mode() -> int:
    """``0o666`` less the umask: what ``open()`` would give (``mkstemp`` always makes 0600).

    Read from /proc where possible: setting the umask to read it would race with threads.
    """
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write via a temp file in the same folder, fsync, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fchmod(fh.fileno(), file_mode())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def trailers(stage: str, model: str, usage: "Usage") -> dict[str, str]:
    """The trailers of a stage commit (``git log --format='%(trailers)'`` reads them back)."""
    return {"Swcompany-Stage": stage, "Swcompany-Model": model,
            "Swcompany-Tokens": str(usage.tokens), "Swcompany-Cost": f"{usage.cost:.6f}"}


def parse_trailers(message: str) -> dict[str, str]:
    """Our trailers of a commit message (the last paragraph's ``Swcompany-*: value`` lines)."""
    return dict(re.findall(r"^(Swcompany-[A-Za-z]+): (\S+)$", message, re.M))


class Workspace:
    """A generated project's folder: files, git history and run metadata."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.meta = self.root / META_DIR

    # --- creation ------------------------------------------------------------------

    @classmethod
    def create(cls, root: Path, *, force: bool = False) -> "Workspace":
        """Make a new workspace folder with an empty git repository."""
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise UsageError(f"output path {root} exists and is not a folder")
        if root.exists() and any(root.iterdir()) and not force:
            raise UsageError(f"workspace {root} already exists", hint="pick another --name, or pass --force to reuse it")
        try:
            root.mkdir(parents=True, exist_ok=True)
            ws = cls(root)
            ws.meta.mkdir(exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create workspace {root}: {exc.strerror or exc}") from None
        ws._init_git()
        return ws

    @classmethod
    def open(cls, root: Path) -> "Workspace":
        """Open an existing workspace made by swcompany."""
        ws = cls(root)
        if not Path(root).exists():
            raise UsageError(f"{root} does not exist", hint="`swcompany status FOLDER` lists the workspaces in a folder")
        if not (ws.meta / STATE_FILE).is_file():
            raise UsageError(f"{root} is not a swcompany workspace (no {META_DIR}/{STATE_FILE})")
        return ws

    @classmethod
    def unused(cls, root: Path) -> bool:
        """A workspace whose run failed before its first commit: only .git and run data, no history.

        Running the same command again reuses it rather than leaving it behind and adding ``-2``.
        """
        try:
            names = {p.name for p in Path(root).iterdir()}
        except OSError:
            return False
        if names - {".git", META_DIR} or not (Path(root) / META_DIR / STATE_FILE).is_file():
            return False
        return not cls(root)._head_valid()

    @classmethod
    def enclosing(cls, folder: Path) -> Path | None:
        """The workspace ``folder`` is in (or is), if any: a new one there would nest a repository."""
        for candidate in [Path(folder).resolve(), *Path(folder).resolve().parents]:
            if (candidate / META_DIR / STATE_FILE).is_file():
                return candidate
        return None

    def _init_git(self) -> None:
        if not (self.root / ".git").exists():
            self.git("init", "-q")
        exclude = self.root / ".git" / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        existing = exclude.read_text() if exclude.exists() else ""
        if f"/{META_DIR}/" not in existing:
            exclude.write_text(existing + f"\n# swcompany run data (state, logs, cache) stays out of history\n/{META_DIR}/\n")

    # --- files ---------------------------------------------------------------------

    def path(self, rel: str) -> Path:
        """Absolute path for a workspace-relative one, refusing escapes through symlinks."""
        clean = safe_relpath(rel)
        target = self.root / clean
        resolved = target.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise UnsafePathError(f"path escapes the workspace through a symlink: {rel!r}")
        return target

    def write(self, rel: str, text: str) -> str:
        """Atomically write a text file; returns its sha256."""
        atomic_write(self.path(rel), text)
        return sha256_text(text)

    def read(self, rel: str) -> str:
        return self.path(rel).read_text(encoding="utf-8")

    def exists(self, rel: str) -> bool:
        return self.path(rel).is_file()

    # --- git ---------------------------------------------------------------------------

    def git(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
        """Run git in the workspace, unable to run anything the workspace (or generated code) planted.

        Hooks and fsmonitor are off (``--no-verify`` alone would still run post-commit), and the
        environment is built from an allow-list, so a command git does run never sees a key.
        """
        cmd = ["git", *SAFE_GIT_CONFIG, *args]
        proc = subprocess.run(cmd, cwd=self.root, env={**git_env(), **(env or {})}, capture_output=True,
                              stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise GitError(proc.returncode, args, proc.stderr.decode("utf-8", "replace").strip())
        return proc.stdout.decode("utf-8", "replace")

    def commit_stage(self, stage: str, message: str, trailers: dict[str, str], *, allow_empty: bool = True) -> str:
        """Commit everything in the work tree as one stage commit; returns the sha."""
        self._clear_stale_git_lock()
        body = message.rstrip() + "\n\n" + "\n".join(f"{k}: {v}" for k, v in trailers.items()) + "\n"
        self.git("add", "-A")
        message_file = self.meta / "COMMIT_MSG"
        atomic_write(message_file, body)
        args = ["--no-verify", "-q", "-F", str(message_file)]
        if allow_empty:
            args.insert(0, "--allow-empty")
        self.git("-c", "commit.gpgsign=false", "commit", *args, env=self._git_identity_env())
        return self.git("rev-parse", "HEAD").strip()

    def _clear_stale_git_lock(self) -> None:
        """A run killed inside ``git commit`` leaves index.lock; we hold the workspace lock, so it is ours."""
        stale = self.root / ".git" / "index.lock"
        if stale.exists():
            stale.unlink(missing_ok=True)

    def _git_identity_env(self) -> dict[str, str]:
        """Use the user's git identity when configured, else a neutral one (works in CI)."""
        name = self.git("config", "user.name", check=False).strip()
        email = self.git("config", "user.email", check=False).strip()
        env: dict[str, str] = {}
        for role in ("AUTHOR", "COMMITTER"):
            if not os.environ.get(f"GIT_{role}_NAME") and not name:
                env[f"GIT_{role}_NAME"] = GIT_FALLBACK_IDENTITY[0]
            if not os.environ.get(f"GIT_{role}_EMAIL") and not email:
                env[f"GIT_{role}_EMAIL"] = GIT_FALLBACK_IDENTITY[1]
        return env

    def _head_valid(self) -> bool:
        return bool(self.git("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False).strip())

    def stage_commits(self) -> dict[str, str]:
        """Map stage name -> sha of its newest commit, read from the trailers."""
        if not self._head_valid():
            return {}
        found: dict[str, str] = {}
        for record in self.git("log", "-z", "--format=%H%n%B").split("\0"):
            sha, _, message = record.strip("\n").partition("\n")
            stage = parse_trailers(message).get("Swcompany-Stage")
            if stage and stage not in found:
                found[stage] = sha
        return found

    def has_commit(self, sha: str) -> bool:
        """True when ``sha`` is a commit reachable from HEAD."""
        if not re.fullmatch(r"[0-9a-fA-F]{4,64}", sha or ""):
            return False
        proc = subprocess.run(["git", *SAFE_GIT_CONFIG, "merge-base", "--is-ancestor", sha, "HEAD"], cwd=self.root,
                              env=git_env(), capture_output=True, stdin=subprocess.DEVNULL)
        return proc.returncode == 0

    def head_stage(self) -> str | None:
        """The stage named in HEAD's trailer, if HEAD is a stage commit."""
        if not self._head_valid():
            return None
        return parse_trailers(self.git("log", "-1", "--format=%B", "HEAD")).get("Swcompany-Stage")

    # --- state, log, lock ------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        return self.meta / STATE_FILE

    def load_state(self) -> RunState:
        try:
            return RunState.model_validate_json(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(f"{self.root} has no {META_DIR}/{STATE_FILE}") from None
        except (ValueError, OSError) as exc:
            first = str(exc).splitlines()[0]
            raise UsageError(
                f"{self.state_path} is corrupt: {first}",
                hint="restore it from a backup, or start a new run; the files and git history are untouched",
            ) from None

    def save_state(self, state: RunState) -> None:
        """Write state atomically; error texts (which quote providers and exceptions) are scrubbed first."""
        from .artifacts import utcnow
        from .redact import scrub

        for record in state.stages.values():
            record.error = scrub(record.error) if record.error else record.error
        state.last_error = scrub(state.last_error) if state.last_error else state.last_error
        state.updated_at = utcnow()
        atomic_write(self.state_path, state.model_dump_json(indent=2))

    def append_log(self, record: dict) -> None:
        """Append one JSON line to ``.swcompany/llm.jsonl`` (a single write, so lines stay whole)."""
        self.meta.mkdir(exist_ok=True)
        line = json.dumps(record, sort_keys=True) + "\n"
        with open(self.meta / LLM_LOG, "a", encoding="utf-8") as fh:
            fh.write(line)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an OS file lock for the run; the OS frees it if the process dies."""
        from filelock import FileLock, Timeout

        self.meta.mkdir(exist_ok=True)
        lock = FileLock(str(self.meta / "lock"), timeout=0)
        owner = self.meta / "lock.pid"
        try:
            lock.acquire()
        except Timeout:
            pid = owner.read_text().strip() if owner.exists() else "?"
            raise WorkspaceBusyError(
                f"workspace {self.root} is in use by another swcompany run (pid {pid})",
                hint="wait for it to finish; a lock left by a dead process frees itself",
            ) from None
        try:
            owner.write_text(str(os.getpid()))
            yield
        finally:
            with contextlib.suppress(OSError):
                owner.unlink()
            lock.release()

