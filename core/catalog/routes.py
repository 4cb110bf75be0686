ADMIN_ROUTES: list[object] = []
STORE_ROUTES: list[object] = []
