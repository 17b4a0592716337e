"""Export files parsed in order: by worker processes (a pickled, length-framed exchange over
pipes) for big inputs, else in this process; blocks where rows allow, else row by row."""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import sys
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

from db.importers.document import InvalidImport
from db.ingest.batches import BatchParser, ParsedBatch
from db.ingest.parse_worker import _HEADER
from db.ingest.readers import (
    FileRefused,
    NoBlockBoundary,
    ReadStats,
    Resume,
    block_start,
    detect_format,
    read_blocks,
    read_rows,
)
from db.ingest.summary import IngestSummary, ProgressHook

logger = logging.getLogger(__name__)

# Rows parsed together when a file is read row by row.
BATCH_SIZE = 5_000


def check_files(paths: Iterable[Path]) -> None:
    """Refuse the whole run, before anything is written, when a file is not an export."""
    problems = []
    for path in paths:
        try:
            detect_format(path)
        except FileRefused as refused:
            problems.append(refused.problem)
    if problems:
        raise InvalidImport(problems)


def rows_with_progress(
    path: Path,
    summary: IngestSummary,
    stats: ReadStats,
    required: tuple[str, ...],
    on_progress: ProgressHook | None,
    resume: Resume | None = None,
) -> Iterator[Any]:
    size = path.stat().st_size
    hook = (
        None
        if on_progress is None
        else (lambda done: on_progress(path, done, size, summary.rows + stats.rows))
    )
    return read_rows(
        path,
        required=required,
        on_problem=summary.note_problem,
        stats=stats,
        on_progress=hook,
        resume=resume,
    )


# Blocks of about this size go to the parsers: a few thousand ads each.
BLOCK_BYTES = 1 << 20
_WORKER_MODULE = "db.ingest.parse_worker"
_ANSWER_BUFFER = 64 << 20
_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])


def _file_size(path: Path) -> int:
    return path.stat().st_size


class ParsingFailed(RuntimeError):
    """A parsing worker stopped, answered what cannot be read, or failed on a block; the run
    stops (its transaction stores nothing). The message is one line for the person running it."""


class ParsingPool:
    """Parses blocks in order: in worker processes for big inputs (the work is CPU-bound),
    else in this process. Requests go to the workers in turn, so answers come back in the
    order they were asked for."""

    def __init__(self, parser: BatchParser, setup: tuple[Any, ...], workers: int) -> None:
        self.parser = parser
        self.setup = setup
        self.workers = workers
        self._processes: list[asyncio.subprocess.Process] = []
        # A worker's process, or the answer already worked out here.
        self._pending: deque[asyncio.subprocess.Process | object] = deque()
        self._turn = 0
        self.worker_peaks_mb: list[float] = []

    @property
    def capacity(self) -> int:
        """Requests worth keeping in flight: enough to keep every worker busy."""
        return 2 * self.workers if self.workers else 1

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    async def start(self) -> None:
        if not self.workers:
            return
        environment = dict(os.environ)
        # The worker imports this project however the ingest was started.
        environment["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PROJECT_ROOT, environment.get("PYTHONPATH")) if p
        )
        for _ in range(self.workers):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                _WORKER_MODULE,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=environment,
                # Answers are read as they come, whole: a worker blocked on a full pipe
                # while this process waits to send it more would never finish.
                limit=_ANSWER_BUFFER,
            )
            self._processes.append(process)
            await self._send(process, self.setup)

    async def _send(self, process: asyncio.subprocess.Process, message: object) -> None:
        assert process.stdin is not None
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        process.stdin.write(_HEADER.pack(len(payload)) + payload)
        await process.stdin.drain()

    async def _receive(self, process: asyncio.subprocess.Process) -> Any:
        assert process.stdout is not None
        try:
            (size,) = _HEADER.unpack(await process.stdout.readexactly(_HEADER.size))
            return pickle.loads(await process.stdout.readexactly(size))
        except asyncio.IncompleteReadError:
            raise ParsingFailed("a parsing worker stopped unexpectedly") from None
        except (pickle.UnpicklingError, EOFError, ValueError, AttributeError, ImportError) as bad:
            logger.debug("unreadable answer from a parsing worker: %r", bad)
            raise ParsingFailed("a parsing worker sent an answer that cannot be read") from None

    async def submit(self, request: tuple[Any, ...]) -> None:
        if not self._processes:
            self._pending.append(self._parse_here(request))
            return
        process = self._processes[self._turn]
        self._turn = (self._turn + 1) % len(self._processes)
        await self._send(process, request)
        self._pending.append(process)

    def _parse_here(self, request: tuple[Any, ...]) -> object:
        if request[0] == "block":
            _, data, file_format, columns, at_file_start = request
            return self.parser.parse_block(data, file_format, columns, at_file_start)
        if request[0] == "texts":
            return self.parser.reread_texts(request[1])
        return self.parser.parse_rows(request[1])

    async def result(self) -> ParsedBatch:
        """The parsed batch of the oldest request still in flight."""
        answer = await self.answer()
        assert isinstance(answer, ParsedBatch)
        return answer

    async def answer(self) -> object:
        """The answer to the oldest request still in flight, whatever its kind."""
        waiting = self._pending.popleft()
        if not isinstance(waiting, asyncio.subprocess.Process):
            return waiting
        answer = await self._receive(waiting)
        if isinstance(answer, tuple) and answer[0] == "error":
            logger.debug("a parsing worker failed:\n%s", answer[1])
            lines = str(answer[1]).strip().splitlines() or ["no detail"]
            raise ParsingFailed(f"a parsing worker failed ({lines[-1][:200]})")
        return answer

    async def close(self) -> None:
        processes, self._processes = self._processes, []
        for process in processes:
            try:
                while self._pending and self._pending[0] is process:
                    self._pending.popleft()
                    await self._receive(process)
                await self._send(process, ("stop",))
                answer = await self._receive(process)
                if isinstance(answer, tuple) and answer[0] == "stopped":
                    self.worker_peaks_mb.append(float(answer[1]))
            except (ParsingFailed, ConnectionError, BrokenPipeError):
                pass
            finally:
                if process.stdin is not None:
                    process.stdin.close()
                if process.returncode is None:
                    try:
                        await asyncio.wait_for(process.wait(), timeout=10)
                    except TimeoutError:
                        process.kill()
                        await process.wait()
        self._pending.clear()


