from gateways.models.sources import GatewayKind, GatewaySource
from gateways.models.syncs import GatewaySync

__all__ = ["GatewayKind", "GatewaySource", "GatewaySync"]
