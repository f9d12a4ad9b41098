"""Models of logs: customers, users, tokens, calls, rollups, prices, ingest and export jobs."""
from logs.models.calls import (
    DAY_HOURS,
    HOUR_FIELDS,
    LATENCY_BUCKETS_MS,
    AllCustomersChannelRollup,
    AllCustomersDailyChannelRollup,
    AllCustomersDailyRollup,
    AllCustomersRollup,
    AllCustomersStale,
    Call,
    CallKey,
    CoarseChannelRollup,
    CoarseDailyChannelRollup,
    CoarseDailyRollup,
    CoarseRollup,
    HourlyRollup,
    RollupVersion,
)
from logs.models.catalog import PriceRow
from logs.models.customers import ApiToken, Customer, User
from logs.models.exports import ExportFormat, ExportJob
from logs.models.ingest import IngestBatch, IngestConflict

__all__ = [
    "DAY_HOURS", "HOUR_FIELDS", "LATENCY_BUCKETS_MS", "AllCustomersChannelRollup", "AllCustomersDailyChannelRollup",
    "AllCustomersDailyRollup", "AllCustomersRollup", "AllCustomersStale", "ApiToken", "Call", "CallKey",
    "CoarseChannelRollup", "CoarseDailyChannelRollup", "CoarseDailyRollup", "CoarseRollup", "Customer", "ExportFormat", "ExportJob", "HourlyRollup", "IngestBatch",
    "IngestConflict", "PriceRow", "RollupVersion", "User",
]
