"""Reads of gateways: the sources with their state, and a source's recent syncs."""
from gateways.models import GatewaySource, GatewaySync

RECENT_SYNCS = 20


def sources_list():
    return GatewaySource.objects.order_by("name")


def source_get(*, pk: int) -> GatewaySource:
    return GatewaySource.objects.get(pk=pk)


def syncs_recent(*, source: GatewaySource | None = None, limit: int = RECENT_SYNCS):
    qs = GatewaySync.objects.select_related("source", "batch").order_by("-created_at", "-id")
    if source is not None:
        qs = qs.filter(source=source)
    return qs[:limit]


def sources_health() -> list[dict]:
    """[{"name", "enabled", "high_water_at", "error"}] of every source: what alerts watch."""
    return [{"name": s.name, "enabled": s.enabled, "high_water_at": s.high_water_at, "error": s.last_error}
            for s in GatewaySource.objects.only("name", "enabled", "high_water_at", "last_error")]
