"""Orders: frozen copies of checked-out carts and their lifecycle."""
