"""Network files (``.ann``): the zip reading and writing, and the schema
migrations. No Qt. Importing this package makes :meth:`Network.save` and
:meth:`Network.load` use :func:`save_network` and :func:`load_network`."""

from ..engine.network import FileFormat, use_file_format
from .annfile import LIMITS, SaveError, clean_stale_temps, load_network, network_json, read_meta, save_network
from .migrations import CURRENT_SCHEMA, FORMAT_NAME, migrate

use_file_format(FileFormat(save_network, load_network))

__all__ = ["CURRENT_SCHEMA", "FORMAT_NAME", "LIMITS", "SaveError", "clean_stale_temps", "load_network", "migrate",
           "network_json", "read_meta", "save_network"]
