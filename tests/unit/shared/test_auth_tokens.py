"""Minting tokens: the CLI people and scripts use, and the service token tickets sends."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from typer.testing import CliRunner

from shared.auth import ServiceToken, Verifier, mint, parse_ttl
from shared.auth.__main__ import cli
from tests.unit.shared.auth_keys import HS, SECRET, only


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("15m", 900), ("8h", 28800), ("2d", 172800)])
def test_ttl(text, seconds):
    assert parse_ttl(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0h", "8 hours", "-1h", "h"])
def test_bad_ttl(text):
    with pytest.raises(ValueError, match="ttl"):
        parse_ttl(text)


async def test_a_minted_token_verifies_and_unknown_roles_are_refused():
    who = await Verifier(HS).verify(f"Bearer {mint(HS, ['accountant'], 'olga', name='Ольга')}")
    assert (who.sub, who.roles, who.actor) == ("olga", frozenset({"accountant"}), "olga (Ольга)")
    with pytest.raises(ValueError, match="unknown role"):
        mint(HS, ["root"], "x")


def test_the_cli_prints_one_token_signed_with_the_stacks_secret(tmp_path):
    env_file = tmp_path / "stack.env"
    env_file.write_text(f"ABONENT_KAFKA_BOOTSTRAP_SERVERS=x:1\nABONENT_AUTH_HS256_SECRET={SECRET}\n")
    result = CliRunner().invoke(
        cli, ["mint", "--role", "admin", "--sub", "ops", "--ttl", "1h", "--env-file", str(env_file)]
    )
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1
    claims = jwt.decode(result.output.strip(), SECRET, algorithms=["HS256"], audience="abonent")
    assert (claims["sub"], claims["roles"], claims["exp"] - claims["iat"]) == ("ops", ["admin"], 3600)


def test_the_cli_refuses_an_unknown_role(tmp_path):
    result = CliRunner().invoke(cli, ["mint", "--role", "root", "--env-file", str(tmp_path / "none")])
    assert result.exit_code != 0


def test_the_service_token_is_minted_again_before_it_expires():
    now = [1_000_000.0]
    source = ServiceToken(HS, "tickets", ttl=timedelta(minutes=20), clock=lambda: now[0])
    first = source()
    assert source() == first
    now[0] += 14 * 60
    assert source() == first
    now[0] += 2 * 60  # 16 of 20 minutes gone: renewed
    second = source()
    assert second != first
    claims = jwt.decode(second, SECRET, algorithms=["HS256"], audience="abonent", options={"verify_exp": False})
    assert (claims["sub"], claims["roles"]) == ("tickets", ["service"])


def test_a_static_service_token_or_a_secret_is_needed():
    assert ServiceToken(None, "tickets", static="from-the-sso")() == "from-the-sso"
    with pytest.raises(ValueError, match="static token"):
        ServiceToken(only(jwks_url="http://sso.example/jwks"), "tickets")
