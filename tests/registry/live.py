"""A real `celltrial serve` (gunicorn) on a fresh data folder with the small study and
users imported by the CLI: for tests that need separate processes and threads."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx

CELLTRIAL = str(Path(sys.executable).parent / "celltrial")
START_TIMEOUT_S = 300  # the CI machine is shared: imports and migrations can be slow


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    env: dict

    def token(self, username: str, password: str) -> str:
        answer = httpx.post(
            f"{self.url}/api/auth/token", json={"username": username, "password": password}
        )
        answer.raise_for_status()
        return answer.json()["token"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def fresh_postgres(url: str):
    """A new PostgreSQL database beside DATABASE_URL's, dropped afterwards."""
    import psycopg

    name = f"celltrial_live_{secrets.token_hex(4)}"
    admin = urlunparse(urlparse(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: list[str], env: dict, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CELLTRIAL, *args], env=env, input=stdin, capture_output=True, text=True, check=True
    )


@contextmanager
def live_server(
    data_dir: Path, study: Path, users: list[tuple[str, str, list[str]]], password: str
):
    env = {k: v for k, v in os.environ.items() if k != "CELLTRIAL_SECRET_KEY"}
    env["CELLTRIAL_DATA_DIR"] = str(data_dir)
    with fresh_postgres(env["DATABASE_URL"]) if env.get("DATABASE_URL") else _none() as database:
        if database:
            env["DATABASE_URL"] = database
        run(["registry", "import", str(study)], env)
        for name, role, sites in users:
            site_args = [a for s in sites for a in ("--site", s)]
            run(
                ["user", "add", name, "--role", role, "--study", "small-study", *site_args],
                env,
                stdin=password + "\n",
            )
        port = free_port()
        log = (data_dir / "server.log").open("w")
        server = subprocess.Popen(
            [CELLTRIAL, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, server, data_dir)
            yield LiveServer(url, data_dir, env)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()


@contextmanager
def _none():
    yield None


def wait_until_up(
    url: str, server: subprocess.Popen, data_dir: Path, try_timeout: float = 2.0
) -> None:
    """The server's first answer to /api/openapi.json (each try waits `try_timeout` s: the
    document takes seconds on a loaded machine); its log when it stops first."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError((data_dir / "server.log").read_text())
        try:
            if httpx.get(f"{url}/api/openapi.json", timeout=try_timeout).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the server did not answer in {START_TIMEOUT_S} s")
