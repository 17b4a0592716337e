"""A parsing worker process: parses blocks of an export sent by the ingest, answers batches.

Started as `python -m db.ingest.parse_worker` (not through multiprocessing, so it imports
only what parsing needs, whatever program started the ingest). It reads length-prefixed
pickles on stdin and writes them on stdout: first the set-up, then blocks or chunks of
rows, each answered in order with a ParsedBatch, or stored ads' texts (`ingest reextract`),
answered with their skills; "stop" is answered with its peak memory.
"""

from __future__ import annotations

import pickle
import resource
import struct
import sys
import traceback
from typing import Any, BinaryIO

_HEADER = struct.Struct("<Q")


def send(stream: BinaryIO, message: object) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def receive(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return pickle.loads(payload)


def peak_memory_mb() -> float:
    """This process's peak resident memory since it started its program.

    On Linux, VmHWM: ru_maxrss would also count the pages of the parent it was forked from,
    held for the moment before exec.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> None:
    from db.ingest.batches import BatchParser
    from db.ingest.postings import AdParser
    from db.ingest.roles import RoleMapper

    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    setup = receive(requests)
    if setup is None:
        return
    taxonomy, roles, team_id, skill_slugs, merged = setup
    parser = BatchParser(
        AdParser(taxonomy, RoleMapper(taxonomy, roles)), team_id, skill_slugs, merged
    )
    while (request := receive(requests)) is not None:
        kind = request[0]
        try:
            if kind == "block":
                _, data, file_format, columns, at_file_start = request
                answer: object = parser.parse_block(data, file_format, columns, at_file_start)
            elif kind == "rows":
                answer = parser.parse_rows(request[1])
            elif kind == "texts":
                answer = parser.reread_texts(request[1])
            elif kind == "stop":
                send(answers, ("stopped", peak_memory_mb()))
                return
            else:
                answer = ("error", f"unknown request {kind!r}")
        except Exception:
            answer = ("error", traceback.format_exc())
        send(answers, answer)


if __name__ == "__main__":
    main()
