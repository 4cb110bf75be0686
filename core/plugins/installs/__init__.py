"""Plugins installed in a store: the permissions it granted, and uninstalling.

A plugin present on the deployment does nothing for a store until the store
installs it, granting the permissions its manifest asks for; only then can
the store activate the plugin's providers in its regions. The deployment's
default plugins are installed in every new store.
"""
