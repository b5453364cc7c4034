"""Kafka security settings without a broker: parsing, validation, secrets from files, and the
arguments each client library gets (the integration tests are in tests/brokers/test_kafka_security.py)."""

from __future__ import annotations

import ssl
from pathlib import Path

import faust
import pytest
import trustme
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from kafka.errors import KafkaConnectionError, SaslAuthenticationFailedError

from cdi.kafka_security import VARIABLES, KafkaSecurity
from cdi.settings import Settings, SettingsError

PASSWORD = "pa55-Not-In-Any-Message"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    """Sets CDI_KAFKA_* variables on a clean slate (none inherited from the caller's shell)."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    client = ca.issue_cert("cdi-client")
    files = {"ca": folder / "ca.pem", "cert": folder / "client.pem", "key": folder / "client.key"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    client.cert_chain_pems[0].write_to_path(str(files["cert"]))
    client.private_key_pem.write_to_path(str(files["key"]))
    return files


def sasl_ssl(pki: dict[str, Path], mechanism: str = "SCRAM-SHA-256") -> KafkaSecurity:
    return KafkaSecurity(
        protocol="SASL_SSL",
        ssl_cafile=pki["ca"],
        sasl_mechanism=mechanism,
        sasl_username="cdi",
        sasl_password=PASSWORD,
    )


def test_default_is_plaintext_and_changes_no_client(env) -> None:
    security = KafkaSecurity.from_env()
    assert security == KafkaSecurity()
    assert security.kafka_python() == {"security_protocol": "PLAINTEXT"}
    assert security.faust() == {}
    assert Settings.from_env().security == KafkaSecurity()


def test_sasl_ssl_from_env_with_password_file(env, pki, tmp_path: Path) -> None:
    secret = tmp_path / "kafka-password"
    secret.write_text(PASSWORD + "\n")  # as `kubectl create secret --from-file` or an editor leaves it
    env(
        CDI_KAFKA_SECURITY_PROTOCOL="sasl_ssl",
        CDI_KAFKA_SSL_CAFILE=str(pki["ca"]),
        CDI_KAFKA_SASL_MECHANISM="scram-sha-512",
        CDI_KAFKA_SASL_USERNAME="cdi",
        CDI_KAFKA_SASL_PASSWORD_FILE=str(secret),
    )
    security = KafkaSecurity.from_env()
    assert security.protocol == "SASL_SSL"
    assert security.sasl_password == PASSWORD
    assert PASSWORD not in repr(security) and PASSWORD not in repr(Settings.from_env())
    assert security.kafka_python() == {
        "security_protocol": "SASL_SSL",
        "ssl_cafile": str(pki["ca"]),
        "ssl_certfile": None,
        "ssl_keyfile": None,
        "ssl_check_hostname": True,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "cdi",
        "sasl_plain_password": PASSWORD,
    }
    # A worker subprocess gets the file's path, not the password.
    passed = security.to_env()
    assert passed["CDI_KAFKA_SASL_PASSWORD_FILE"] == str(secret)
    assert passed["CDI_KAFKA_SASL_PASSWORD"] == ""
    assert PASSWORD not in passed.values()


def test_settings_to_env_round_trips_security(env, pki, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(bootstrap="broker:9093", security=sasl_ssl(pki, "PLAIN"))
    # An inherited stray variable must not survive: to_env sets every security variable.
    env(CDI_KAFKA_SSL_CERTFILE="/nonexistent.pem")
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env().security == settings.security


def test_faust_credentials_reach_aiokafka_as_configured(pki) -> None:
    # faust-streaming 0.15.3 hands broker_credentials to aiokafka through this function, for its
    # consumers and producers alike.
    for mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
        [credentials] = sasl_ssl(pki, mechanism).faust().values()
        assert isinstance(credentials, faust.SASLCredentials)
        auth = credentials_to_aiokafka_auth(credentials)
        assert {k: v for k, v in auth.items() if k != "ssl_context"} == {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": mechanism,
            "sasl_plain_username": "cdi",
            "sasl_plain_password": PASSWORD,
        }
        assert auth["ssl_context"].verify_mode == ssl.CERT_REQUIRED and auth["ssl_context"].check_hostname
        assert PASSWORD not in repr(credentials)

    plaintext = KafkaSecurity(protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="u", sasl_password="p")
    auth = credentials_to_aiokafka_auth(plaintext.faust()["broker_credentials"])
    assert auth["security_protocol"] == "SASL_PLAINTEXT" and auth["ssl_context"] is None

    mutual = KafkaSecurity(protocol="SSL", ssl_cafile=pki["ca"], ssl_certfile=pki["cert"], ssl_keyfile=pki["key"])
    auth = credentials_to_aiokafka_auth(mutual.faust()["broker_credentials"])
    assert auth["security_protocol"] == "SSL" and isinstance(auth["ssl_context"], ssl.SSLContext)
    # An SSL client needs no SASL arguments, and kafka-python gets the same files.
    assert mutual.kafka_python()["ssl_certfile"] == str(pki["cert"])
    assert "sasl_mechanism" not in mutual.kafka_python()


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"CDI_KAFKA_SECURITY_PROTOCOL": "TLS"}, "use one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
        ({"CDI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "CDI_KAFKA_SASL_MECHANISM is not set"),
        (
            {"CDI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "CDI_KAFKA_SASL_MECHANISM": "GSSAPI"},
            "CDI_KAFKA_SASL_MECHANISM='GSSAPI' is not supported",
        ),
        (
            {"CDI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "CDI_KAFKA_SASL_MECHANISM": "PLAIN"},
            "set CDI_KAFKA_SASL_USERNAME",
        ),
        (
            {
                "CDI_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "CDI_KAFKA_SASL_MECHANISM": "PLAIN",
                "CDI_KAFKA_SASL_USERNAME": "u",
            },
            "set CDI_KAFKA_SASL_PASSWORD_FILE",
        ),
        ({"CDI_KAFKA_SECURITY_PROTOCOL": "SSL", "CDI_KAFKA_SASL_USERNAME": "u"}, "does not use SASL"),
        ({"CDI_KAFKA_SASL_MECHANISM": "PLAIN"}, "CDI_KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use SASL"),
        ({"CDI_KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"}, "CDI_KAFKA_SSL_CAFILE='/nonexistent/ca.pem' is not a"),
        ({"CDI_KAFKA_SSL_CHECK_HOSTNAME": "maybe"}, "use true or false"),
        (
            {"CDI_KAFKA_SASL_PASSWORD": PASSWORD, "CDI_KAFKA_SASL_PASSWORD_FILE": "/run/secrets/kafka"},
            "are both set",
        ),
        ({"CDI_KAFKA_SASL_PASSWORD_FILE": "/nonexistent/secret"}, "cannot be read (FileNotFoundError)"),
    ],
)
def test_invalid_settings_say_what_to_set_and_never_quote_the_password(env, variables, expected) -> None:
    env(**variables)
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    assert expected in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_tls_file_checks(env, pki, tmp_path: Path) -> None:
    env(CDI_KAFKA_SECURITY_PROTOCOL="PLAINTEXT", CDI_KAFKA_SSL_CAFILE=str(pki["ca"]))
    with pytest.raises(SettingsError, match="does not use TLS"):
        KafkaSecurity.from_env()
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate")
    env(CDI_KAFKA_SECURITY_PROTOCOL="SSL", CDI_KAFKA_SSL_CAFILE=str(not_pem))
    with pytest.raises(SettingsError, match=r"cannot load the TLS files .*they must be PEM"):
        KafkaSecurity.from_env()
    with pytest.raises(SettingsError, match="CDI_KAFKA_SSL_KEYFILE is set without CDI_KAFKA_SSL_CERTFILE"):
        KafkaSecurity(protocol="SSL", ssl_keyfile=pki["key"])
    empty = tmp_path / "empty"
    empty.write_text("\n")
    env(CDI_KAFKA_SSL_CAFILE="", CDI_KAFKA_SECURITY_PROTOCOL="SASL_SSL", CDI_KAFKA_SASL_PASSWORD_FILE=str(empty))
    with pytest.raises(SettingsError, match="is empty"):
        KafkaSecurity.from_env()


def test_connection_failures_are_explained(pki) -> None:
    security = sasl_ssl(pki)
    login = SaslAuthenticationFailedError(
        "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256"
    )
    said = security.explain([KafkaConnectionError("socket disconnected"), login], "b:9093")
    assert said is not None and "refused the login" in said and "CDI_KAFKA_SASL_PASSWORD" in said
    assert PASSWORD not in said

    untrusted = KafkaConnectionError("Handshake failed: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    said = security.explain([untrusted], "b:9093")
    assert said is not None and "not trusted" in said and "CDI_KAFKA_SSL_CAFILE" in said

    mismatch = ssl.SSLCertVerificationError(1, "certificate verify failed: Hostname mismatch")
    said = security.explain([mismatch], "b:9093")
    assert said is not None and "does not name the host" in said

    said = security.explain(
        [KafkaConnectionError("[SSL: SSLV3_ALERT_BAD_CERTIFICATE] sslv3 alert bad certificate")], "b"
    )
    assert said is not None and "CDI_KAFKA_SSL_CERTFILE" in said

    said = KafkaSecurity().explain([KafkaConnectionError("Invalid frame length: 352518912")], "b:9093")
    assert said is not None and "SSL or SASL_SSL" in said

    # A broker that is down is not a security problem: the caller's own error stands.
    assert security.explain([KafkaConnectionError("Connection refused")], "b:9093") is None
