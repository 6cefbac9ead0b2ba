"""The verification sandbox: uploaded PDFs are read in separate processes with a clock and a memory cap.

A hostile file (a decompression bomb, a parser trap) can exhaust at most one worker
process: that worker is killed after `timeout_s` or fails its allocation under RLIMIT_AS,
the member gets a named 422, and a fresh worker replaces it. The service, its event
loop and its sealing pool never parse a file that came from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from signing.adapters.sandbox_worker import FRAME

log = logging.getLogger(__name__)
_MAX_REPLY = 1024 * 1024


class SandboxRefusal(Exception):
    """The file was not verified; `code` and `message` go to the member as they are."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SandboxBusy(Exception):
    """Every worker stayed busy for longer than the caller may wait."""


class _Worker:
    """One sandbox process and its pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.ready = False

    @classmethod
    async def launch(cls, argv: list[str]) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        return cls(process)

    async def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        header = await self.process.stdout.readexactly(FRAME.size)
        (size,) = FRAME.unpack(header)
        if size > _MAX_REPLY:
            raise ValueError(f"sandbox reply of {size} bytes")
        return json.loads(await self.process.stdout.readexactly(size))

    async def wait_ready(self, timeout_s: float) -> None:
        if not self.ready:
            hello = await asyncio.wait_for(self._read(), timeout_s)
            if not hello.get("ready"):
                raise ValueError(f"unexpected greeting from the sandbox: {hello}")
            self.ready = True

    async def call(self, pdf: bytes, timeout_s: float) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(FRAME.pack(len(pdf)) + pdf)
        await self.process.stdin.drain()
        return await asyncio.wait_for(self._read(), timeout_s)

    async def close(self, grace_s: float = 2.0) -> None:
        process = self.process
        if process.returncode is None and process.stdin is not None:
            process.stdin.close()  # end of input: the worker exits on its own
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), grace_s)
        await self.kill()

    async def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


class VerificationSandbox:
    """`await sandbox.inspect(pdf)` -> the report data of signing.documents.inspect, or SandboxRefusal."""

    def __init__(
        self,
        trust_roots: Sequence[Path],
        *,
        workers: int = 1,
        timeout_s: float = 10.0,
        memory_mb: int = 512,
        decode_limit_mb: int | None = 64,
        queue_timeout_s: float = 30.0,
        start_timeout_s: float = 60.0,
    ) -> None:
        self.trust_roots = list(trust_roots)
        self.workers = workers
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.decode_limit_mb = decode_limit_mb
        self.queue_timeout_s = queue_timeout_s
        self.start_timeout_s = start_timeout_s
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        self._replacing: set[asyncio.Task[None]] = set()
        self._closed = False
        self.replaced = 0  # workers killed or lost and started anew, for tests and metrics

    def _argv(self) -> list[str]:
        argv = [sys.executable, "-m", "signing.adapters.sandbox_worker", "--memory-mb", str(self.memory_mb)]
        argv += ["--decode-limit-mb", str(self.decode_limit_mb or 0)]
        for root in self.trust_roots:
            argv += ["--trust", str(root)]
        return argv

    async def _spawn(self) -> None:
        worker = await _Worker.launch(self._argv())
        self._all.add(worker)
        if self._closed:
            await self._retire(worker)
            return
        self._idle.put_nowait(worker)

    async def start(self) -> None:
        """Launch the workers; they finish importing in the background and are awaited on first use."""
        self._closed = False
        for _ in range(self.workers):
            await self._spawn()

    async def wait_ready(self) -> None:
        """Wait until every worker has finished starting (for tests and warm starts)."""
        await asyncio.gather(*(worker.wait_ready(self.start_timeout_s) for worker in list(self._all)))

    async def _retire(self, worker: _Worker) -> None:
        self._all.discard(worker)
        await worker.kill()

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker whose state is unknown and start another, without holding up the caller."""
        self.replaced += 1

        async def replace() -> None:
            await self._retire(worker)
            if not self._closed:
                await self._spawn()

        task = asyncio.get_running_loop().create_task(replace())
        self._replacing.add(task)
        task.add_done_callback(self._replacing.discard)

    async def inspect(self, pdf: bytes) -> dict[str, Any]:
        """Check `pdf` in a worker within `timeout_s` (not counting a worker's start-up)."""
        if self._closed:
            raise RuntimeError("verification sandbox used after stop()")
        try:
            worker = await asyncio.wait_for(self._idle.get(), self.queue_timeout_s)
        except TimeoutError as exc:
            raise SandboxBusy(f"every verification worker stayed busy for {self.queue_timeout_s:.0f} s") from exc
        try:
            await worker.wait_ready(self.start_timeout_s)
        except (TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            log.error("verification worker %s did not start: %r", worker.process.pid, exc)
            self._replace(worker)
            raise SandboxBusy("the verification worker could not start; try again shortly") from exc
        healthy = False
        try:
            reply = await worker.call(pdf, self.timeout_s)
            healthy = reply.get("error", {}).get("code") != "memory_limit"
        except TimeoutError as exc:
            log.warning("verification worker %s exceeded %g s; replacing it", worker.process.pid, self.timeout_s)
            raise SandboxRefusal(
                "too_slow",
                f"checking the file took longer than {self.timeout_s:g} s; it is refused (is it built to be slow?)",
            ) from exc
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            log.warning("verification worker %s failed (%r); replacing it", worker.process.pid, exc)
            raise SandboxRefusal(
                "unprocessable_pdf", "the file made the checker fail; it cannot be verified as it is"
            ) from exc
        finally:
            # Anything short of a clean answer (timeout, crash, cancellation, memory
            # exhaustion) leaves the worker in an unknown state: it is replaced.
            if healthy:
                self._idle.put_nowait(worker)
            else:
                self._replace(worker)
        if "error" in reply:
            raise SandboxRefusal(reply["error"]["code"], reply["error"]["message"])
        return reply["result"]

    async def stop(self) -> None:
        self._closed = True
        for task in list(self._replacing):
            with contextlib.suppress(Exception):
                await task
        workers = list(self._all)
        self._all.clear()
        await asyncio.gather(*(w.close() for w in workers), return_exceptions=True)
        while not self._idle.empty():
            self._idle.get_nowait()
