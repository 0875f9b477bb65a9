"""``swcompany serve``: uvicorn in front of the app, and a private Redis for a one-machine setup.

The real deployment points ``REDIS_URL`` at a Redis with ``appendonly yes`` (see
docker-compose.yml). Without one, ``serve`` starts ``redis-server`` from PATH with the
same persistence in ``~/.swcompany/redis`` and says how to start workers against it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Callable, Iterator

from ..errors import ConfigError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def private_redis(data_dir: Path, port: int | None = None) -> Iterator[str]:
    """Run ``redis-server`` on loopback with append-only persistence; yields its URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise ConfigError("no REDIS_URL is set and redis-server is not on PATH",
                          hint="install Redis (apt-get install redis-server) or set REDIS_URL=redis://host:6379/0")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir),
                             "--appendonly", "yes", "--save", "", "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for_redis(url, proc)
        yield url
    finally:
        stop_processes([proc])


def stop_processes(procs: list[subprocess.Popen], timeout: float = 10.0) -> None:
    """SIGTERM each (in order) so it can save its state, then SIGKILL what is still running after ``timeout``."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_for_redis(url: str, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    deadline = time.monotonic() + timeout
    client = Redis.from_url(url)
    while True:
        try:
            client.ping()
            return
        except RedisConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ConfigError(f"the private redis-server did not start on {url}") from None
            time.sleep(0.05)


def run_server(host: str, port: int, redis_url: str | None, say: Callable[[str], None],
               cleanup_interval: float = 5.0) -> None:
    """Serve until interrupted; a private Redis lives as long as the server."""
    import uvicorn

    from .app import create_app
    from .auth import generated_token, load_tokens
    from .settings import load_serve_settings

    settings = load_serve_settings(redis_url)
    tokens = load_tokens()
    if not tokens:
        tokens = generated_token()
        say(f"no SWCOMPANY_SERVE_TOKENS: generated a token for 'admin' (this run only): {next(iter(tokens))}")

    def serve(url: str) -> None:
        from dataclasses import replace

        app = create_app(replace(settings, redis_url=url), tokens, cleanup_interval=cleanup_interval)
        say(f"swcompany API on http://{host}:{port} (OpenAPI: /docs); workspaces in {settings.workspaces}")
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=True)

    if settings.redis_url:
        serve(settings.redis_url)
        return
    with private_redis(Path("~/.swcompany/redis").expanduser()) as url:
        say(f"no REDIS_URL: started a private redis-server at {url} (appendonly); "
            f"start workers with: REDIS_URL={url} swcompany worker")
        serve(url)
