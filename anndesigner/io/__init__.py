"""Network files (``.ann``). No Qt."""

from .annfile import LIMITS, SaveError, clean_stale_temps, load_network, network_to_dict, read_meta, save_network
from .migrations import CURRENT_SCHEMA, FORMAT_NAME, migrate

__all__ = ["CURRENT_SCHEMA", "FORMAT_NAME", "LIMITS", "SaveError", "clean_stale_temps", "load_network", "migrate",
           "network_to_dict", "read_meta", "save_network"]
