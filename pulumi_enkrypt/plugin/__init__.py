"""The ``enkrypt`` Pulumi provider plugin, served from the dynamic provider's core (see ``provider``).

Start it with ``python provider`` (the directory holding ``PulumiPlugin.yaml``): the engine does that through
the Python language host when a project names the plugin by path.
"""

from .provider import PACKAGE, EnkryptProvider, all_kinds, function_token, main, resource_token

__all__ = ["PACKAGE", "EnkryptProvider", "all_kinds", "function_token", "main", "resource_token"]
