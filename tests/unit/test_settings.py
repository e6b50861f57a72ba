"""Settings from the environment: the lease a dead worker's work waits out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.config import Settings, SettingsError


def test_the_lease_defaults_to_five_minutes_and_is_read_from_lease_seconds() -> None:
    assert Settings.from_env({}).lease == timedelta(minutes=5)
    assert Settings.from_env({"LEASE_SECONDS": "20"}).lease == timedelta(seconds=20)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("soon", "LEASE_SECONDS must be a number"),
        ("0.5", "LEASE_SECONDS must be from 1 to 86400"),
        ("1e9", "LEASE_SECONDS must be from 1 to 86400"),
        ("nan", "LEASE_SECONDS must be a finite number"),
        ("inf", "LEASE_SECONDS must be a finite number"),
    ],
)
def test_a_bad_lease_is_refused_naming_the_variable(value: str, words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        Settings.from_env({"LEASE_SECONDS": value})


def test_every_number_setting_refuses_nan_and_infinity() -> None:
    with pytest.raises(SettingsError, match="GOOGLE_RETRY_DEADLINE must be a finite number"):
        Settings.from_env({"GOOGLE_RETRY_DEADLINE": "inf"})


def test_the_google_backend_needs_an_https_public_base_url() -> None:
    # Drive refuses a push channel to anything but https (push.webhookUrlNotHttps).
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL must be an https"):
        Settings.from_env(
            {"WORKSPACE_BACKEND": "google", "PUBLIC_BASE_URL": "http://handover.example"}
        )
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL must be an https"):
        Settings.from_env({"WORKSPACE_BACKEND": "google"})  # the http://127.0.0.1 default
    ok = Settings.from_env(
        {"WORKSPACE_BACKEND": "google", "PUBLIC_BASE_URL": "https://handover.example"}
    )
    assert ok.public_base_url == "https://handover.example"
    # The loopback Google and the tests may use http.
    fake = Settings.from_env(
        {
            "WORKSPACE_BACKEND": "google",
            "GOOGLE_API_ENDPOINT": "http://127.0.0.1:9000/",
            "GOOGLE_AUTH": "anonymous",
        }
    )
    assert fake.public_base_url == "http://127.0.0.1:8080"
    assert Settings.from_env({}).public_base_url == "http://127.0.0.1:8080"  # local backend


def test_the_public_base_url_defaults_to_this_machine_on_port() -> None:
    # bin/serve passes PORT to gunicorn; the links the service writes follow it.
    assert Settings.from_env({}).public_base_url == "http://127.0.0.1:8080"
    assert Settings.from_env({"PORT": "8093"}).public_base_url == "http://127.0.0.1:8093"
    assert Settings.from_env({"PORT": "8093", "PUBLIC_BASE_URL": ""}).public_base_url == (
        "http://127.0.0.1:8093"
    )


def test_a_public_base_url_given_wins_over_port() -> None:
    settings = Settings.from_env({"PORT": "8093", "PUBLIC_BASE_URL": "https://handover.example/"})
    assert settings.public_base_url == "https://handover.example"


@pytest.mark.parametrize("value", ["eighty", "0", "70000", "-1"])
def test_a_bad_port_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="PORT must be a whole number from 1 to 65535"):
        Settings.from_env({"PORT": value})


def test_emails_come_from_a_display_name_read_from_mail_from_name() -> None:
    assert Settings.from_env({}).mail_from_name == "Agency Handover"
    named = Settings.from_env({"MAIL_FROM_NAME": "  Acme Agency\n Handover "})
    assert named.mail_from_name == "Acme Agency Handover"
    with pytest.raises(SettingsError, match="MAIL_FROM_NAME must be a name of 1 to 100"):
        Settings.from_env({"MAIL_FROM_NAME": "x" * 101})
