"""The argument parser: one subcommand per operation, plus demo and emulator."""

from __future__ import annotations

import argparse
from typing import NoReturn

from .. import RateLimit, __version__
from . import check, demo, emulator
from . import cloudagent as cloudagent_commands
from . import forget as forget_command
from . import isales as isales_commands
from . import jobs as jobs_commands
from .tally import EXIT_USAGE, one_line

ENVIRONMENT = """\
credentials and endpoints come from the environment, never from arguments:
  OZONETEL_USERNAME, OZONETEL_API_KEY     CloudAgent account (required for CloudAgent commands)
  OZONETEL_AUTH                           api_key (default) or token
  OZONETEL_REGION | OZONETEL_BASE_URL     domestic (default) or international | a URL
  ISALES_BASE_URL, ISALES_APP_KEY, ISALES_APP_SECRET   CC-iSales server and C2 AK/SK
  ISALES_CA_FILE                          PEM file of a private CA for the iSales server
  OZOASYNC_REDIS_URL                      share rate limits and the token across processes

exit codes: 0 nothing failed, 1 some items failed, 2 usage or configuration error,
129/130/143 stopped by SIGHUP/SIGINT/SIGTERM (in-flight requests get 10 s to finish; the
report is written whole)."""


ISALES_EXAMPLES = {
    "delete": """\
  ozoasync isales caller-numbers delete --vdn 1 --campaign-id 1001 old-callers.txt
  ozoasync isales caller-numbers delete --vdn 1 --campaign-id 1001 --journal callers.db \\
      old-callers.txt""",
    "add": """\
  ozoasync isales caller-numbers add --vdn 1 --campaign-id 1001 --priority 2 new-callers.txt""",
}

VENDORS = ("cloudagent", "isales")

# What says where the server is: named when it cannot be reached.
CLOUDAGENT_SERVER = "OZONETEL_BASE_URL / OZONETEL_REGION"
ISALES_SERVER = "ISALES_BASE_URL"


class Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see {self.prog} -h)\n")


def rate_limit(text: str) -> RateLimit:
    """``N/SECONDS``, e.g. ``100/60``: at most N requests in any SECONDS."""
    count, _, period = text.partition("/")
    try:
        return RateLimit(int(count), float(period))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not N/SECONDS (e.g. 100/60: 100 requests per 60 seconds)"
        ) from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def vendor(text: str) -> str:
    if text not in VENDORS:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(VENDORS)}")
    return text


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return value


def _output_options() -> Parser:
    parent = Parser(add_help=False)
    group = parent.add_argument_group("output")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log retries and waits (-vv: every request, and tracebacks of internal errors)",
    )
    return parent


def _transport_options() -> Parser:
    parent = Parser(add_help=False)
    group = parent.add_argument_group("requests")
    group.add_argument(
        "--max-attempts",
        type=positive_int,
        default=5,
        metavar="N",
        help="attempts per request, retries included (default 5; 1 turns retries off)",
    )
    group.add_argument(
        "--timeout",
        type=positive_float,
        default=30.0,
        metavar="SECONDS",
        help="per attempt (default 30)",
    )
    group.add_argument(
        "--dry-run", action="store_true", help="check and count the input; send nothing"
    )
    return parent


