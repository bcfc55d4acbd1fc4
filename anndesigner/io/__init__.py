"""Network files (``.ann``). No Qt."""

from .annfile import load_network, network_to_dict, save_network
from .migrations import CURRENT_SCHEMA, FORMAT_NAME, migrate

__all__ = ["CURRENT_SCHEMA", "FORMAT_NAME", "load_network", "migrate", "network_to_dict", "save_network"]
