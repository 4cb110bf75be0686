"""What the admin API reads about affiliate commissions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

import msgspec

#: pending: owed (held until the return window closes); partially_reversed: the order
#: was partly refunded and as much of the commission taken back; reversed: nothing owed.
CommissionState = Literal["pending", "partially_reversed", "reversed"]
STATES: tuple[str, ...] = get_args(CommissionState)


class CommissionRead(msgspec.Struct, kw_only=True):
    """A commission earned on an order. Amounts are minor units of ``currency``;
    ``amount - reversed_amount`` is what the programme still owes."""

    id: str
    order_id: str
    order_number: int
    region_id: str
    provider: str
    affiliate: str
    referral_code: str
    reference: str | None
    currency: str
    amount: int
    reversed_amount: int
    state: CommissionState
    created_at: datetime
    updated_at: datetime
