"""The pure parts of the command line: configuration, exit codes, dry-run counts, argument
types, per-number results of chunks, and text helpers."""

from __future__ import annotations

import argparse
import io
import re
import signal

import pytest
from rich.console import Console

from ozoasync import (
    APIError,
    AuthenticationError,
    CoordinationError,
    InvalidParameterError,
    NotFoundError,
    OzoError,
    RateLimit,
    RequestValidationError,
    ServerError,
    ServerUnreachableError,
    TransportError,
)
from ozoasync.cli.bulk import BulkRun, Job, sendable
from ozoasync.cli.common import explained, number_item
from ozoasync.cli.config import (
    CloudAgentSettings,
    ConfigError,
    ISalesSettings,
    RedisSettings,
    cloudagent_settings,
    isales_settings,
    redis_settings,
)
from ozoasync.cli.interrupt import Interruption
from ozoasync.cli.parser import build_parser, rate_limit
from ozoasync.cli.progress import LiveProgress, counts_text
from ozoasync.cli.report import ReportError, report_format
from ozoasync.cli.summary import duration_text, least_duration
from ozoasync.cli.tally import Item, Skip, Tally, bulk_exit_code, error_exit_code
from ozoasync.results import NumberResult, Outcome
from ozoasync.validation import phone_number

ACCOUNT = {"OZONETEL_USERNAME": "acme", "OZONETEL_API_KEY": "KK-secret"}


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, CloudAgentSettings("acme", "KK-secret")),
        (
            {"OZONETEL_AUTH": "Token", "OZONETEL_REGION": "international"},
            CloudAgentSettings("acme", "KK-secret", "token", "international"),
        ),
        (
            {"OZONETEL_BASE_URL": "http://127.0.0.1:8080", "OZONETEL_AUTH": " "},
            CloudAgentSettings("acme", "KK-secret", base_url="http://127.0.0.1:8080"),
        ),
    ],
)
def test_cloudagent_settings(extra: dict[str, str], expected: CloudAgentSettings) -> None:
    assert cloudagent_settings({**ACCOUNT, **extra}) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "OZONETEL_USERNAME is not set (the CloudAgent account user name)"),
        ({"OZONETEL_USERNAME": "acme"}, "OZONETEL_API_KEY is not set"),
        ({**ACCOUNT, "OZONETEL_AUTH": "basic"}, "OZONETEL_AUTH must be one of api_key, token"),
        ({**ACCOUNT, "OZONETEL_REGION": "eu"}, "OZONETEL_REGION must be one of domestic"),
        ({**ACCOUNT, "OZONETEL_BASE_URL": "api.example"}, "OZONETEL_BASE_URL must start with"),
    ],
)
def test_cloudagent_settings_problems(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        cloudagent_settings(env)


def test_secrets_stay_out_of_reprs() -> None:
    settings = cloudagent_settings(ACCOUNT)
    isales = isales_settings(
        {
            "ISALES_BASE_URL": "https://10.0.0.5:28443",
            "ISALES_APP_KEY": "AK",
            "ISALES_APP_SECRET": "SK-x",
        }
    )

    assert "KK-secret" not in repr(settings)
    assert "SK-x" not in repr(isales)
    assert isales == ISalesSettings("https://10.0.0.5:28443", "AK", "SK-x")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "ISALES_BASE_URL is not set"),
        ({"ISALES_BASE_URL": "https://h:1"}, "ISALES_APP_KEY is not set"),
        ({"ISALES_BASE_URL": "https://h:1", "ISALES_APP_KEY": "AK"}, "ISALES_APP_SECRET is not"),
    ],
)
def test_isales_settings_problems(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        isales_settings(env)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"OZOASYNC_REDIS_URL": ""}, None),
        ({"OZOASYNC_REDIS_URL": "redis://h:6379/0"}, RedisSettings("redis://h:6379/0")),
        (
            {"OZOASYNC_REDIS_URL": "rediss://:pw@h", "OZOASYNC_REDIS_PREFIX": "acme"},
            RedisSettings("rediss://:pw@h", "acme"),
        ),
    ],
)
def test_redis_settings(env: dict[str, str], expected: RedisSettings | None) -> None:
    assert redis_settings(env) == expected
    assert "pw" not in repr(expected)