def _bulk_options(default_limit: str) -> Parser:
    parent = Parser(add_help=False)
    group = parent.add_argument_group("input and results")
    group.add_argument(
        "input",
        nargs="?",
        default="-",
        metavar="FILE",
        help="numbers, one per line, or a CSV file with --column (default: stdin)",
    )
    group.add_argument(
        "--column", metavar="NAME", help="read FILE as CSV and take the numbers from this column"
    )
    group.add_argument(
        "--journal",
        metavar="PATH|URL",
        help="work the input as a durable job in this job store: a SQLite file (created if "
        "absent; any other file is refused) or a postgresql:// URL shared by several hosts. "
        "A re-run, or the same command on another host, works the same job: nothing "
        "finished is sent again",
    )
    group.add_argument(
        "--lease",
        type=positive_float,
        default=60.0,
        metavar="SECONDS",
        help="with --journal: how long this run's claim on numbers outlives it if it is "
        "killed (SIGKILL, a lost host) before another run may take them over (default 60; "
        "it is renewed while the run lives)",
    )
    group.add_argument(
        "--job",
        metavar="NAME",
        help="the job's name in the store (default: the operation, its target and the "
        "account, e.g. 'campaign-data.delete spring @ acme@api.example')",
    )
    group.add_argument(
        "--report", metavar="PATH", help="write every result to PATH (.json or .csv)"
    )
    group.add_argument(
        "--rate-limit",
        type=rate_limit,
        metavar="N/SECONDS",
        help=f"at most N requests in any SECONDS ({default_limit})",
    )
    group.add_argument(
        "--output",
        choices=("summary", "jsonl"),
        default="summary",
        help="summary (default): a table at the end; jsonl: one JSON object per input line "
        "on stdout as it finishes (the summary then goes to stderr)",
    )
    return parent


