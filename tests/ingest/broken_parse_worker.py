"""A stand-in for the parsing worker (`python -m tests.ingest.broken_parse_worker`): it reads
the set-up, then fails on the first request the way BROKEN_WORKER says."""

from __future__ import annotations

import os
import sys

from db.ingest.parse_worker import _HEADER, receive, send


def main() -> None:
    kind = os.environ["BROKEN_WORKER"]
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    receive(requests)  # the set-up
    receive(requests)  # the first block
    if kind == "garbage":  # a whole frame, of what is not a pickle
        answers.write(_HEADER.pack(5) + b"\nnope")
        answers.flush()
    elif kind == "error":
        send(answers, ("error", "Traceback (most recent call last):\nValueError: bad block"))
    # "exit": stops without answering


if __name__ == "__main__":
    main()
