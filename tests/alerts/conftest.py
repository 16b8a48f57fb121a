from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.alerts.servers import (
    SelfSignedCertificate,
    SmtpRecorder,
    authenticator,
    make_certificate,
    start_smtp,
)
from tests.support.clock import MutableClock


@pytest.fixture
def clock() -> MutableClock:
    from tests.alerts.support import START

    return MutableClock(START)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> SelfSignedCertificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def recorder() -> SmtpRecorder:
    return SmtpRecorder()


@pytest.fixture
def plain_smtp(recorder: SmtpRecorder) -> Iterator[Controller]:
    controller = start_smtp(recorder)
    yield controller
    controller.stop()


@pytest.fixture
def starttls_smtp(
    recorder: SmtpRecorder, certificate: SelfSignedCertificate
) -> Iterator[Controller]:
    """Submission as on port 587: STARTTLS required before anything, then AUTH required."""
    controller = start_smtp(
        recorder,
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    yield controller
    controller.stop()


@pytest.fixture
def implicit_tls_smtp(
    recorder: SmtpRecorder, certificate: SelfSignedCertificate
) -> Iterator[Controller]:
    """As on port 465: TLS from the first byte, then AUTH."""
    controller = start_smtp(
        recorder,
        ssl_context=certificate.server_context(),
        authenticator=authenticator,
        auth_required=True,
        # aiosmtpd cannot tell the socket is already TLS; AUTH is safe here all the same.
        auth_require_tls=False,
    )
    yield controller
    controller.stop()


@pytest.fixture
def tmp_mail_file(tmp_path: Path) -> Path:
    return tmp_path / "mail" / "llmobserve-mail.log"