def build_parser() -> Parser:
    output = _output_options()
    transport = _transport_options()
    parser = Parser(
        prog="ozoasync",
        description="Bulk data removal for Ozonetel CloudAgent and Huawei CC-iSales, at the "
        "vendors' limits, resumable.",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"ozoasync {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def group(name: str, help_text: str) -> argparse._SubParsersAction[Parser]:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(server_variables=CLOUDAGENT_SERVER)
        return sub.add_subparsers(dest="action", required=True, metavar="ACTION")

    def leaf(
        actions: argparse._SubParsersAction[Parser],
        name: str,
        help_text: str,
        *parents: Parser,
        examples: str,
    ) -> Parser:
        return actions.add_parser(
            name,
            help=help_text,
            description=help_text,
            parents=[*parents, transport, output],
            epilog=f"{ENVIRONMENT}\n\nexamples:\n{examples}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            allow_abbrev=False,
        )

    campaign_data = group("campaign-data", "numbers of outbound campaigns")
    delete = leaf(
        campaign_data,
        "delete",
        "delete numbers from a campaign (deleteCampaignData, one request per number)",
        _bulk_options("default 100/60, the vendor's limit"),
        examples="""\
  ozoasync campaign-data delete --campaign spring-sale numbers.txt --journal spring.db \\
      --report spring.csv
  ozoasync campaign-data delete --campaign spring-sale --column Mobile contacts.csv
  psql -Atc "select phone from optouts" | ozoasync campaign-data delete --campaign spring-sale
  ozoasync campaign-data delete --campaign spring-sale --dry-run numbers.txt
  ozoasync campaign-data delete --campaign spring-sale --output jsonl numbers.txt | jq .""",
    )
    delete.add_argument("--campaign", required=True, help="the campaign name")
    delete.add_argument(
        "--concurrency",
        type=positive_int,
        default=8,
        metavar="N",
        help="requests in flight at once (default 8; the rate limit still applies)",
    )
    delete.set_defaults(handler=cloudagent_commands.campaign_data_delete)

    block_numbers = group("block-numbers", "block-number groups")
    delete = leaf(
        block_numbers,
        "delete",
        "delete numbers from a block-number group (deleteBlockNumberGroup, 100 per request)",
        _bulk_options("default: none"),
        examples="""\
  ozoasync block-numbers delete --group 7 blocked.txt
  ozoasync block-numbers delete --group 7 blocked.txt --journal blocked.db --report out.json""",
    )
    delete.add_argument("--group", type=positive_int, required=True, help="the group id")
    delete.set_defaults(handler=cloudagent_commands.block_numbers_delete)

    scheduled = group("scheduled-data", "scheduled data")
    delete = leaf(
        scheduled,
        "delete",
        "delete scheduled rows by row id (deleteScheduledData, 1 request)",
        examples="""\
  ozoasync scheduled-data delete 1-200 250 300-310
  ozoasync scheduled-data delete --file ids.txt""",
    )
    delete.add_argument(
        "row_ids", nargs="*", metavar="ROW_IDS", help="row ids: 7, 2,3,5,6, 3-10, 1,3-10,12"
    )
    delete.add_argument("--file", metavar="FILE", help="read row ids from FILE (- for stdin)")
    delete.set_defaults(handler=cloudagent_commands.scheduled_data_delete)

    phones = group("phones", "phones of the account")
    edit = leaf(
        phones,
        "edit",
        "change a phone's number, name and skills (PhoneManageV2 edit)",
        examples="""\
  ozoasync phones edit --number 9811112222 --name front-desk --new-number 9811113333 \\
      --new-name reception --assign-skill sales""",
    )
    edit.add_argument("--number", required=True, help="the phone's number now")
    edit.add_argument("--name", required=True, help="the phone's name now")
    edit.add_argument("--new-number", required=True, help="its new number (may be the same)")
    edit.add_argument("--new-name", help="its new name")
    edit.add_argument("--assign-skill", action="append", default=[], metavar="SKILL")
    edit.add_argument("--unassign-skill", action="append", default=[], metavar="SKILL")
    edit.set_defaults(handler=cloudagent_commands.phones_edit)

    isales = commands.add_parser("isales", help="Huawei CC-iSales", description="CC-iSales")
    isales.set_defaults(server_variables=ISALES_SERVER)
    isales_groups = isales.add_subparsers(dest="group", required=True, metavar="GROUP")
    caller = isales_groups.add_parser(
        "caller-numbers", help="calling numbers of an outbound campaign"
    )
    caller_actions = caller.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, help_text in (
        ("delete", "delete calling numbers from a campaign (100 per request)"),
        ("add", "add calling numbers to a campaign (100 per request)"),
    ):
        command = leaf(
            caller_actions,
            action,
            help_text,
            _bulk_options("default: none"),
            examples=ISALES_EXAMPLES[action],
        )
        command.add_argument("--vdn", type=int, required=True, help="the VDN id (1 to 9999)")
        command.add_argument("--campaign-id", type=int, required=True, help="the campaign id")
        if action == "add":
            command.add_argument(
                "--priority", type=int, default=1, choices=range(1, 6), help="1 to 5 (default 1)"
            )
        command.set_defaults(handler=isales_commands.caller_numbers)

    forget = commands.add_parser(
        "forget",
        help="delete numbers from campaigns and scheduled data (erasure, do-not-call)",
        description=forget_command.__doc__,
        parents=[
            _bulk_options("default for DeleteBulkData: 2/60, the vendor's"),
            transport,
            output,
        ],
        epilog=f"{ENVIRONMENT}\n\nexamples:\n"
        "  ozoasync forget --campaigns spring,summer,renewals --scheduled optouts.txt "
        "--report erased.csv\n"
        "  ozoasync forget --campaigns spring,summer --scheduled optouts.txt "
        "--journal erasures.db --job dpdp-118\n"
        "  ozoasync forget --campaigns spring --per-number dnd.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    forget.add_argument("--campaigns", required=True, metavar="A,B,...", help="campaign names")
    forget.add_argument(
        "--scheduled", action="store_true", help="also delete the numbers' scheduled rows"
    )
    forget.add_argument(
        "--per-number",
        action="store_true",
        help="deleteCampaignData per number and campaign from the start (without it, an "
        "account that refuses DeleteBulkData falls back to this after one request)",
    )
    forget.set_defaults(handler=forget_command.forget, server_variables=CLOUDAGENT_SERVER)

    jobs = commands.add_parser(
        "jobs",
        help="what a job store holds: list, status, export",
        description="Read-only views of a job store (--journal PATH or postgresql://...).",
    )
    jobs_actions = jobs.add_subparsers(dest="action", required=True, metavar="ACTION")
    store = Parser(add_help=False)
    store.add_argument(
        "--journal",
        required=True,
        metavar="PATH|URL",
        help="the job store: a SQLite file, or a postgresql:// URL",
    )

    def jobs_leaf(name: str, help_text: str, examples: str) -> Parser:
        return jobs_actions.add_parser(
            name,
            help=help_text,
            description=help_text,
            parents=[store, output],
            epilog=f"examples:\n{examples}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    listing = jobs_leaf(
        "list",
        "every job of the store, with its progress",
        "  ozoasync jobs list --journal spring.db\n"
        "  ozoasync jobs list --journal postgresql://ops@db/cleanup",
    )
    listing.set_defaults(handler=jobs_commands.jobs_list)
    status = jobs_leaf(
        "status",
        "one job's counts by outcome, rate and ETA",
        "  ozoasync jobs status 'campaign-data.delete spring @ acme@api.example' --journal x.db\n"
        "  ozoasync jobs status NAME --journal spring.db --json | jq .outcomes",
    )
    status.add_argument("job", metavar="JOB", help="the job's name (see jobs list)")
    status.add_argument("--json", action="store_true", help="the status as one JSON object")
    status.set_defaults(handler=jobs_commands.jobs_status)
    export = jobs_leaf(
        "export",
        "the audit record: every number with outcome, message, attempts, finished-at (UTC)",
        "  ozoasync jobs export NAME --journal spring.db --report spring-audit.csv\n"
        "  ozoasync jobs export NAME --journal postgresql://ops@db/cleanup --report audit.json",
    )
    export.add_argument("job", metavar="JOB", help="the job's name (see jobs list)")
    export.add_argument(
        "--report", required=True, metavar="PATH", help="where to write it (.csv or .json)"
    )
    export.set_defaults(handler=jobs_commands.jobs_export)

    check_command = commands.add_parser(
        "check",
        help="verify the environment, the credentials and the auth mode (one request)",
        description=check.__doc__,
        epilog=f"{ENVIRONMENT}\n\nexamples:\n  ozoasync check\n  ozoasync check isales\n"
        "  OZONETEL_AUTH=token ozoasync check cloudagent --allow-token",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[output],
    )
    check_command.add_argument(
        "vendor",
        nargs="*",
        type=vendor,
        metavar="{cloudagent,isales}",
        help="what to check (default: each vendor whose variables are set)",
    )
    check_command.add_argument(
        "--allow-token",
        action="store_true",
        help="token mode without OZOASYNC_REDIS_URL: allow generating a token (1 of 10 per "
        "hour; it revokes the tokens other processes hold)",
    )
    check_command.set_defaults(handler=check.check, server_variables=None)

    demo_command = commands.add_parser(
        "demo",
        help="a whole bulk cleanup against the built-in emulators (no account, no network)",
        description="Starts the CloudAgent and CC-iSales emulators in-process with a realistic "
        "campaign, then runs a bulk cleanup and the other operations, and prints a summary.",
        epilog="examples:\n  ozoasync demo\n  ozoasync demo --fast",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[output],
    )
    demo_command.add_argument(
        "--fast", action="store_true", help="a smaller campaign (a few seconds)"
    )
    demo_command.set_defaults(handler=demo.demo)

    serve = commands.add_parser(
        "emulator",
        help="serve the CloudAgent and CC-iSales emulators for your own experiments",
        description="Serves both emulators on loopback HTTP, seeded with the demo's data, "
        "until interrupted (Ctrl-C or SIGTERM).",
        epilog="examples:\n  ozoasync emulator --port 8080 --numbers-file numbers.txt\n"
        "  ozoasync emulator --rate-limit 100/1 --fault-rate 0.05",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[output],
    )
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    serve.add_argument(
        "--port", type=port, default=8080, help="CloudAgent emulator port (default 8080)"
    )
    serve.add_argument(
        "--isales-port", type=port, help="CC-iSales emulator port (default: --port + 1)"
    )
    serve.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of requests that get an injected fault, 0 to 1 (default 0)",
    )
    serve.add_argument(
        "--rate-limit",
        type=rate_limit,
        metavar="N/SECONDS",
        help="the deleteCampaignData limit it enforces (default 100/60, the vendor's; "
        "e.g. 100/1 to run 60x faster, with the same --rate-limit for the client)",
    )
    serve.add_argument(
        "--numbers-file",
        metavar="PATH",
        help="write the demo's cleanup list (numbers to delete from the campaign) to PATH",
    )
    serve.set_defaults(handler=emulator.emulator)
    return parser