async def parsed_batches(
    path: Path,
    parsing: ParsingPool,
    summary: IngestSummary,
    *,
    block_bytes: int = BLOCK_BYTES,
    on_progress: ProgressHook | None = None,
) -> AsyncIterator[tuple[ParsedBatch, int]]:
    """A file's batches in order, with the number of lines before each (block) batch.

    Blocks are read while earlier ones are parsed. If a block did not end at a row
    boundary, or none can be found, the rest of the file is read row by row.
    """
    try:
        file_format = detect_format(path)
        start = block_start(path, file_format, ("title",))
    except FileRefused as refused:
        raise InvalidImport([refused.problem]) from None
    size = _file_size(path)
    resume = start
    if start is not None:
        blocks = read_blocks(path, file_format, start.offset, block_bytes)
        in_flight: deque[tuple[int, int]] = deque()  # offset and size of each block
        line_base = start.line
        more = True
        resume = None
        while True:
            while more and parsing.in_flight < parsing.capacity:
                try:
                    offset, data = next(blocks)
                except StopIteration:
                    more = False
                    break
                except NoBlockBoundary as stuck:
                    more = False
                    resume = Resume(stuck.offset, -1, start.columns)
                    break
                await parsing.submit(("block", data, file_format, start.columns, offset == 0))
                in_flight.append((offset, len(data)))
            if not in_flight:
                break
            batch = await parsing.result()
            offset, length = in_flight.popleft()
            if not batch.clean:
                # Its rows are not trusted: drop it and what follows, read on by rows.
                while in_flight:
                    in_flight.popleft()
                    await parsing.result()
                resume = Resume(offset, line_base, start.columns)
                break
            batch.first_line, batch.last_line = line_base + 1, line_base + batch.lines
            yield batch, line_base
            line_base += batch.lines
            if on_progress is not None:
                on_progress(path, offset + length, size, summary.rows)
        if resume is not None and resume.line < 0:
            resume = Resume(resume.offset, line_base, resume.columns)
        if resume is None:
            if on_progress is not None:
                on_progress(path, size, size, summary.rows)
            return
    async for batch in _parsed_by_rows(path, parsing, summary, resume, on_progress):
        yield batch, 0


async def _parsed_by_rows(
    path: Path,
    parsing: ParsingPool,
    summary: IngestSummary,
    resume: Resume | None,
    on_progress: ProgressHook | None,
) -> AsyncIterator[ParsedBatch]:
    """The row-by-row reader's rows, parsed in chunks (lines as in the file)."""
    stats = ReadStats()
    rows = rows_with_progress(path, summary, stats, ("title",), on_progress, resume)
    chunk: list[tuple[int, dict[str, object]]] = []
    spans: deque[tuple[int, int]] = deque()  # first and last line of each chunk in flight

    def parsed(batch: ParsedBatch) -> ParsedBatch:
        batch.first_line, batch.last_line = spans.popleft()
        return batch

    try:
        for row in rows:
            chunk.append((row.line, row.fields))
            if len(chunk) >= BATCH_SIZE:
                await parsing.submit(("rows", chunk))
                spans.append((chunk[0][0], chunk[-1][0]))
                chunk = []
                if parsing.in_flight >= parsing.capacity:
                    yield parsed(await parsing.result())
        if chunk:
            await parsing.submit(("rows", chunk))
            spans.append((chunk[0][0], chunk[-1][0]))
        while parsing.in_flight:
            yield parsed(await parsing.result())
    except FileRefused as refused:
        raise InvalidImport([refused.problem]) from None
    summary.rows += stats.rows
    summary.bad_rows += stats.bad_rows
