"""Customer accounts: registration, login sessions, profiles and address books.

Other domains reach customers through :mod:`core.customers.service`
(``customer_from_request``, ``require_customer``, ``get_customer``) and
:func:`core.customers.address_book.get_address`.
"""
