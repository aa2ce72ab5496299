"""Forward 127.0.0.1:PORT here to 127.0.0.1:PORT inside another process's network namespace.

OctoPrint runs under `unshare -n` (its own network namespace, only `lo` up) so that its
discovery plugin's mDNS/SSDP announcements reach no network at all. Home Assistant and
the tests live in the machine's namespace: this forwarder listens there, then joins
OctoPrint's namespace (`setns`) and connects to it there. A socket stays in the
namespace it was created in, so the listening socket keeps serving the machine's
loopback.

    python tests/e2e/octoprint_forward.py --pid PID --port PORT

Standalone (no imports from the test package): it is started as a process of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
import time


def _netns(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/ns/net")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError, OSError:
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _serve(listener: socket.socket, port: int) -> None:
    async def handle(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", port
            )
        except OSError:  # OctoPrint not listening (yet): the client retries
            client_writer.close()
            return
        await asyncio.gather(
            _pipe(client_reader, upstream_writer),
            _pipe(upstream_reader, client_writer),
        )

    server = await asyncio.start_server(handle, sock=listener)
    print(f"forwarding 127.0.0.1:{port} into the namespace", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Listen here, join the target's network namespace, forward every connection."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))  # in our (the machine's) namespace
    listener.listen(64)
    listener.setblocking(False)

    # wait until the target has left our namespace (`unshare -n` then exec)
    ours = _netns(os.getpid())
    deadline = time.monotonic() + 30
    while _netns(args.pid) == ours:
        if time.monotonic() > deadline:
            sys.exit(f"process {args.pid} never entered a network namespace of its own")
        time.sleep(0.05)
    fd = os.open(f"/proc/{args.pid}/ns/net", os.O_RDONLY)
    os.setns(fd, os.CLONE_NEWNET)  # new sockets are created in OctoPrint's namespace
    os.close(fd)
    asyncio.run(_serve(listener, args.port))


if __name__ == "__main__":
    main()
