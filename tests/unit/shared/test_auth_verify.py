"""Bearer-token verification: what is accepted, and the short reason for everything refused."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import jwt
import pytest

from shared.auth import AuthFailure, AuthSettings, Verifier
from tests.unit.shared.auth_keys import (
    EC_KEY,
    HS,
    OTHER_RSA_KEY,
    RSA_KEY,
    SECRET,
    only,
    public_pem,
    signed,
    unsigned,
)


async def verify(token_or_header: str | None, settings: AuthSettings = HS, raw: bool = False):
    header = token_or_header if raw or token_or_header is None else f"Bearer {token_or_header}"
    return await Verifier(settings).verify(header)


async def reason(token_or_header: str | None, settings: AuthSettings = HS, raw: bool = False) -> str:
    with pytest.raises(AuthFailure) as refused:
        await verify(token_or_header, settings, raw)
    return refused.value.reason


async def test_a_valid_token_gives_the_subject_name_and_known_roles():
    who = await verify(signed(name="Ирина Петрова", roles=["manager", "accountant", "astronaut"]))
    assert (who.sub, who.name, who.roles) == ("irina", "Ирина Петрова", frozenset({"manager", "accountant"}))
    assert who.actor == "irina (Ирина Петрова)"
    assert (await verify(signed())).actor == "irina"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (lambda: signed(exp=int(time.time()) - 60), "token expired"),
        (lambda: signed(nbf=int(time.time()) + 600), "token not yet valid"),
        (lambda: signed(iss="someone-else"), "wrong issuer"),
        (lambda: signed(aud="another-app"), "wrong audience"),
        (lambda: signed(key="x" * 48), "bad signature"),
        (lambda: unsigned(), "algorithm not allowed"),
        (lambda: signed(exp=None), "claim exp missing"),
        (lambda: signed(sub=None), "claim sub missing"),
        (lambda: signed(roles="admin"), "claim roles must be a list of strings"),
        (lambda: signed(RSA_KEY, "RS256"), "algorithm not allowed"),
    ],
)
async def test_refused_tokens_get_a_short_reason(token, expected):
    assert await reason(token()) == expected


async def test_a_small_clock_skew_is_tolerated():
    assert (await verify(signed(exp=int(time.time()) - 2))).sub == "irina"  # leeway 5 s


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Basic dXNlcjpwYXNz",
        signed(),
        f"Bearer {signed()} {signed()}",
        "Bearer",
        "Bearer " + "A" * 10_000,
        "Bearer " + "ж" * 50,
        "Bearer \x00\x01",
        f"Bearer {signed()},{signed()}",
        "Bearer a.b",
        "Bearer ###.###.###",
    ],
)
async def test_malformed_authorization_headers_are_refused_not_crashed(header):
    assert await reason(header, raw=True) in (
        "missing bearer token",
        "malformed Authorization header",
        "malformed token",
    )


async def test_no_header_at_all():
    assert await reason(None) == "missing bearer token"


async def test_rs256_with_a_public_key_file(tmp_path):
    key_file = tmp_path / "sso.pem"
    key_file.write_bytes(public_pem(RSA_KEY))
    settings = only(public_key_file=key_file)
    assert (await verify(signed(RSA_KEY, "RS256"), settings)).sub == "irina"
    assert await reason(signed(OTHER_RSA_KEY, "RS256"), settings) == "bad signature"
    assert await reason(signed(RSA_KEY, "RS512"), settings) == "algorithm not allowed"
    assert await reason(unsigned(), settings) == "algorithm not allowed"


async def test_algorithm_confusion_the_public_key_as_an_hmac_secret_is_refused(tmp_path):
    key_file = tmp_path / "sso.pem"
    key_file.write_bytes(public_pem(RSA_KEY))
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).rstrip(b"=")
    # a forged HS256 token keyed with the PEM text (PyJWT would refuse to even sign it)
    import hashlib
    import hmac

    payload = signed(RSA_KEY, "RS256").split(".")[1].encode()
    mac = hmac.new(public_pem(RSA_KEY), header + b"." + payload, hashlib.sha256).digest()
    forged = (header + b"." + payload + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    assert await reason(forged, only(public_key_file=key_file)) == "algorithm not allowed"


async def test_es256_with_an_ec_public_key_file(tmp_path):
    key_file = tmp_path / "sso-ec.pem"
    key_file.write_bytes(public_pem(EC_KEY))
    assert (await verify(signed(EC_KEY, "ES256"), only(public_key_file=key_file))).sub == "irina"


def test_exactly_one_key_source_and_a_long_enough_secret():
    with pytest.raises(ValueError, match="exactly one"):
        AuthSettings(hs256_secret=SECRET, jwks_url="http://sso.example/jwks")
    with pytest.raises(ValueError, match="at least 32"):
        only(hs256_secret="short")


class CountingKeys:
    """A key source that counts the verifications it is asked for, and can drop its key."""

    def __init__(self) -> None:
        self.asked, self.key = 0, SECRET

    async def key_for(self, header):
        self.asked += 1
        if self.key is None:
            raise AuthFailure("unknown signing key")
        return self.key, "HS256"


async def test_a_verified_token_is_not_decoded_again_until_it_expires(monkeypatch):
    """The cache saves the signature and claims checks, never the refusal of an expired token:
    ``exp`` (plus the leeway) is checked on every use, as PyJWT does."""
    decoded = []
    real_decode = jwt.decode
    monkeypatch.setattr("shared.auth.verify.jwt.decode", lambda *a, **k: decoded.append(1) or real_decode(*a, **k))
    v = Verifier(only(hs256_secret=SECRET, leeway_seconds=0))
    expires = int(time.time()) + 1
    token = f"Bearer {signed(exp=expires)}"
    for _ in range(5):
        assert (await v.verify(token)).sub == "irina"
    assert len(decoded) == 1
    await asyncio.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(AuthFailure, match="token expired"):
        await v.verify(token)
    assert len(decoded) == 2  # verified afresh, and refused for PyJWT's reason


async def test_a_cached_token_whose_signing_key_is_gone_is_refused():
    keys = CountingKeys()
    v = Verifier(HS, keys)
    token = f"Bearer {signed()}"
    await v.verify(token)
    await v.verify(token)
    assert keys.asked == 2  # the key source is asked on every use, cached or not
    keys.key = None  # the SSO's key set no longer has it
    with pytest.raises(AuthFailure, match="unknown signing key"):
        await v.verify(token)
    keys.key = "another secret of at least thirty-two bytes"  # a new key under the same kid
    with pytest.raises(AuthFailure, match="bad signature"):
        await v.verify(token)


async def test_the_cache_of_verified_tokens_is_bounded():
    v = Verifier(HS, cache_size=3)
    tokens = [f"Bearer {signed(sub=f'user-{i}')}" for i in range(5)]
    for token in tokens:
        await v.verify(token)
    assert len(v._verified) == 3
    assert [(await v.verify(t)).sub for t in tokens] == [f"user-{i}" for i in range(5)]
