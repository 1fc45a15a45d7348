"""FakeISales: an emulator of CC-iSales outbound campaigns on real loopback HTTP(S).

It verifies every request's C2 signature by recomputing it from the bytes it received, with a
verifier of its own (``_c2``: written from the vendor's description, sharing no code with the
client's signing, so a client bug cannot pass; HTTP 401 when it does not match), and answers
with the vendor's envelope and codes.

Choices where the vendor's pages are silent (documented here, so tests can rely on them):

- A deletion that would leave the campaign without a calling number is refused whole, nothing
  deleted: ``0200001`` with :data:`KEEP_ONE_DESCRIPTION`.
- Deleting numbers that are not on the campaign is not an error: ``num:N`` counts only the
  numbers actually removed. Adding numbers already on it skips them: ``num:N`` counts only the
  new ones (so both operations are safe to repeat).
- A refused signature answers HTTP 401 with ``resultDesc`` saying why (a real server says
  less). Timestamps further than ``max_clock_skew`` seconds from the emulator's clock are
  refused.
- Validation codes: a path id that is not an int ``02000006``, out of range ``02000007``; a
  body that is not a JSON object ``02000008``; ``callerNo`` missing or empty ``02000001``, not a
  list of objects ``02000006``, over 100 entries ``02000011``; an ``accessCode`` missing or
  empty ``02000001``, not a string ``02000006``, not digits ``02000002``, over 24 long
  ``02000003``; a ``priority`` (additions) missing ``02000001``, not an int ``02000006``, not
  1..5 ``02000007``; an unknown campaign ``0200007``. Descriptions are the vendor's table's.
"""

from __future__ import annotations

import hmac
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from aiohttp import web

from ..isales import wire
from . import _c2
from ._server import EmulatorServer, json_response
from .faults import FaultPlan

KEEP_ONE_DESCRIPTION = "Parameter error. At least one calling number must be reserved for a task."
_PATTERN_CALLER_NO = f"{wire.API}/campaigns/{{vdn}}/callerNo/{{campaign}}"
_PATTERN_CAMPAIGN = f"{wire.API}/campaigns/{{vdn}}/{{campaign}}"
_MAX_ACCESS_CODE = 24

Entries = list[tuple[str, int]]


