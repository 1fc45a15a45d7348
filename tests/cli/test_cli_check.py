"""``ozoasync check`` against the emulators: good and bad credentials, the wrong auth mode,
a dead server; at most one request, and nothing deleted."""

from __future__ import annotations

from cli_helpers import closed_port, cloudagent_env, isales_env, ozoasync

from ozoasync.testing import FakeCloudAgent, FakeISales


async def test_good_cloudagent_credentials_pass_with_one_request_that_deletes_nothing(
    fake: FakeCloudAgent,
) -> None:
    fake.add_campaign("spring", ["0000000000", "9876543210"])

    result = await ozoasync("check", "cloudagent", env=cloudagent_env(fake))

    assert result.code == 0, result.stderr
    assert "ok  CloudAgent: credentials accepted (demo at " in result.stdout
    assert "api_key mode" in result.stdout
    assert len(fake.requests) == 1
    assert fake.campaigns["spring"] == {"0000000000", "9876543210"}


async def test_a_wrong_api_key_names_the_variables_to_fix(fake: FakeCloudAgent) -> None:
    env = {**cloudagent_env(fake), "OZONETEL_API_KEY": "wrong"}

    result = await ozoasync("check", env=env)

    assert result.code == 2
    assert "problem  CloudAgent: credentials refused" in result.stdout
    assert "check OZONETEL_USERNAME and OZONETEL_API_KEY" in result.stdout
    assert "wrong" not in result.stdout + result.stderr  # the secret is never echoed
    assert len(fake.requests) == 1


async def test_a_token_account_checked_in_api_key_mode_says_to_set_the_auth_mode() -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        result = await ozoasync("check", "cloudagent", env=cloudagent_env(fake))

    assert result.code == 2
    assert "set OZONETEL_AUTH=token" in result.stdout


async def test_token_mode_generates_a_token_only_when_allowed() -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        env = {**cloudagent_env(fake), "OZONETEL_AUTH": "token"}
        refused = await ozoasync("check", "cloudagent", env=env)
        assert fake.requests == []  # no token generated behind the user's back
        allowed = await ozoasync("check", "cloudagent", "--allow-token", env=env)
        generated = fake.tokens_generated

    assert refused.code == 2
    assert "give --allow-token" in refused.stdout
    assert allowed.code == 0, allowed.stdout
    assert "token mode" in allowed.stdout
    assert generated == 1


async def test_a_server_that_cannot_be_reached_names_the_base_url(
    fake: FakeCloudAgent,
) -> None:
    env = {**cloudagent_env(fake), "OZONETEL_BASE_URL": f"http://127.0.0.1:{closed_port()}"}

    result = await ozoasync("check", "cloudagent", env=env)

    assert result.code == 2
    assert "check OZONETEL_BASE_URL / OZONETEL_REGION, and the network" in result.stdout


async def test_isales_good_and_bad_signatures(isales_fake: FakeISales) -> None:
    good = await ozoasync("check", "isales", env=isales_env(isales_fake))
    bad = await ozoasync(
        "check", "isales", env={**isales_env(isales_fake), "ISALES_APP_SECRET": "not-the-sk"}
    )

    assert good.code == 0, good.stdout + good.stderr
    assert "ok  CC-iSales: AK/SK accepted" in good.stdout
    assert bad.code == 2
    assert "check ISALES_APP_KEY and ISALES_APP_SECRET" in bad.stdout
    assert "not-the-sk" not in bad.stdout + bad.stderr
