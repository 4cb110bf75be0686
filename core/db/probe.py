"""``python -m core.db.probe URL``: exit 0 if a PostgreSQL answers at URL's server.

Used by ``make test`` to decide whether to run the suite on PostgreSQL too.
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg

from core.db.engine import postgres_config


async def _probe(url: str) -> bool:
    cfg = {**postgres_config(url), "database": "postgres"}
    try:
        conn = await asyncpg.connect(**cfg, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def main() -> None:
    """Probe ``sys.argv[1]``."""
    sys.exit(0 if asyncio.run(_probe(sys.argv[1])) else 1)


if __name__ == "__main__":
    main()
