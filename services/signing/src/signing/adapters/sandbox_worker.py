"""A verification sandbox process: reads PDFs from stdin, answers JSON reports, under an address-space limit.

Run by signing.adapters.sandbox as `python -m signing.adapters.sandbox_worker`. Frames
both ways are an 8-byte big-endian length and the payload. The process answers one
file at a time and exits after running out of memory, so the next file gets a fresh one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import sys
from pathlib import Path
from typing import BinaryIO

FRAME = struct.Struct(">Q")


def read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(FRAME.size)
    if len(header) < FRAME.size:
        return None
    (size,) = FRAME.unpack(header)
    data = stream.read(size)
    return data if len(data) == size else None


def write_frame(stream: BinaryIO, payload: dict) -> None:
    data = json.dumps(payload).encode()
    stream.write(FRAME.pack(len(data)) + data)
    stream.flush()


def _address_space_in_use() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def limit_address_space(extra_mb: int) -> None:
    """Cap this process at its current size plus `extra_mb`: a hostile file fails here, not the host."""
    in_use = _address_space_in_use()
    if not in_use:
        return  # not Linux: the wall-clock limit still applies
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = in_use + extra_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m signing.adapters.sandbox_worker")
    parser.add_argument("--trust", type=Path, action="append", default=[])
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--decode-limit-mb", type=int, default=0, help="0: no decoding limit of pyHanko's own")
    args = parser.parse_args(argv)

    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    # Import everything a check uses before the limit, so only the file's own cost counts.
    import pyhanko.sign.diff_analysis
    import pyhanko.sign.validation  # noqa: F401
    from pyhanko.keys import load_cert_from_pemder

    from signing.documents.inspect import Refused, inspect_pdf

    roots = [load_cert_from_pemder(path) for path in args.trust if path.exists()]
    decode_limit = args.decode_limit_mb or None
    limit_address_space(args.memory_mb)
    write_frame(replies, {"ready": True, "trust_roots": len(roots)})

    while (pdf := read_frame(requests)) is not None:
        recycle = False
        try:
            reply: dict = {"result": inspect_pdf(pdf, roots, decode_limit_mb=decode_limit)}
        except Refused as refused:
            reply = {"error": {"code": refused.code, "message": refused.message}}
        except MemoryError:
            pdf = b""
            recycle = True
            reply = {
                "error": {
                    "code": "memory_limit",
                    "message": f"checking the file needs more than {args.memory_mb} MB of memory; it is refused",
                }
            }
        write_frame(replies, reply)
        if recycle:
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