def test_a_redis_url_must_be_one() -> None:
    with pytest.raises(ConfigError, match="OZOASYNC_REDIS_URL must start with redis://"):
        redis_settings({"OZOASYNC_REDIS_URL": "127.0.0.1:6379"})


# --- exit codes ------------------------------------------------------------------------------


def api_error(cls: type[APIError]) -> APIError:
    return cls("no", endpoint="deleteCampaignData", http_status=200)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (api_error(AuthenticationError), 2),
        (RequestValidationError("campaign", "must not be empty"), 2),
        (CoordinationError("Redis is down"), 2),
        (api_error(ServerError), 1),
        (TransportError("timed out"), 1),
        (ServerUnreachableError("connection refused"), 2),
        (api_error(NotFoundError), 1),  # a single operation's target: the item failed
    ],
)
def test_error_exit_codes(error: OzoError, code: int) -> None:
    assert error_exit_code(error) == code


@pytest.mark.parametrize(
    ("failed", "error", "code"),
    [
        (0, None, 0),
        (3, None, 1),
        (3, api_error(AuthenticationError), 2),
        (1, api_error(InvalidParameterError), 2),  # "Passed campaign are invalid"
        (1, api_error(NotFoundError), 2),  # iSales: the campaign does not exist
        (0, CoordinationError("Redis is down"), 2),
        (0, TransportError("timed out"), 1),
        (0, ServerUnreachableError("connection refused"), 2),  # check the base URL
    ],
)
def test_bulk_exit_codes(failed: int, error: OzoError | None, code: int) -> None:
    assert bulk_exit_code(failed, error) == code


@pytest.mark.parametrize(
    ("argv", "variables"),
    [
        (["campaign-data", "delete", "--campaign", "x"], "OZONETEL_BASE_URL / OZONETEL_REGION"),
        (["block-numbers", "delete", "--group", "7"], "OZONETEL_BASE_URL / OZONETEL_REGION"),
        (["phones", "edit", "--number", "1", "--name", "a", "--new-number", "2"],
         "OZONETEL_BASE_URL / OZONETEL_REGION"),
        (["isales", "caller-numbers", "delete", "--vdn", "1", "--campaign-id", "2"],
         "ISALES_BASE_URL"),
    ],
)  # fmt: skip
def test_an_unreachable_server_names_the_variables_that_say_where_it_is(
    argv: list[str], variables: str
) -> None:
    args = build_parser().parse_args(argv)
    error = ServerUnreachableError("deleteCampaignData: cannot connect (refused)")
    assert explained(error, args) == (
        f"deleteCampaignData: cannot connect (refused) (check {variables}, and the network)"
    )
    assert explained(TransportError("timed out"), args) == "timed out"


def test_tally_counts_and_keeps_the_first_failures() -> None:
    tally = Tally(keep_failures=2)
    fates = [Outcome.DELETED, Outcome.FAILED, Skip.PENDING, Skip.DUPLICATE, Skip.INVALID]
    for n, fate in enumerate([*fates, Outcome.FAILED]):
        tally.add(Item(str(n), fate))

    assert tally.total == 6
    assert tally.processed == 3  # pending, repeated and invalid lines were not sent
    assert tally.failed == 3  # invalid lines count as failed
    assert [item.number for item in tally.first_failures] == ["1", "4"]


# --- the input pipeline (real and dry runs) --------------------------------------------------


def test_one_pipeline_sets_aside_invalid_and_repeated_lines() -> None:
    lines = ["1111", "+91-98765-43210", "1111", "x-1", "3333", "(022) 4000.1234", "bad",
             "+919876543210"]  # fmt: skip
    run = BulkRun(Job("op", "scope", phone_number))
    set_aside: list[Item] = []

    sent = list(sendable(lines, run.job, run, set_aside.extend, Interruption()))

    assert sent == ["1111", "+919876543210", "3333", "02240001234"]  # separators dropped
    assert set_aside == [
        Item("1111", Skip.DUPLICATE, "repeats an earlier line"),
        Item("x-1", Skip.INVALID, "'x1' is not a phone number (digits, optionally a leading '+')"),
        Item("bad", Skip.INVALID, "'bad' is not a phone number (digits, optionally a leading '+')"),
        Item("+919876543210", Skip.DUPLICATE, "repeats an earlier line"),
    ]
    assert (run.lines_read, run.to_send) == (8, 4)


