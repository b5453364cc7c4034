"""Kafka transport security, the same for every client the monitor makes: TLS (with an optional
client certificate) and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), from CDI_KAFKA_* variables.

A password can come from the environment or from a file (a Docker or Kubernetes secret); it never
appears in a repr, a log line or an error message. ``kafka_python()`` gives kafka-python's client
arguments (topic admin, publisher, range reader, demo), ``faust()`` the worker's ``faust.App``
arguments (aiokafka underneath), ``to_env()`` the variables that start a worker subprocess the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# Every variable this module reads; to_env() writes them all (empty = unset), so a subprocess never
# inherits a stray one from its parent's environment.
VARIABLES = (
    "CDI_KAFKA_SECURITY_PROTOCOL",
    "CDI_KAFKA_SSL_CAFILE",
    "CDI_KAFKA_SSL_CERTFILE",
    "CDI_KAFKA_SSL_KEYFILE",
    "CDI_KAFKA_SSL_CHECK_HOSTNAME",
    "CDI_KAFKA_SASL_MECHANISM",
    "CDI_KAFKA_SASL_USERNAME",
    "CDI_KAFKA_SASL_USERNAME_FILE",
    "CDI_KAFKA_SASL_PASSWORD",
    "CDI_KAFKA_SASL_PASSWORD_FILE",
)


def _invalid(message: str) -> Exception:
    from cdi.settings import SettingsError  # cdi.settings imports this module

    return SettingsError(message)


class KafkaSecurityError(RuntimeError):
    """A client could not connect because of TLS or SASL; the message names the setting to check."""


def _get(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def _secret(name: str) -> tuple[str | None, Path | None]:
    """A value from ``<name>`` or from the file ``<name>_FILE`` (one of the two, not both). A file's
    trailing line break is dropped; nothing else is, and the value is never quoted in an error."""
    direct = os.environ.get(name, "")
    file_name = f"{name}_FILE"
    path = _get(file_name)
    if direct and path:
        raise _invalid(f"{name} and {file_name} are both set: set only one (the file suits Docker/Kubernetes secrets)")
    if path is None:
        return (direct or None), None
    try:
        value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise _invalid(
            f"{file_name}={path!r} cannot be read ({type(exc).__name__}); point it at a UTF-8 text file"
        ) from None
    if not value:
        raise _invalid(f"{file_name}={path!r} is empty")
    return value, Path(path)


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    protocol: str = "PLAINTEXT"  # CDI_KAFKA_SECURITY_PROTOCOL: PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    ssl_cafile: Path | None = None  # CDI_KAFKA_SSL_CAFILE: PEM CA bundle; unset = the system's trusted CAs
    ssl_certfile: Path | None = None  # CDI_KAFKA_SSL_CERTFILE: client certificate (PEM), when the broker asks
    ssl_keyfile: Path | None = None  # CDI_KAFKA_SSL_KEYFILE: its private key (PEM), if not in the certificate file
    ssl_check_hostname: bool = True  # CDI_KAFKA_SSL_CHECK_HOSTNAME
    sasl_mechanism: str | None = None  # CDI_KAFKA_SASL_MECHANISM: PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
    sasl_username: str | None = None  # CDI_KAFKA_SASL_USERNAME or CDI_KAFKA_SASL_USERNAME_FILE
    sasl_password: str | None = field(default=None, repr=False)  # CDI_KAFKA_SASL_PASSWORD
    sasl_username_file: Path | None = None  # where the username was read from, kept for to_env()
    sasl_password_file: Path | None = None  # CDI_KAFKA_SASL_PASSWORD_FILE: where the password was read from

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise _invalid(f"CDI_KAFKA_SECURITY_PROTOCOL={self.protocol!r}: use one of {', '.join(PROTOCOLS)}")
        if not self.uses_ssl and (self.ssl_cafile or self.ssl_certfile or self.ssl_keyfile):
            raise _invalid(
                f"CDI_KAFKA_SSL_* files are set but CDI_KAFKA_SECURITY_PROTOCOL={self.protocol} does not use TLS: "
                "set it to SSL or SASL_SSL, or unset the CDI_KAFKA_SSL_* variables"
            )
        if self.ssl_keyfile and not self.ssl_certfile:
            raise _invalid(
                "CDI_KAFKA_SSL_KEYFILE is set without CDI_KAFKA_SSL_CERTFILE: set the client certificate too"
            )
        sasl_set = self.sasl_mechanism or self.sasl_username or self.sasl_password
        if not self.uses_sasl:
            if sasl_set:
                raise _invalid(
                    f"CDI_KAFKA_SASL_* is set but CDI_KAFKA_SECURITY_PROTOCOL={self.protocol} does not use SASL: "
                    "set it to SASL_SSL (or SASL_PLAINTEXT), or unset the CDI_KAFKA_SASL_* variables"
                )
            return
        if self.sasl_mechanism not in MECHANISMS:
            got = " is not set" if self.sasl_mechanism is None else f"={self.sasl_mechanism!r} is not supported"
            raise _invalid(
                f"CDI_KAFKA_SASL_MECHANISM{got}: CDI_KAFKA_SECURITY_PROTOCOL={self.protocol} needs one of "
                f"{', '.join(MECHANISMS)}"
            )
        if not self.sasl_username:
            raise _invalid(
                f"SASL {self.sasl_mechanism} needs a user name: "
                "set CDI_KAFKA_SASL_USERNAME (or CDI_KAFKA_SASL_USERNAME_FILE)"
            )
        if not self.sasl_password:
            raise _invalid(
                f"SASL {self.sasl_mechanism} needs a password: set CDI_KAFKA_SASL_PASSWORD_FILE to a file holding it "
                "(a Docker or Kubernetes secret) or CDI_KAFKA_SASL_PASSWORD"
            )

    @property
    def uses_ssl(self) -> bool:
        return self.protocol in {"SSL", "SASL_SSL"}

    @property
    def uses_sasl(self) -> bool:
        return self.protocol in {"SASL_PLAINTEXT", "SASL_SSL"}

    @classmethod
    def from_env(cls) -> KafkaSecurity:
        protocol = (_get("CDI_KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT").upper()
        files: dict[str, Path | None] = {}
        for name in ("CDI_KAFKA_SSL_CAFILE", "CDI_KAFKA_SSL_CERTFILE", "CDI_KAFKA_SSL_KEYFILE"):
            raw = _get(name)
            if raw is not None and not Path(raw).is_file():
                raise _invalid(f"{name}={raw!r} is not a readable file; point it at a PEM file")
            files[name] = Path(raw) if raw is not None else None
        check = (_get("CDI_KAFKA_SSL_CHECK_HOSTNAME") or "true").lower()
        if check not in _TRUE | _FALSE:
            raise _invalid(f"CDI_KAFKA_SSL_CHECK_HOSTNAME={check!r}: use true or false")
        mechanism = _get("CDI_KAFKA_SASL_MECHANISM")
        username, username_file = _secret("CDI_KAFKA_SASL_USERNAME")
        password, password_file = _secret("CDI_KAFKA_SASL_PASSWORD")
        security = cls(
            protocol=protocol,
            ssl_cafile=files["CDI_KAFKA_SSL_CAFILE"],
            ssl_certfile=files["CDI_KAFKA_SSL_CERTFILE"],
            ssl_keyfile=files["CDI_KAFKA_SSL_KEYFILE"],
            ssl_check_hostname=check in _TRUE,
            sasl_mechanism=mechanism.upper() if mechanism else None,
            sasl_username=username.strip() if username else None,
            sasl_password=password,
            sasl_username_file=username_file,
            sasl_password_file=password_file,
        )
        if security.uses_ssl:
            security.ssl_context()  # unreadable PEM files fail here, at start, not at the first connection
        return security

    def to_env(self) -> dict[str, str]:
        """Every CDI_KAFKA_* security variable (empty = unset). A password read from a file is passed
        on as the file's path, never as its value."""
        env = dict.fromkeys(VARIABLES, "")
        env["CDI_KAFKA_SECURITY_PROTOCOL"] = self.protocol
        if self.uses_ssl:
            for name, path in (
                ("CDI_KAFKA_SSL_CAFILE", self.ssl_cafile),
                ("CDI_KAFKA_SSL_CERTFILE", self.ssl_certfile),
                ("CDI_KAFKA_SSL_KEYFILE", self.ssl_keyfile),
            ):
                env[name] = str(path) if path is not None else ""
            env["CDI_KAFKA_SSL_CHECK_HOSTNAME"] = "true" if self.ssl_check_hostname else "false"
        if self.uses_sasl:
            env["CDI_KAFKA_SASL_MECHANISM"] = self.sasl_mechanism or ""
            for name, value, path in (
                ("CDI_KAFKA_SASL_USERNAME", self.sasl_username, self.sasl_username_file),
                ("CDI_KAFKA_SASL_PASSWORD", self.sasl_password, self.sasl_password_file),
            ):
                if path is not None:
                    env[f"{name}_FILE"] = str(path)
                else:
                    env[name] = value or ""
        return env

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context the worker's clients use: kafka-python builds the same one from the file
        arguments (TLS 1.2 or later, the CA file or the system's CAs, optional client certificate)."""
        try:
            context = ssl.create_default_context(
                ssl.Purpose.SERVER_AUTH, cafile=str(self.ssl_cafile) if self.ssl_cafile else None
            )
            context.check_hostname = self.ssl_check_hostname
            if self.ssl_certfile is not None:
                context.load_cert_chain(str(self.ssl_certfile), str(self.ssl_keyfile) if self.ssl_keyfile else None)
        except (ssl.SSLError, OSError) as exc:
            files = ", ".join(
                f"{name}={str(path)!r}"
                for name, path in (
                    ("CDI_KAFKA_SSL_CAFILE", self.ssl_cafile),
                    ("CDI_KAFKA_SSL_CERTFILE", self.ssl_certfile),
                    ("CDI_KAFKA_SSL_KEYFILE", self.ssl_keyfile),
                )
                if path is not None
            )
            raise _invalid(
                f"cannot load the TLS files ({files or 'system CAs'}): {exc}; they must be PEM, and an encrypted "
                "private key is not supported"
            ) from None
        return context

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's KafkaAdminClient, KafkaProducer and KafkaConsumer."""
        kwargs: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_ssl:
            kwargs |= {
                "ssl_cafile": str(self.ssl_cafile) if self.ssl_cafile else None,
                "ssl_certfile": str(self.ssl_certfile) if self.ssl_certfile else None,
                "ssl_keyfile": str(self.ssl_keyfile) if self.ssl_keyfile else None,
                "ssl_check_hostname": self.ssl_check_hostname,
            }
        if self.uses_sasl:
            kwargs |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password,
            }
        return kwargs

    def faust(self) -> dict[str, Any]:
        """Keyword arguments for ``faust.App``. faust-streaming 0.15.3 turns ``broker_credentials``
        into aiokafka's security arguments for every consumer and producer it makes (topic creation
        goes through its producer's client): ``SASLCredentials`` gives SASL_SSL when it has an
        ``ssl_context`` and SASL_PLAINTEXT otherwise, with the mechanism passed through (SCRAM included);
        ``SSLCredentials`` gives SSL."""
        if self.protocol == "PLAINTEXT":
            return {}
        import faust

        context = self.ssl_context() if self.uses_ssl else None
        if not self.uses_sasl:
            return {"broker_credentials": faust.SSLCredentials(context)}
        return {
            "broker_credentials": faust.SASLCredentials(
                username=self.sasl_username,
                password=self.sasl_password,
                mechanism=self.sasl_mechanism,
                ssl_context=context,
            )
        }

    def listener_hint(self) -> str:
        """The clause an "unreachable" error adds when TLS or SASL may be the real cause."""
        if self.protocol == "PLAINTEXT":
            return ""
        return f", and that CDI_KAFKA_SECURITY_PROTOCOL ({self.describe()}) and its credentials match the listener"

    def describe(self) -> str:
        """For log lines and errors: what is configured, never a secret."""
        parts = [self.protocol]
        if self.uses_sasl:
            parts.append(f"{self.sasl_mechanism} as {self.sasl_username!r}")
        if self.uses_ssl:
            parts.append(f"CA {self.ssl_cafile or 'system'}")
            if self.ssl_certfile:
                parts.append(f"client certificate {self.ssl_certfile}")
        return ", ".join(parts)

    def explain(self, errors: list[BaseException], bootstrap: str) -> str | None:
        """Why a connection to ``bootstrap`` failed, from the errors kafka-python logged on the way,
        naming what to set; None when nothing points at TLS or SASL (the broker may be down)."""
        texts = []
        for error in errors:
            texts.append((error, str(error)))
            for inner in (error.__cause__, error.__context__):
                if inner is not None:
                    texts.append((inner, str(inner)))
        at = f"Kafka at {bootstrap} ({self.describe()})"
        for error, text in texts:
            if type(error).__name__ == "SaslAuthenticationFailedError":
                return (
                    f"{at} refused the login: {text.split(': ')[-1]}. Check CDI_KAFKA_SASL_USERNAME and "
                    "CDI_KAFKA_SASL_PASSWORD (or _FILE), and that the user exists on the cluster for "
                    f"{self.sasl_mechanism}"
                )
            if "UnsupportedSaslMechanism" in type(error).__name__ + text:
                return (
                    f"{at}: the listener does not offer {self.sasl_mechanism} ({text}); "
                    "set CDI_KAFKA_SASL_MECHANISM to one it does"
                )
        for error, text in texts:
            if isinstance(error, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
                if "mismatch" in text.lower():
                    return (
                        f"{at}: the broker's certificate does not name the host in CDI_KAFKA_BOOTSTRAP ({text}); "
                        "use a host name the certificate lists, or (testing only) CDI_KAFKA_SSL_CHECK_HOSTNAME=false"
                    )
                return (
                    f"{at}: the broker's TLS certificate is not trusted ({text}); set CDI_KAFKA_SSL_CAFILE "
                    "to the PEM certificate of the CA that signed it"
                )
            if "BAD_CERTIFICATE" in text or "CERTIFICATE_REQUIRED" in text or "UNKNOWN_CA" in text:
                return (
                    f"{at}: the broker rejected the client certificate ({text}); set CDI_KAFKA_SSL_CERTFILE (and "
                    "CDI_KAFKA_SSL_KEYFILE) to a certificate the broker's truststore accepts"
                )
        for error, text in texts:
            if self.uses_ssl and (
                isinstance(error, ssl.SSLError) or "WRONG_VERSION_NUMBER" in text or "UNEXPECTED_EOF" in text
            ):
                return (
                    f"{at}: the TLS handshake failed ({text}); does this listener speak TLS? Check that "
                    "CDI_KAFKA_SECURITY_PROTOCOL matches the listener CDI_KAFKA_BOOTSTRAP points at"
                )
            if not self.uses_ssl and "Invalid frame length" in text:
                return (
                    f"{at}: the listener answered with something that is not Kafka's plain protocol, probably TLS; "
                    "set CDI_KAFKA_SECURITY_PROTOCOL to SSL or SASL_SSL and CDI_KAFKA_SSL_CAFILE"
                )
        return None


class _Errors(logging.Handler):
    """Collects the exceptions kafka-python logs while it retries a connection."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        self.errors.extend(arg for arg in args if isinstance(arg, BaseException))


@contextlib.contextmanager
def explained(bootstrap: str, security: KafkaSecurity) -> Iterator[None]:
    """Around the creation of a kafka-python client: kafka-python retries a TLS or SASL failure
    until its bootstrap timeout and then says only "Unable to bootstrap". This raises
    KafkaSecurityError instead, saying what went wrong and which setting to check."""
    from kafka.errors import KafkaError

    collector = _Errors()
    logger = logging.getLogger("kafka")
    logger.addHandler(collector)
    try:
        yield
    except KafkaError as exc:
        reason = security.explain(collector.errors, bootstrap)
        if reason is None:
            raise
        raise KafkaSecurityError(reason) from exc
    finally:
        logger.removeHandler(collector)
