from __future__ import annotations

from datetime import timedelta

import pytest

from domain.access import KEY_PERMISSIONS, ROLE_PERMISSIONS, Permission, Role
from domain.accounts import (
    InvalidAccount,
    Membership,
    check_password,
    csrf_matches,
    csrf_token_for,
    digest,
    may_set_role,
    normalize_email,
    owners_left,
    sign_in_retry_at,
)
from domain.tenants import KeyKind
from tests.auth.fakes import START


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "no-at-sign",
        "@example.com",
        "a@",
        "a@localhost",
        "a@.com",
        "a@example.",
        "a b@example.com",
        "a@exa mple.com",
        "a@b@example.com",
        "<script>@example.com",
        "a\n@example.com",
        "x" * 250 + "@example.com",
    ],
)
def test_hostile_or_malformed_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAccount) as error:
        normalize_email(raw)
    assert error.value.field == "email"


def test_emails_are_trimmed_and_lowercased() -> None:
    assert normalize_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 10"),
        ("x" * 257, "at most 256"),
        ("ada@example.com", "not be the email"),
    ],
)
def test_password_policy(password: str, message: str) -> None:
    with pytest.raises(InvalidAccount) as error:
        check_password(password, "ada@example.com")
    assert message in error.value.message


def test_a_long_enough_password_passes() -> None:
    check_password("correct horse battery", "ada@example.com")


def test_digest_is_sha256_hex_and_not_the_secret() -> None:
    assert digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_csrf_token_is_bound_to_its_session() -> None:
    token = csrf_token_for("session-one")
    assert csrf_matches("session-one", token)
    assert not csrf_matches("session-two", token)
    assert not csrf_matches("session-one", None)
    assert not csrf_matches("session-one", "")
    assert token != "session-one"


def test_role_matrix_reads_as_documented() -> None:
    everything = frozenset(Permission)
    assert ROLE_PERMISSIONS[Role.OWNER] == everything
    assert ROLE_PERMISSIONS[Role.ADMIN] == everything - {Permission.MANAGE_TENANT}
    assert ROLE_PERMISSIONS[Role.MEMBER] == {
        Permission.INGEST,
        Permission.READ_SPEND,
        Permission.MANAGE_CAPS,
    }
    assert ROLE_PERMISSIONS[Role.VIEWER] == {Permission.READ_SPEND}
    assert KEY_PERMISSIONS[KeyKind.INGEST] == {Permission.INGEST}
    assert Permission.MANAGE_MEMBERS not in KEY_PERMISSIONS[KeyKind.MANAGEMENT]
    assert Permission.MANAGE_TENANT not in KEY_PERMISSIONS[KeyKind.MANAGEMENT]


@pytest.mark.parametrize(
    ("actor", "current", "new", "allowed"),
    [
        (Role.OWNER, Role.OWNER, Role.VIEWER, True),
        (Role.OWNER, None, Role.OWNER, True),
        (Role.ADMIN, None, Role.OWNER, False),
        (Role.ADMIN, Role.MEMBER, Role.OWNER, False),
        (Role.ADMIN, Role.OWNER, Role.MEMBER, False),
        (Role.ADMIN, Role.OWNER, None, False),
        (Role.ADMIN, Role.MEMBER, Role.ADMIN, True),
        (Role.ADMIN, Role.ADMIN, None, True),
        (Role.MEMBER, Role.VIEWER, Role.MEMBER, False),
        (Role.VIEWER, None, Role.VIEWER, False),
    ],
)
def test_who_may_set_which_role(
    actor: Role, current: Role | None, new: Role | None, allowed: bool
) -> None:
    assert may_set_role(actor, current, new) is allowed


def test_owners_left_counts_the_change() -> None:
    members = [
        Membership("t", "u1", Role.OWNER, START),
        Membership("t", "u2", Role.ADMIN, START),
    ]
    assert owners_left(members, "u1", Role.ADMIN) == 0
    assert owners_left(members, "u1", None) == 0
    assert owners_left(members, "u2", Role.OWNER) == 2
    assert owners_left(members, "u2", None) == 1


def test_sign_in_delay_doubles_after_the_free_failures_and_is_capped() -> None:
    def failures(n: int) -> list:
        return [START + timedelta(seconds=i) for i in range(n)]

    assert sign_in_retry_at(failures(4)) is None
    assert sign_in_retry_at(failures(5)) == START + timedelta(seconds=4 + 1)
    assert sign_in_retry_at(failures(6)) == START + timedelta(seconds=5 + 2)
    assert sign_in_retry_at(failures(9)) == START + timedelta(seconds=8 + 16)
    assert sign_in_retry_at(failures(40)) == START + timedelta(seconds=39, minutes=15)
