"""Start the real `lassolabel serve` in a subprocess on 127.0.0.1 (for crash and e2e tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`with ServerProcess(data_dir, env={...}) as server: httpx.get(server.url + "/api/health")`.

    `checkout`: run that source tree's code (a peer revision in a bench) instead of this one."""

    def __init__(
        self,
        data_dir: Path,
        *,
        env: dict[str, str] | None = None,
        log: Path | None = None,
        checkout: Path | None = None,
    ):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Single-user mode unless the caller asks for LASSOLABEL_AUTH=required.
        self.env = {
            **os.environ,
            "LASSOLABEL_AUTH": "none",
            "LASSOLABEL_DATA_DIR": str(data_dir),
            **(env or {}),
            **({"PYTHONPATH": str(checkout)} if checkout else {}),
        }
        # `python -m` puts its working directory first on sys.path, ahead of PYTHONPATH.
        self.cwd = checkout
        self.log_path = log or data_dir.parent / f"server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 240) -> ServerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            cwd=self.cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._log.close()

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        return self.process.returncode

    @property
    def shut_down_cleanly(self) -> bool:
        """Uvicorn re-raises SIGTERM after a graceful shutdown, so -15 is a clean exit too."""
        assert self.process is not None
        log = self.log_path.read_text(errors="replace")
        return self.process.returncode in (0, -signal.SIGTERM) and "shutdown complete" in log

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
