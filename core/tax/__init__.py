"""Tax: the provider contract; rates live in the tax providers (plugins)."""