class _Refusal(Exception):
    """A request the emulator answers with an error envelope."""

    def __init__(self, code: str, description: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.description = description or wire.ERROR_DESCRIPTIONS[code]


def envelope(code: str, description: str, status: int = 200, **extra: Any) -> web.Response:
    """The vendor's answer: the same code and description in ``result*`` and ``return*``."""
    payload = {
        "resultCode": code,
        "resultDesc": description,
        "returnCode": code,
        "returnDesc": description,
        **extra,
    }
    return json_response(payload, status)


@dataclass
class FakeCampaign:
    """A seeded outbound campaign: its calling numbers map to their priorities."""

    name: str = ""
    status: int = 2
    caller_numbers: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ForcedAnswer:
    code: str
    description: str
    endpoint: str | None
    http_status: int


def _path_id(text: str, maximum: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _Refusal("02000006") from None
    if value < 1 or (maximum is not None and value > maximum):
        raise _Refusal("02000007")
    return value


def _access_code(entry: object) -> str:
    if not isinstance(entry, dict):
        raise _Refusal("02000006")
    code = entry.get("accessCode")
    if code is None or code == "":
        raise _Refusal("02000001")
    if not isinstance(code, str):
        raise _Refusal("02000006")
    if not code.isascii() or not code.isdigit():
        raise _Refusal("02000002")
    if len(code) > _MAX_ACCESS_CODE:
        raise _Refusal("02000003")
    return code


def _priority(entry: dict[str, Any]) -> int:
    priority = entry.get("priority")
    if priority is None:
        raise _Refusal("02000001")
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise _Refusal("02000006")
    if not 1 <= priority <= wire.MAX_PRIORITY:
        raise _Refusal("02000007")
    return priority


def caller_entries(body: bytes, *, with_priority: bool) -> Entries:
    """The ``callerNo`` entries of a request body, checked as the server checks them
    (numbers of a deletion get priority 0)."""
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise _Refusal("02000008") from None
    if not isinstance(decoded, dict):
        raise _Refusal("02000008")
    entries = decoded.get("callerNo")
    if entries is None or entries == []:
        raise _Refusal("02000001")
    if not isinstance(entries, list):
        raise _Refusal("02000006")
    if len(entries) > wire.MAX_NUMBERS_PER_REQUEST:
        raise _Refusal("02000011")
    checked = []
    for entry in entries:
        code = _access_code(entry)
        checked.append((code, _priority(entry) if with_priority else 0))
    return checked


class FakeISales(EmulatorServer):
    """An emulator of CC-iSales. ``async with FakeISales() as fake:`` then point a client at
    ``fake.url`` with ``fake.app_key`` and ``fake.app_secret``.

    - Seed with :meth:`add_campaign`; read ``campaigns`` (``{vdn_id: {campaign_id:
      FakeCampaign}}``), :meth:`caller_numbers`, ``requests``, ``counters``.
    - :meth:`fail_next` makes the next request(s) answer a given code (every code of the
      vendor's table can be produced this way).
    - ``rate_limits``: ``{endpoint: (max_requests, period)}`` counted on arrival (endpoints
      ``deleteCallerNo``, ``addCallerNo``, ``getCampaign``), answered with HTTP 429 and
      Retry-After; ``faults``: a :class:`FaultPlan`; ``ssl_context``: serve HTTPS.
    """

    def __init__(
        self,
        *,
        app_key: str = "AK-demo",
        app_secret: str = "SK-demo",
        max_clock_skew: float | None = 900.0,
        rate_limits: dict[str, tuple[int, float]] | None = None,
        faults: FaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(
            host=host, port=port, rate_limits=rate_limits, faults=faults, ssl_context=ssl_context
        )
        self.app_key = app_key
        self.app_secret = app_secret
        self.max_clock_skew = max_clock_skew
        self.campaigns: dict[int, dict[int, FakeCampaign]] = {}
        self._forced: deque[ForcedAnswer] = deque()

    def __repr__(self) -> str:
        return f"FakeISales(campaigns={sum(len(c) for c in self.campaigns.values())})"

    # --- seeding and inspection ---------------------------------------------------------------

    def add_campaign(
        self,
        vdn_id: int,
        campaign_id: int,
        caller_numbers: Iterable[str] = (),
        *,
        name: str = "",
        status: int = 2,
        priority: int = 1,
    ) -> FakeCampaign:
        """Create (or extend) campaign ``campaign_id`` of VDN ``vdn_id`` with calling numbers
        of ``priority``; ``name`` defaults to ``campaign-<id>``, ``status`` 2 is "started"."""
        campaign = self.campaigns.setdefault(vdn_id, {}).setdefault(
            campaign_id, FakeCampaign(name=name or f"campaign-{campaign_id}", status=status)
        )
        campaign.caller_numbers.update(dict.fromkeys(caller_numbers, priority))
        return campaign

    def caller_numbers(self, vdn_id: int, campaign_id: int) -> set[str]:
        """The calling numbers campaign ``campaign_id`` of VDN ``vdn_id`` has now."""
        return set(self.campaigns[vdn_id][campaign_id].caller_numbers)

    def fail_next(
        self,
        code: str,
        description: str | None = None,
        *,
        endpoint: str | None = None,
        count: int = 1,
        http_status: int = 200,
    ) -> None:
        """Answer the next ``count`` signed requests (to ``endpoint``, if named) with ``code``
        and ``description`` (by default the vendor's description of the code), acting on
        nothing."""
        text = description if description is not None else wire.ERROR_DESCRIPTIONS.get(code, "")
        self._forced.extend([ForcedAnswer(code, text, endpoint, http_status)] * count)

    # --- the server -----------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [
            web.delete(_PATTERN_CALLER_NO, self._signed(self._delete_caller_numbers)),
            web.post(_PATTERN_CALLER_NO, self._signed(self._add_caller_numbers)),
            web.get(_PATTERN_CAMPAIGN, self._signed(self._get_campaign)),
        ]

    def endpoint_of(self, request: web.Request) -> str:
        segments = request.path.rstrip("/").split("/")
        if "callerNo" in segments:
            if request.method == "DELETE":
                return wire.DELETE_CALLER_NO
            if request.method == "POST":
                return wire.ADD_CALLER_NO
        elif request.method == "GET" and request.path.startswith(f"{wire.API}/campaigns/"):
            return wire.GET_CAMPAIGN
        return segments[-1]

    def too_many_requests(self, retry_after: str) -> web.Response:
        response = json_response({"resultDesc": "Too many requests"}, 429)
        response.headers["Retry-After"] = retry_after
        return response

    def signature_problem(self, request: web.Request, body: bytes) -> str | None:
        """Why the request's C2 signature is refused, or None when it holds."""
        parsed = _c2.read_header(request.headers.get("Authorization", ""))
        if parsed is None:
            return "missing or malformed Authorization"
        if parsed.app_key != self.app_key:
            return "unknown app key"
        try:
            signed_at = _c2.read_timestamp(parsed.timestamp)
        except ValueError:
            return "malformed timestamp"
        skew = abs((datetime.now(UTC) - signed_at).total_seconds())
        if self.max_clock_skew is not None and skew > self.max_clock_skew:
            return "timestamp outside the allowed clock skew"
        problem = _c2.names_problem(parsed)
        if problem is not None:
            return problem
        if any(name not in request.headers for name in parsed.signed_headers):
            return "a signed header is missing"
        expected = _c2.expected_signature(
            parsed,
            secret=self.app_secret,
            method=request.method,
            path=request.rel_url.raw_path,
            query=request.rel_url.query.items(),
            headers={name: request.headers[name] for name in parsed.signed_headers},
            body=body,
        )
        if not hmac.compare_digest(expected, parsed.signature):
            return "signature does not match"
        return None

    def _signed(
        self, handler: Callable[[web.Request, bytes], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        """``handler`` behind signature verification, forced answers and refusals."""

        async def serve(request: web.Request) -> web.Response:
            body = await request.read()
            problem = self.signature_problem(request, body)
            if problem is not None:
                self.counters["unauthorized"] += 1
                description = f"authentication failed: {problem}"
                return json_response({"resultDesc": description, "returnDesc": description}, 401)
            forced = self._take_forced(self.endpoint_of(request))
            if forced is not None:
                return envelope(forced.code, forced.description, forced.http_status)
            try:
                return await handler(request, body)
            except _Refusal as refusal:
                return envelope(refusal.code, refusal.description)

        return serve

    def _take_forced(self, endpoint: str) -> ForcedAnswer | None:
        for index, forced in enumerate(self._forced):
            if forced.endpoint is None or forced.endpoint == endpoint:
                del self._forced[index]
                return forced
        return None

    def _campaign(self, request: web.Request) -> tuple[int, int, FakeCampaign]:
        vdn_id = _path_id(request.match_info["vdn"], wire.MAX_VDN_ID)
        campaign_id = _path_id(request.match_info["campaign"])
        campaign = self.campaigns.get(vdn_id, {}).get(campaign_id)
        if campaign is None:
            raise _Refusal(wire.CAMPAIGN_NOT_FOUND)
        return vdn_id, campaign_id, campaign

    # --- endpoints ------------------------------------------------------------------------------

    async def _delete_caller_numbers(self, request: web.Request, body: bytes) -> web.Response:
        entries = caller_entries(body, with_priority=False)
        _, _, campaign = self._campaign(request)
        present = {code for code, _ in entries if code in campaign.caller_numbers}
        if len(campaign.caller_numbers) - len(present) < 1:
            raise _Refusal(wire.PARAMETER_ERROR, KEEP_ONE_DESCRIPTION)
        for code in present:
            del campaign.caller_numbers[code]
        return envelope(wire.SUCCESS, f"delete callerNo success.num:{len(present)}")

    async def _add_caller_numbers(self, request: web.Request, body: bytes) -> web.Response:
        entries = caller_entries(body, with_priority=True)
        _, _, campaign = self._campaign(request)
        added = {code: p for code, p in entries if code not in campaign.caller_numbers}
        campaign.caller_numbers.update(added)
        return envelope(wire.SUCCESS, f"add callerNo success.num:{len(added)}")

    async def _get_campaign(self, request: web.Request, body: bytes) -> web.Response:
        vdn_id, campaign_id, campaign = self._campaign(request)
        details = {
            "vdnId": vdn_id,
            "campaignId": campaign_id,
            "name": campaign.name,
            "status": campaign.status,
            "callerNo": [
                {"accessCode": code, "priority": priority}
                for code, priority in campaign.caller_numbers.items()
            ],
        }
        return envelope(wire.SUCCESS, "query campaign success", resultData=details)