def test_the_pipeline_stops_reading_at_a_signal() -> None:
    interruption = Interruption()
    run = BulkRun(Job("op", "scope", phone_number))
    numbers = sendable(iter(["1", "2", "3"]), run.job, run, print, interruption)

    assert next(numbers) == "1"
    interruption.signum = signal.SIGTERM
    assert list(numbers) == []
    assert run.lines_read == 1


@pytest.mark.parametrize(
    ("requests", "limit", "seconds"),
    [
        (1, RateLimit(100, 60.0), 0.0),
        (101, RateLimit(100, 60.0, margin=0.0), 60.0),
        (10, None, None),
        (10, RateLimit(100, 60.0, burst=True), None),
    ],
)
def test_dry_run_duration(requests: int, limit: RateLimit | None, seconds: float | None) -> None:
    assert least_duration(requests, limit) == seconds


# --- arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"), [("100/60", RateLimit(100, 60.0)), ("5/0.5", RateLimit(5, 0.5))]
)
def test_rate_limit_argument(text: str, expected: RateLimit) -> None:
    assert rate_limit(text) == expected


@pytest.mark.parametrize("text", ["100", "fast", "0/60", "100/0", "-1/60", "1.5/60"])
def test_bad_rate_limit_argument(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="is not N/SECONDS"):
        rate_limit(text)


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["campaign-data", "delete", "numbers.txt"])

    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "ozoasync campaign-data delete: error: the following arguments are required: "
        "--campaign (see ozoasync campaign-data delete -h)\n"
    )


@pytest.mark.parametrize(("path", "expected"), [("r.json", ".json"), ("out/R.CSV", ".csv")])
def test_report_format(path: str, expected: str) -> None:
    assert report_format(path) == expected


def test_report_format_must_be_known() -> None:
    with pytest.raises(ReportError, match=r"must end in \.json or \.csv"):
        report_format("report.xlsx")


# --- per-number results of chunked calls -----------------------------------------------------


def test_a_chunk_item_is_recorded_as_the_sdk_decided_it() -> None:
    error = api_error(AuthenticationError)
    assert number_item(NumberResult(number="1", outcome=Outcome.NOT_FOUND)) == Item(
        "1", Outcome.NOT_FOUND
    )
    assert number_item(NumberResult(number="2", outcome=Outcome.FAILED, error=error)) == Item(
        "2", Outcome.FAILED, str(error)
    )
    partly = NumberResult(number="3", outcome=Outcome.PARTLY_CONFIRMED, message="2 of 3\nok")
    assert number_item(partly) == Item("3", Outcome.PARTLY_CONFIRMED, "2 of 3 ok")


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0 s"), (42.25, "42.2 s"), (200, "3 min 20 s"), (7500, "2 h 5 min")],
)
def test_duration_text(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_counts_text_shows_what_happened() -> None:
    tally = Tally()
    for status in (Outcome.DELETED, Outcome.DELETED, Outcome.NOT_FOUND, Skip.PENDING):
        tally.add(Item("1", status))

    assert counts_text(tally) == "deleted 2 · already gone 1"


@pytest.mark.parametrize("width", [80, 200])
def test_the_progress_bar_keeps_done_total_rate_and_eta(width: int) -> None:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=True, color_system=None)
    tally = Tally()
    for n in range(40):
        tally.add(Item(str(n), Outcome.DELETED))
    with LiveProgress(console, "deleting") as bar:
        bar.update(tally, 100)

    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # cursor movements
    last = screen.rstrip().splitlines()[-1]
    assert len(last) <= width
    assert "40/100" in last
    assert re.search(r"(-|\d+\.\d) */s", last)
    assert re.search(r"ETA [-\d:]+", last)
