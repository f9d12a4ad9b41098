"""Models of gateways: a source (a gateway's log store and its high-water mark) and its syncs (job rows)."""
from gateways.models.sources import GatewayKind, GatewaySource
from gateways.models.syncs import GatewaySync

__all__ = ["GatewayKind", "GatewaySource", "GatewaySync"]
