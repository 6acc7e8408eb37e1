"""The SSO token rules (accounts.sso.verify_sso_token): each claim, each algorithm attack, the
leeway; and the account mapping (sign_in_sso): creation, collisions, renames, replay after
logout, password login refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts import services
from accounts.embed_sessions import issue_embed_session, revoke_embed_session
from accounts.sso import (
    SsoClaims,
    SsoSettings,
    display_name,
    sign_in_sso,
    verify_sso_token,
)
from errors import DomainError
from models import EmbedVia, SsoIdentity, User

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
SECRET = "gedeeld-geheim-van-de-krant-0123456789"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PUBLIC_PEM = (
    RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
ED_KEY = ed25519.Ed25519PrivateKey.generate()
ED_PUBLIC_PEM = (
    ED_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
HS_ONLY = SsoSettings(secret=SECRET, public_key=None, issuer=None, leeway=60)
RS_ONLY = SsoSettings(secret=None, public_key=RSA_PUBLIC_PEM, issuer=None, leeway=60)


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sub": "lezer-42",
        "name": "Jan Peeters",
        "email": "jan@krant.example",
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(minutes=10)).timestamp()),
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def hs(payload: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def refused(token: str, settings: SsoSettings = HS_ONLY, now: datetime = NOW) -> str:
    with pytest.raises(DomainError) as caught:
        verify_sso_token(token, settings, now)
    return caught.value.code


# ---------------------------------------------------------------- claims


def test_a_good_hs256_token_gives_its_claims() -> None:
    found = verify_sso_token(hs(claims()), HS_ONLY, NOW)

    assert (found.subject, found.name, found.email, found.issuer) == (
        "lezer-42",
        "Jan Peeters",
        "jan@krant.example",
        "",
    )
    assert found.issued_at == NOW


@pytest.mark.parametrize("missing", ["sub", "name", "exp"])
def test_a_required_claim_missing_is_refused(missing: str) -> None:
    assert refused(hs(claims(**{missing: None}))) == "sso_claims"


@pytest.mark.parametrize(
    "changes",
    [{"sub": ""}, {"sub": "  "}, {"name": " \u200b "}, {"name": 7}, {"sub": True}, {"exp": "x"}],
)
def test_an_empty_or_mistyped_claim_is_refused(changes: dict[str, Any]) -> None:
    assert refused(hs(claims(**changes))) in ("sso_claims", "sso_invalid")


def test_email_is_optional() -> None:
    assert verify_sso_token(hs(claims(email=None)), HS_ONLY, NOW).email is None


def test_exp_more_than_one_hour_ahead_is_refused() -> None:
    far = int((NOW + timedelta(hours=1, seconds=61)).timestamp())
    near = int((NOW + timedelta(hours=1, seconds=59)).timestamp())

    assert refused(hs(claims(exp=far))) == "sso_claims"
    assert verify_sso_token(hs(claims(exp=near)), HS_ONLY, NOW).subject == "lezer-42"


def test_exp_more_than_one_hour_after_iat_is_refused() -> None:
    iat = int((NOW - timedelta(minutes=30)).timestamp())
    exp = int((NOW + timedelta(minutes=40)).timestamp())

    assert refused(hs(claims(iat=iat, exp=exp))) == "sso_claims"


def test_an_expired_token_is_refused_after_the_leeway() -> None:
    token = hs(claims(exp=int((NOW - timedelta(seconds=30)).timestamp())))

    # 30 s late: within the 60 s leeway.
    assert verify_sso_token(token, HS_ONLY, NOW).subject == "lezer-42"
    assert refused(token, HS_ONLY, NOW + timedelta(seconds=31)) == "sso_expired"


def test_the_leeway_setting_is_used() -> None:
    token = hs(claims(exp=int((NOW - timedelta(seconds=30)).timestamp())))
    strict = SsoSettings(secret=SECRET, public_key=None, issuer=None, leeway=0)

    assert refused(token, strict) == "sso_expired"


def test_an_iat_in_the_future_beyond_the_leeway_is_refused() -> None:
    future = int((NOW + timedelta(minutes=5)).timestamp())
    exp = int((NOW + timedelta(minutes=10)).timestamp())

    assert refused(hs(claims(iat=future, exp=exp))) == "sso_claims"


def test_the_issuer_must_match_when_configured() -> None:
    settings = SsoSettings(secret=SECRET, public_key=None, issuer="https://krant.be", leeway=60)

    assert refused(hs(claims(iss="https://andere.be")), settings) == "sso_issuer"
    assert refused(hs(claims()), settings) == "sso_issuer"
    found = verify_sso_token(hs(claims(iss="https://krant.be")), settings, NOW)
    assert found.issuer == "https://krant.be"


def test_sso_is_disabled_without_any_key() -> None:
    settings = SsoSettings(secret=None, public_key=None, issuer=None, leeway=60)

    with pytest.raises(DomainError) as caught:
        verify_sso_token(hs(claims()), settings, NOW)

    assert (caught.value.code, caught.value.status_code) == ("sso_disabled", 403)


# ---------------------------------------------------------------- algorithms


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_alg_none_is_refused() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims()).encode())

    assert refused(f"{header}.{payload}.") == "sso_algorithm"
    assert refused(f"{header}.{payload}.", RS_ONLY) == "sso_algorithm"


def _hs256_signed_with(key: bytes, payload: dict[str, Any]) -> str:
    # PyJWT refuses to sign with a PEM as HMAC secret; an attacker does it by hand.
    import hashlib
    import hmac

    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload).encode())
    signature = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def test_hs256_signed_with_the_public_key_is_refused_when_rs256_is_configured() -> None:
    token = _hs256_signed_with(RSA_PUBLIC_PEM.encode(), claims())
    both = SsoSettings(secret=SECRET, public_key=RSA_PUBLIC_PEM, issuer=None, leeway=60)

    assert refused(token, RS_ONLY) == "sso_algorithm"
    # With a secret too, HS256 is checked against the secret, never against the PEM.
    assert refused(token, both) == "sso_invalid"


def test_an_rs256_token_is_refused_when_only_a_secret_is_configured() -> None:
    token = jwt.encode(claims(), RSA_KEY, algorithm="RS256")

    assert refused(token, HS_ONLY) == "sso_algorithm"


def test_rs256_and_eddsa_tokens_verify_with_their_public_key() -> None:
    rs = jwt.encode(claims(), RSA_KEY, algorithm="RS256")
    ed = jwt.encode(claims(), ED_KEY, algorithm="EdDSA")
    ed_settings = SsoSettings(secret=None, public_key=ED_PUBLIC_PEM, issuer=None, leeway=60)

    assert verify_sso_token(rs, RS_ONLY, NOW).subject == "lezer-42"
    assert verify_sso_token(ed, ed_settings, NOW).subject == "lezer-42"
    # The key decides the one asymmetric algorithm: an RS256 token against an Ed25519 key.
    assert refused(rs, ed_settings) == "sso_algorithm"


def test_an_rs256_token_of_another_key_is_refused() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    assert refused(jwt.encode(claims(), other, algorithm="RS256"), RS_ONLY) == "sso_invalid"


def test_a_token_signed_with_another_secret_is_refused() -> None:
    assert refused(hs(claims(), secret="een-ander-geheim-0123456789abcdef")) == "sso_invalid"


def test_a_tampered_payload_is_refused() -> None:
    header, _, signature = hs(claims()).split(".")
    forged = _b64(json.dumps(claims(sub="beheerder")).encode())

    assert refused(f"{header}.{forged}.{signature}") == "sso_invalid"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "x" * 9000])
def test_garbage_is_refused(token: str) -> None:
    assert refused(token) == "sso_invalid"


# ---------------------------------------------------------------- account mapping


def reader(**changes: Any) -> SsoClaims:
    values: dict[str, Any] = {
        "issuer": "",
        "subject": "lezer-42",
        "name": "Jan Peeters",
        "email": None,
        "issued_at": NOW,
        "expires_at": NOW + timedelta(minutes=10),
    }
    values.update(changes)
    return SsoClaims(**values)


def test_first_use_creates_a_fan_without_password_login(db: Session) -> None:
    user, identity = sign_in_sso(db, reader(email="jan@krant.example"), now=NOW)
    db.commit()

    assert user.username == "Jan Peeters" and user.password_login is False
    assert user.role.value == "fan"
    assert identity.email == "jan@krant.example" and user.email.endswith("@sso.invalid")
    again, _ = sign_in_sso(db, reader(), now=NOW)
    assert again.id == user.id
    assert db.scalar(select(func.count()).select_from(SsoIdentity)) == 1


def test_the_same_subject_of_another_issuer_is_another_account(db: Session) -> None:
    first, _ = sign_in_sso(db, reader(issuer="https://a.be"), now=NOW)
    second, _ = sign_in_sso(db, reader(issuer="https://b.be"), now=NOW)

    assert first.id != second.id
    assert second.username == "Jan Peeters · 2"


def test_a_name_in_use_gets_a_visible_number(db: Session, make_user: Callable[..., User]) -> None:
    make_user(username="Jan")
    first, _ = sign_in_sso(db, reader(subject="1", name="jan"), now=NOW)
    second, _ = sign_in_sso(db, reader(subject="2", name="JAN"), now=NOW)

    assert (first.username, second.username) == ("jan · 2", "JAN · 3")


def test_a_long_name_keeps_its_number_within_the_limit(db: Session) -> None:
    long = "Jan-Willem van den Broeck-Vermeulen"
    first, _ = sign_in_sso(db, reader(subject="1", name=long), now=NOW)
    second, _ = sign_in_sso(db, reader(subject="2", name=long), now=NOW)

    assert len(first.username) <= 32 and len(second.username) <= 32
    assert second.username.endswith(" · 2") and first.username != second.username


def test_a_new_name_from_the_site_renames_the_account(
    db: Session, make_user: Callable[..., User]
) -> None:
    make_user(username="Piet")
    user, _ = sign_in_sso(db, reader(name="Jan"), now=NOW)
    renamed, identity = sign_in_sso(db, reader(name="Piet"), now=NOW)

    assert renamed.id == user.id
    assert renamed.username == "Piet · 2"
    assert renamed.username_key == "piet · 2"
    assert identity.name == "Piet"


def test_the_same_name_again_keeps_the_number(db: Session, make_user: Callable) -> None:
    make_user(username="Jan")
    user, _ = sign_in_sso(db, reader(name="Jan"), now=NOW)
    again, _ = sign_in_sso(db, reader(name="Jan"), now=NOW)

    assert again.username == user.username == "Jan · 2"


def test_a_name_the_screening_refuses_is_not_shown(db: Session) -> None:
    def refuse(name: str) -> None:
        raise DomainError("username_not_allowed", "nee")

    user, identity = sign_in_sso(db, reader(name="Scheldwoord"), refuse, now=NOW)

    assert user.username == "Lezer"
    assert identity.name == "Scheldwoord"


def test_display_names_lose_control_and_bidi_characters() -> None:
    assert display_name("  Jan\u202e\u200b   Peeters\n") == "Jan Peeters"


def test_a_token_issued_before_the_embed_logout_is_a_replay(db: Session) -> None:
    user, identity = sign_in_sso(db, reader(), now=NOW)
    embed, _ = issue_embed_session(db, user, EmbedVia.SSO, identity=identity, now=NOW)
    revoke_embed_session(db, embed, now=NOW + timedelta(minutes=2))

    with pytest.raises(DomainError) as caught:
        sign_in_sso(db, reader(issued_at=NOW + timedelta(minutes=1)), now=NOW)
    assert caught.value.code == "sso_replayed"
    fresh, _ = sign_in_sso(db, reader(issued_at=NOW + timedelta(minutes=3)), now=NOW)
    assert fresh.id == user.id


def test_without_iat_a_token_that_may_predate_the_logout_is_a_replay(db: Session) -> None:
    user, identity = sign_in_sso(db, reader(), now=NOW)
    identity.logged_out_at = NOW

    with pytest.raises(DomainError):
        sign_in_sso(db, reader(issued_at=None, expires_at=NOW + timedelta(minutes=50)), now=NOW)
    later = reader(issued_at=None, expires_at=NOW + timedelta(hours=1, minutes=1))
    assert sign_in_sso(db, later, now=NOW)[0].id == user.id


def test_a_deactivated_sso_account_is_refused(db: Session) -> None:
    user, _ = sign_in_sso(db, reader(), now=NOW)
    user.is_active = False

    with pytest.raises(DomainError) as caught:
        sign_in_sso(db, reader(), now=NOW)
    assert (caught.value.code, caught.value.status_code) == ("account_inactive", 403)


def test_an_sso_account_cannot_log_in_with_a_password(db: Session) -> None:
    user, _ = sign_in_sso(db, reader(name="Jan"), now=NOW)
    db.commit()

    with pytest.raises(DomainError) as caught:
        services.authenticate(db, "Jan", "!sso", "pbkdf2:sha256:1")
    assert caught.value.code == "password_login_disabled"
    with pytest.raises(DomainError):
        services.authenticate(db, user.email, "", "pbkdf2:sha256:1")
