"""Whether the Kafka bootstrap addresses answer, found out in seconds.

Kafka clients retry an unreachable bootstrap for 30 s or more before they give up with a
traceback. Commands check first, within CDI_CONNECT_TIMEOUT (5 s): a plain TCP connection to
each address tells a refused port, an unknown host or silence apart; then a kafka-python client
with the same timeout and the configured TLS/SASL settings must fetch the cluster's metadata, so
a process that accepts connections but does not answer as Kafka (a paused broker, the wrong
port) is reported too, and a TLS or SASL failure names the setting to check.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cdi.kafka_security import KafkaSecurity


class BrokerUnreachable(RuntimeError):
    """No bootstrap address answered; the message names them and what to check."""


def addresses(bootstrap: str) -> list[tuple[str, int]]:
    """``host:port[,host:port]`` as pairs; an IPv6 host is written in brackets, ``[::1]:9092``."""
    pairs = []
    for item in bootstrap.split(","):
        item = item.strip()
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BrokerUnreachable(
                f"CDI_KAFKA_BOOTSTRAP entry {item!r} is not host:port; give e.g. kafka-1:9092,kafka-2:9092"
            )
        pairs.append((host.strip("[]"), int(port)))
    return pairs


def check_reachable(
    bootstrap: str,
    timeout: float = 5.0,
    waiting: Callable[[float], None] | None = None,
) -> None:
    """Return once any bootstrap address accepts a TCP connection; raise BrokerUnreachable after
    ``timeout`` seconds of refusals, unknown hosts or silence. ``waiting(seconds_left)`` is called
    between attempts (for a spinner)."""
    pairs = addresses(bootstrap)
    deadline = time.monotonic() + timeout
    reasons: dict[str, str] = {}
    while True:
        for host, port in pairs:
            left = deadline - time.monotonic()
            try:
                with socket.create_connection((host, port), timeout=max(0.2, min(left, 2.0))):
                    return
            except socket.gaierror:
                reasons[f"{host}:{port}"] = "unknown host"
            except TimeoutError:
                reasons[f"{host}:{port}"] = "no answer"
            except OSError as exc:
                reasons[f"{host}:{port}"] = (exc.strerror or type(exc).__name__).lower()
        left = deadline - time.monotonic()
        if left <= 0:
            found = "; ".join(f"{address}: {why}" for address, why in reasons.items())
            raise BrokerUnreachable(
                f"cannot reach Kafka at {bootstrap} within {timeout:g} s ({found}); check "
                "CDI_KAFKA_BOOTSTRAP, that the broker is running and that this machine may connect to it"
            )
        if waiting is not None:
            waiting(left)
        time.sleep(min(0.25, left))


def check_answers(bootstrap: str, security: KafkaSecurity, timeout: float = 5.0) -> None:
    """Return once the cluster's metadata was fetched from a bootstrap address (what every client
    does first); raise BrokerUnreachable when none answers within ``timeout`` seconds, or
    KafkaSecurityError when TLS or SASL failed."""
    import threading

    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    from cdi.kafka_security import explained

    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            with explained(bootstrap, security):
                KafkaAdminClient(
                    bootstrap_servers=bootstrap,
                    client_id="cdi-reach",
                    bootstrap_timeout_ms=int(timeout * 1000),
                    request_timeout_ms=max(1000, int(timeout * 1000)),
                    **security.kafka_python(),
                ).close()
            outcome.append(None)
        except BaseException as exc:  # handed to the main thread below
            outcome.append(exc)

    # The client waits in the main thread in ways a Ctrl-C can be lost in; here the main thread
    # only waits in short joins, so Ctrl-C always ends the command (the daemon thread is dropped).
    check = threading.Thread(target=attempt, name="cdi-broker-check", daemon=True)
    check.start()
    while check.is_alive():
        check.join(0.1)
    failure = outcome[0] if outcome else None
    if isinstance(failure, KafkaError):
        raise BrokerUnreachable(
            f"{bootstrap} accepts connections but no Kafka broker answered within {timeout:g} s "
            f"({type(failure).__name__}); is the broker paused or overloaded, or is this another service's port? "
            f"Check CDI_KAFKA_BOOTSTRAP{security.listener_hint()}"
        ) from None
    if failure is not None:
        raise failure
