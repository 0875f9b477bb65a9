"""Containment for model-written code on Linux: the bubblewrap command line and its limits.

Why each piece is there:

- **Filesystem.** The root is an empty tmpfs, remounted read-only at the end. Only what a
  Python test run needs is bound, read-only: ``/usr`` (with the ``/bin``, ``/lib*`` links),
  a few ``/etc`` files, our interpreter's prefixes and any ``sys.path`` entry outside them
  (an editable install's ``src``). Never the user's home: ``HOME`` and ``/tmp`` are a private,
  size-capped tmpfs. The workspace is the only writable bind; its ``.git`` and ``.swcompany``
  (state, cache, lock, venv) are bound read-only over it.
- **Namespaces.** ``--unshare-all`` (user, mount, PID, network, IPC, UTS, cgroup): no network
  but a private loopback, its own PID namespace with a fresh ``/proc`` (so our process and its
  ``environ`` are invisible), ``--new-session`` (no terminal injection), ``--die-with-parent``
  (``kill -9`` of swcompany kills the sandbox's init, and with it the whole namespace), all
  capabilities dropped. The dependency install step alone shares the network.
- **Limits**, set by a tiny launcher *inside* the sandbox (so they count only its processes):
  ``RLIMIT_AS`` (memory), ``RLIMIT_FSIZE`` (file size), ``RLIMIT_CPU`` (CPU seconds) and
  ``RLIMIT_NPROC``. The kernel ignores ``RLIMIT_NPROC`` for uid 0, even mapped through a user
  namespace, and CI runs as root; so for root the process count is capped by a ``pids``
  cgroup when one can be created (``ProcessCap``), else by a watchdog that counts the
  processes of the sandbox's PID namespace every poll and kills the sandbox above the cap.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SANDBOX_HOME = "/tmp/home"
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group", "nsswitch.conf",
             "hosts", "ssl", "ca-certificates", "pki", "alternatives", "mime.types")
ETC_NETWORK_FILES = ("resolv.conf", "gai.conf", "host.conf", "pip.conf", "xdg/pip")
SYSTEM_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
BWRAP_ENV = "SWCOMPANY_BWRAP"  # the bubblewrap binary to use (tests point it at a missing one)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed command."""

    memory_bytes: int = 2 * 1024**3
    file_bytes: int = 64 * 1024**2
    processes: int = 128
    cpu_seconds: int = 300
    tmp_bytes: int = 512 * 1024**2


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""


def bwrap_binary() -> str | None:
    named = os.environ.get(BWRAP_ENV)
    if named:
        return named if os.path.isfile(named) and os.access(named, os.X_OK) else None
    return shutil.which("bwrap")


def availability() -> Availability:
    """Can bubblewrap run here? Probed once per process (per binary) with a real sandbox."""
    if not sys.platform.startswith("linux"):
        return Availability(False, f"not Linux ({sys.platform})")
    binary = bwrap_binary()
    if binary is None:
        return Availability(False, f"{os.environ.get(BWRAP_ENV) or 'bwrap'} not found")
    return _probe(binary)


