"""ozoasync: async clients for Ozonetel CloudAgent and Huawei CC-iSales data-removal APIs,
at the vendors' limits, safely."""

from __future__ import annotations

import logging

from .cloudagent.client import CloudAgentClient
from .errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    CoordinationError,
    InvalidParameterError,
    LimitExceededError,
    NotFoundError,
    OzoError,
    RateLimitError,
    RequestValidationError,
    ResponseDecodeError,
    ServerError,
    TokenBudgetExhaustedError,
    TransportError,
)
from .isales.client import ISalesClient
from .results import (
    BlockNumberDeletion,
    CallerNumberAddition,
    CallerNumberDeletion,
    Campaign,
    CampaignDataDeletion,
    FailedChunk,
    FailedNumber,
    Outcome,
    PhoneEdit,
    Progress,
    ScheduledDataDeletion,
    Token,
)
from .transport.coordination import Coordination, InProcessCoordination, TokenBudget
from .transport.ratelimit import RateLimit
from .transport.redis_coordination import RedisCoordination
from .transport.retry import RetryPolicy

__version__ = "0.1.0"

logging.getLogger("ozoasync").addHandler(logging.NullHandler())

__all__ = [
    "APIError",
    "AuthenticationError",
    "BlockNumberDeletion",
    "CallerNumberAddition",
    "CallerNumberDeletion",
    "Campaign",
    "CampaignDataDeletion",
    "CloudAgentClient",
    "ConflictError",
    "Coordination",
    "CoordinationError",
    "FailedChunk",
    "FailedNumber",
    "ISalesClient",
    "InProcessCoordination",
    "InvalidParameterError",
    "LimitExceededError",
    "NotFoundError",
    "Outcome",
    "OzoError",
    "PhoneEdit",
    "Progress",
    "RateLimit",
    "RateLimitError",
    "RedisCoordination",
    "RequestValidationError",
    "ResponseDecodeError",
    "RetryPolicy",
    "ScheduledDataDeletion",
    "ServerError",
    "Token",
    "TokenBudget",
    "TokenBudgetExhaustedError",
    "TransportError",
    "__version__",
]
