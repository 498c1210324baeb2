"""`bench.run --port-base N`: the servers take N, N+1, …, and a port in use is refused."""

from __future__ import annotations

import socket

import pytest

from bench.options import parse
from bench.servers import Ports, ServerError, free_port


def _consecutive_free_ports(count: int) -> int:
    """A base with `count` free ports from it (probed, so the test does not collide)."""
    for _ in range(50):
        base = free_port()
        if base + count < 65536 and all(Ports(base + i).take("probe") for i in range(count)):
            return base
    raise AssertionError("no run of free ports found")


def test_ports_count_up_from_the_base() -> None:
    base = _consecutive_free_ports(3)
    ports = Ports(base)
    assert [ports.take("hub"), ports.take("hub_off"), ports.take("peer")] == [
        base, base + 1, base + 2
    ]  # fmt: skip
    ports.reset()
    assert ports.take("hub") == base


def test_a_port_in_use_is_refused_naming_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refusal = rf"port {port} \(for hub, from --port-base {port}\) is already in use"
        with pytest.raises(ServerError, match=refusal):
            Ports(port).take("hub")


def test_without_a_base_ports_are_ephemeral() -> None:
    ports = Ports()
    first, second = ports.take("hub"), ports.take("hub_off")
    assert first > 0 and second > 0


def test_the_command_line_reads_port_base_and_workers() -> None:
    options = parse(["--port-base", "5600", "--workers", "1,2"])
    assert options.port_base == 5600
    assert options.workers == [1, 2]
    assert options.primary_workers == 2
    assert parse([]).port_base is None


@pytest.mark.parametrize("argv", [["--port-base", "80"], ["--workers", "0"], ["--workers", ""]])
def test_the_command_line_refuses_bad_values(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse(argv)