@functools.cache
def _probe(binary: str) -> Availability:
    cmd = [binary, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Availability(False, f"{binary} cannot run: {exc}")
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[0]
        return Availability(False, f"{binary} cannot create a sandbox: {first[:200]}")
    return Availability(True)


def _ro_binds(paths: list[Path]) -> list[str]:
    args: list[str] = []
    for path in paths:
        args += ["--ro-bind", str(path), str(path)]
    return args


def interpreter_paths() -> list[Path]:
    """Our Python's prefixes plus ``sys.path`` entries outside them and outside /usr (e.g. editable src)."""
    home, cwd = Path.home().resolve(), Path.cwd().resolve()
    found: list[Path] = []
    for raw in {sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path}:
        if not raw:
            continue
        path = Path(raw).resolve()
        # `python -m swcompany` puts the current folder on sys.path: never expose it, home or "/".
        if not path.exists() or path in (Path("/"), home, cwd) or path in home.parents or path in cwd.parents:
            continue
        if path.is_file():  # a zip on sys.path
            path = path.parent
        found.append(path)
    kept = [p for p in sorted(set(found)) if not any(q != p and q in p.parents for q in found)]
    return [p for p in kept if Path("/usr") not in [p, *p.parents]]


def _pip_paths(environ: dict[str, str]) -> list[Path]:
    """Local folders pip's config and ``PIP_*`` variables name (find-links, file:// indexes)."""
    text = " ".join(environ.values())
    for conf in (Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf")):
        with contextlib.suppress(OSError):
            text += " " + conf.read_text(errors="replace")
    found = {Path(m) for m in re.findall(r"(?:file://)?(/[\w./+-]+)", text)}
    return sorted(p for p in found if p.exists() and not str(p).startswith(("/proc", "/sys", "/dev")))


def command(binary: str, cmd: list[str], *, cwd: Path, workspace: Path, limits: Limits, network: bool,
            writable: list[Path], readonly: list[Path], environ: dict[str, str]) -> list[str]:
    """The full ``bwrap ... launcher ... cmd`` argument list."""
    args = [binary, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if network:
        args.append("--share-net")
    args += ["--size", str(limits.tmp_bytes), "--tmpfs", "/tmp", "--dir", SANDBOX_HOME,
             "--proc", "/proc", "--dev", "/dev", "--ro-bind", "/usr", "/usr"]
    for name in SYSTEM_DIRS:
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES + (ETC_NETWORK_FILES if network else ()):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    extra_ro = interpreter_paths() + (_pip_paths(environ) if network else [])
    args += _ro_binds([p for p in extra_ro if workspace not in [p, *p.parents] and p not in workspace.parents])
    args += ["--bind", str(workspace), str(workspace)]
    args += _ro_binds([p for p in (workspace / ".git", workspace / ".swcompany") if p.exists()])
    for path in writable:
        args += ["--bind", str(path), str(path)]
    args += _ro_binds(readonly)
    args += ["--remount-ro", "/", "--chdir", str(cwd)]
    return args + launcher(cmd, limits, set_nproc=True)


_LAUNCHER = (
    "import os,resource as r,sys\n"
    "for name,v in zip(('RLIMIT_AS','RLIMIT_FSIZE','RLIMIT_CPU','RLIMIT_NPROC'),sys.argv[1:5]):\n"
    " v=int(v)\n"
    " if v>0: r.setrlimit(getattr(r,name),(v,v+1 if name=='RLIMIT_CPU' else v))\n"
    "os.execvp(sys.argv[6],sys.argv[6:])\n"
)


def launcher(cmd: list[str], limits: Limits, *, set_nproc: bool) -> list[str]:
    """Our interpreter (isolated, no site) sets the rlimits, then becomes ``cmd``."""
    nproc = limits.processes if set_nproc else 0
    return [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(limits.memory_bytes), str(limits.file_bytes),
            str(limits.cpu_seconds), str(nproc), "--", *cmd]


# --- the process cap for root: a pids cgroup, else a watchdog --------------------------------


def pids_cgroup(limit: int) -> Path | None:
    """A fresh ``pids`` cgroup capped at ``limit`` tasks, when we may create one (v1 or v2)."""
    candidates = [Path("/sys/fs/cgroup/pids")]
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                candidates.append(Path("/sys/fs/cgroup") / line[3:].lstrip("/"))
    for base in candidates:
        if not (base / "cgroup.procs").exists() or not os.access(base, os.W_OK):
            continue
        if base != candidates[0] and "pids" not in _read(base / "cgroup.subtree_control"):
            continue
        _remove_stale_cgroups(base)
        group = base / f"swcompany-{os.getpid()}-{os.urandom(4).hex()}"
        try:
            group.mkdir()
            (group / "pids.max").write_text(str(limit))
            return group
        except OSError:
            with contextlib.suppress(OSError):
                group.rmdir()
    return None


def _remove_stale_cgroups(base: Path) -> None:
    """Empty groups a ``kill -9``'d swcompany left behind (its pid is in the name)."""
    for group in base.glob("swcompany-*"):
        with contextlib.suppress(ValueError, IndexError, OSError):
            pid = int(group.name.split("-")[1])
            if not Path(f"/proc/{pid}").exists():
                group.rmdir()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def join_cgroup(group: Path) -> None:
    """Runs in the child before exec: everything it starts is counted in the cgroup."""
    (group / "cgroup.procs").write_text(str(os.getpid()))


def remove_cgroup(group: Path) -> None:
    for _ in range(50):  # tasks take a moment to leave after SIGKILL
        try:
            group.rmdir()
            return
        except OSError:
            with contextlib.suppress(OSError):
                for pid in _read(group / "cgroup.procs").split():
                    os.kill(int(pid), 9)
            import time

            time.sleep(0.02)


def namespace_of_child(parent_pid: int) -> int | None:
    """Inode of the PID namespace of bwrap's first child (the sandbox's init)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        stat = _read(Path(entry.path) / "stat")
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(parent_pid):
            with contextlib.suppress(OSError):
                return os.stat(f"/proc/{entry.name}/ns/pid").st_ino
    return None


def count_in_namespace(ns_inode: int) -> int:
    """Processes whose PID namespace is ``ns_inode`` (the watchdog's measure)."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry.name}/ns/pid").st_ino == ns_inode:
                    count += 1
    return count
