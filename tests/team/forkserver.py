"""A fork server for crash tests: import the app once, then start each real uvicorn server
with fork(), so 20 SIGKILL-and-restart cycles do not cost 20 cold imports of torch.

Run as `python -m tests.team.forkserver LOG_DIR` with LASSOLABEL_* in the environment; write
`serve PORT` lines to its stdin, read the child's pid back. Children are killed by the test
(SIGKILL) and reaped here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _serve(port: int, log_dir: Path) -> None:
    import uvicorn

    from app.config import Settings
    from app.main import create_app

    log = os.open(log_dir / f"server-{port}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    settings = Settings(host="127.0.0.1", port=port)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def main() -> None:
    import app.main  # noqa: F401  (the expensive part, done once before any fork)

    log_dir = Path(sys.argv[1])
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        while True:  # reap killed children
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        if command == "serve":
            pid = os.fork()
            if pid == 0:
                try:
                    _serve(int(argument), log_dir)
                finally:
                    os._exit(0)
            print(pid, flush=True)


class ForkServer:
    """Test side: `with ForkServer(env, log_dir) as forks: pid = forks.serve(port)`."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.team.forkserver", str(log_dir)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def serve(self, port: int) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"serve {port}\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(30)
        self.process.stdout.close()


if __name__ == "__main__":
    main()
