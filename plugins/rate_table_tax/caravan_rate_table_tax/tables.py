"""The tax rates a store's staff set: per country, optional subdivision and tax category."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.plugins import UNBOUND, Store, id_column, timestamp_now


class TaxRate(Table, tablename="rate_table_tax_rates", db=UNBOUND):
    """One rate of a ``country`` (or one ``subdivision`` of it) for one tax ``category``."""

    caravan_unique = (("store", "country", "subdivision", "category"),)

    id = id_column()
    store = ForeignKey(Store, on_delete=OnDelete.cascade, null=False)
    country = Varchar(length=2)
    #: ISO 3166-2 subdivision suffix (``CA`` of ``US-CA``); ``""``: the whole country.
    subdivision = Varchar(length=3, default="")
    #: ``standard``, ``reduced``, ``zero``… (the variants' ``tax_category``).
    category = Varchar(length=32)
    #: The rate as a decimal string, ``0 <= rate < 1`` (``"0.19"``).
    rate = Varchar(length=16)
    #: The tax's name on receipts (``VAT``, ``GST``, ``Sales tax``).
    name = Varchar(length=64)
    created_at = timestamp_now()
    updated_at = timestamp_now()
