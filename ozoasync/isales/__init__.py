"""Huawei CC-iSales: calling numbers of outbound campaigns, with C2 AK/SK signing."""

from __future__ import annotations

from .client import ISalesClient

__all__ = ["ISalesClient"]
