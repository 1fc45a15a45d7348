"""ozoasync: async clients for Ozonetel CloudAgent and Huawei CC-iSales data-removal APIs,
at the vendors' limits, safely."""

from __future__ import annotations

import logging

from .cloudagent.client import CloudAgentClient
from .errors import (
    APIError,
    AuthenticationError,
    BulkDataUnavailableError,
    ConflictError,
    CoordinationError,
    DeadlineExceededError,
    InvalidParameterError,
    LimitExceededError,
    NotFoundError,
    OzoError,
    RateLimitError,
    RequestValidationError,
    ResponseDecodeError,
    ServerError,
    ServerUnreachableError,
    TokenBudgetExhaustedError,
    TransportError,
)
from .isales.client import ISalesClient
from .logging_setup import configure_from_environment
from .results import (
    BlockNumberChunk,
    BlockNumberDeletion,
    BulkDataChunk,
    CallerNumberAddition,
    CallerNumberChunk,
    CallerNumberDeletion,
    Campaign,
    CampaignDataDeletion,
    ErrorRecord,
    FailedChunk,
    FailedNumber,
    NumberResult,
    Outcome,
    PhoneEdit,
    Progress,
    ScheduledDataDeletion,
    ScheduledNumberResult,
    ScheduledRow,
    ScheduledRowsDeletion,
    Token,
    enc_hook,
    to_json,
)
from .transport.coordination import (
    Coordination,
    InProcessCoordination,
    ScheduleStore,
    TokenBudget,
    TokenStore,
)
from .transport.observe import AttemptInfo, GiveUpInfo, Hooks, RateLimitWaitInfo
from .transport.ratelimit import RateLimit
from .transport.redis_coordination import RedisCoordination
from .transport.retry import RetryPolicy

__version__ = "0.1.0"

logging.getLogger("ozoasync").addHandler(logging.NullHandler())
configure_from_environment()

__all__ = [
    "APIError",
    "AttemptInfo",
    "AuthenticationError",
    "BlockNumberChunk",
    "BlockNumberDeletion",
    "BulkDataChunk",
    "BulkDataUnavailableError",
    "CallerNumberAddition",
    "CallerNumberChunk",
    "CallerNumberDeletion",
    "Campaign",
    "CampaignDataDeletion",
    "CloudAgentClient",
    "ConflictError",
    "Coordination",
    "CoordinationError",
    "DeadlineExceededError",
    "ErrorRecord",
    "FailedChunk",
    "FailedNumber",
    "GiveUpInfo",
    "Hooks",
    "ISalesClient",
    "InProcessCoordination",
    "InvalidParameterError",
    "LimitExceededError",
    "NotFoundError",
    "NumberResult",
    "Outcome",
    "OzoError",
    "PhoneEdit",
    "Progress",
    "RateLimit",
    "RateLimitError",
    "RateLimitWaitInfo",
    "RedisCoordination",
    "RequestValidationError",
    "ResponseDecodeError",
    "RetryPolicy",
    "ScheduleStore",
    "ScheduledDataDeletion",
    "ScheduledNumberResult",
    "ScheduledRow",
    "ScheduledRowsDeletion",
    "ServerError",
    "ServerUnreachableError",
    "Token",
    "TokenBudget",
    "TokenBudgetExhaustedError",
    "TokenStore",
    "TransportError",
    "__version__",
    "enc_hook",
    "to_json",
]
