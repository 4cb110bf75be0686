"""Error codes of installing and uninstalling plugins."""

from core.kernel.errors import error_code

PLUGIN_NOT_AVAILABLE = error_code(
    "plugin_not_available",
    404,
    "Plugin not available",
    "No plugin {package} is installed on this deployment; ask its operator to add the package.",
)
PLUGIN_NOT_INSTALLED = error_code(
    "plugin_not_installed",
    409,
    "Plugin not installed",
    "The plugin {package} is not installed in this store; install it first.",
)
INSTALLATION_NOT_FOUND = error_code(
    "installation_not_found",
    404,
    "Installation not found",
    "The plugin {package} is not installed in this store.",
)
PERMISSIONS_NOT_GRANTED = error_code(
    "permissions_not_granted",
    422,
    "Permissions not granted",
    "The plugin {package} asks for {requested}; grant exactly those permissions.",
)
PLUGIN_IN_USE = error_code(
    "plugin_in_use",
    409,
    "Plugin in use",
    "The plugin {package} is the only {kind} provider of region(s) {regions}; activate "
    "another provider there first, or uninstall with force=true.",
)
