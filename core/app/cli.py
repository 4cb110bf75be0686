"""The ``caravan`` command line: serve, migrate, seed the demo, mint tokens, list plugins.

Every command reads its settings from ``CARAVAN_*`` environment variables
(``CARAVAN_DATABASE_URL`` names the database). Commands that touch the
database open it themselves, inside one ``asyncio.run``; progress goes to
stderr, results to stdout, so ``caravan demo --json | jq`` and
``TOKEN=$(caravan tokens create …)`` work. Plugins add their own commands
through the ``register_cli_commands`` hook.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Final, TypeVar

import asyncpg
import click
import msgspec
from rich.console import Console
from rich.table import Table as RichTable

from core.app import housekeeping
from core.app.demo import DemoCredentials, SeedError, display_url, seed_demo
from core.app.wiring import activator, app_scope_of
from core.auth import service as auth_service
from core.auth.scopes import SCOPES
from core.db import engine as db
from core.events.worker import Worker, run_forever
from core.kernel import secrets
from core.kernel.errors import CaravanError
from core.kernel.settings import Settings
from core.plugins.activations.service import rotate_secrets
from core.plugins.host import PluginHost, environment_plugins
from core.plugins.scaffold import SCAFFOLD_KINDS, ScaffoldError
from core.plugins.scaffold import new_plugin as scaffold
from core.stores.tables import Store
from core.web.problems import render_problem

T = TypeVar("T")

DEFAULT_API: Final = "http://127.0.0.1:8000"
APP_FACTORY: Final = "core.app:create_app"


class CaravanGroup(click.Group):
    """The root group; plugin commands are added the first time commands are looked up."""

    _plugins_added = False
    _host: PluginHost | None = None

    @property
    def host(self) -> PluginHost:
        """The installed plugins' host, loaded (and made current) on first use."""
        if self._host is None:
            self._host = PluginHost.load()
            self._host.activate()
        return self._host

    def _add_plugins(self) -> None:
        if not self._plugins_added:
            self._plugins_added = True
            self.host.add_cli_commands(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the command names, plugins' included."""
        self._add_plugins()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the command ``cmd_name``, plugins' included."""
        self._add_plugins()
        return super().get_command(ctx, cmd_name)


def _host() -> PluginHost:
    """The command line's plugin host (that of the installed plugins)."""
    assert isinstance(main, CaravanGroup)
    return main.host


@click.group(cls=CaravanGroup)
@click.version_option(package_name="caravan", prog_name="caravan")
def main() -> None:
    """Caravan: headless commerce for cross-border direct-to-consumer brands."""


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


class Steps:
    """Step lines on stderr, each with the time since the command started."""

    def __init__(self) -> None:
        self.console = _stderr()
        self.started = time.monotonic()

    def __call__(self, line: str) -> None:
        """Show one step."""
        elapsed = time.monotonic() - self.started
        self.console.print(f"[dim]{elapsed:6.2f}s[/] {line}", soft_wrap=True)


def _explain(exc: CaravanError) -> str:
    """The English message of a service error, with its field errors."""
    problem = render_problem("en", exc.error, exc.params, exc.errors)
    issues = "".join(f"\n  {e.field}: {e.code}" for e in problem.errors or [])
    return f"{problem.detail} ({exc.code}){issues}"


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[None]:
    """Bind every table to ``settings``' database for the duration of the block.

    The previous binding is restored afterwards, so the command line can run
    inside a process that already serves another database (as tests do).

    Raises:
        click.ClickException: when the database is not migrated.
    """
    tables = _host().tables
    previous_engine = db.current()
    previous = [(table, table._meta.db) for table in tables]
    engine = db.create_engine(settings)
    db.bind(engine, tables)
    try:
        await db.start(engine, settings)
        try:
            if not await Store.table_exists():
                raise click.ClickException(
                    f"{display_url(settings.database_url)} is not migrated: run `caravan migrate`"
                )
            yield
        finally:
            await db.stop(engine)
    finally:
        db.bind(previous_engine, [])
        for table, table_db in previous:
            table._meta.db = table_db


#: Failures that mean "the database cannot be reached", not a bug.
_CONNECT_ERRORS: Final = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    asyncpg.InvalidCatalogNameError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidPasswordError,
)


def _connect_error(exc: BaseException) -> BaseException | None:
    """Return the connection failure behind ``exc`` (drivers wrap them), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _CONNECT_ERRORS):
            return seen
        if isinstance(seen, sqlite3.OperationalError) and "unable to open" in str(seen):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


@contextmanager
def _reaching(settings: Settings) -> Iterator[None]:
    """Turn "cannot connect" failures into a one-line error naming the database."""
    try:
        yield
    except click.ClickException:
        raise
    except Exception as exc:
        cause = _connect_error(exc)
        if cause is None:
            raise
        url = display_url(settings.database_url)
        raise click.ClickException(f"cannot open {url}: {cause}") from exc


def _run(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work()`` on an event loop with the database of ``settings`` open, an
    application scope of ``settings`` and the installed plugins' host current."""

    async def wrapped() -> T:
        activator(app_scope_of(settings), _host())()
        async with open_database(settings):
            try:
                return await work()
            except CaravanError as exc:
                raise click.ClickException(_explain(exc)) from exc

    with _reaching(settings):
        return asyncio.run(wrapped())


def _migrate(settings: Settings, say: Steps) -> None:
    say(f"migrating {display_url(settings.database_url)} to the latest revision…")
    from alembic.script import ScriptDirectory

    from core.db.migrate import alembic_config, upgrade

    with _reaching(settings):
        upgrade(settings.database_url, plugin_dirs=_host().migration_dirs)

    heads = ScriptDirectory.from_config(
        alembic_config(settings.database_url, plugin_dirs=_host().migration_dirs)
    ).get_heads()
    say(f"migrated: at {', '.join(sorted(heads))}")


# ---------------------------------------------------------------------------
# serve
# ---------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="Processes.")
@click.option(
    "--server",
    type=click.Choice(["granian", "uvicorn"]),
    default="granian",
    show_default=True,
    help="ASGI server.",
)
def serve(host: str, port: int, workers: int, server: str) -> None:
    """Serve the API (the core.app:create_app factory) until interrupted."""
    settings = Settings.from_env()
    _stderr().print(
        f"Caravan on http://{host}:{port} ({server}, {workers} worker(s), "
        f"database {display_url(settings.database_url)})"
    )
    if server == "uvicorn":
        import uvicorn

        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            access_log=False,
        )
        return
    from granian.constants import Interfaces, Loops
    from granian.server import Server

    Server(
        APP_FACTORY,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        factory=True,
        log_access=False,
    ).serve()


# ---------------------------------------------------------------------------
# worker
# ---------------------------------------------------------------------------


@main.command()
@click.option(
    "--poll-interval",
    type=click.FloatRange(0.05, 60),
    help="Seconds to wait when idle (default: CARAVAN_WORKER_POLL_INTERVAL).",
)
def worker(poll_interval: float | None) -> None:
    """Run the outbox worker (event subscribers, webhook deliveries) and the
    housekeeping (expired reservations, old idempotency keys) until interrupted.

    Several workers, here and inside `caravan serve`, may run at once; set
    CARAVAN_WORKER=false to keep `caravan serve` from running its own.
    """
    import signal

    settings = Settings.from_env()
    interval = poll_interval or settings.worker_poll_interval

    async def work() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with Worker(subscribers=_host().subscribers) as outbox_worker:
            _stderr().print(
                f"outbox worker {outbox_worker.name} on {display_url(settings.database_url)}"
            )
            await asyncio.gather(
                run_forever(outbox_worker, stop, interval),
                housekeeping.run(settings.housekeeping_interval, stop),
            )
        _stderr().print("outbox worker stopped")

    _run(settings, work)


# ---------------------------------------------------------------------------
# migrate
# ---------------------------------------------------------------------------


@main.command()
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (for a DBA).")
def migrate(sql: bool) -> None:
    """Migrate the database to the latest schema (Alembic, every head)."""
    settings = Settings.from_env()
    if sql:
        from alembic import command

        from core.db.migrate import alembic_config

        config = alembic_config(settings.database_url, plugin_dirs=_host().migration_dirs)
        command.upgrade(config, "heads", sql=True)
        return
    _migrate(settings, Steps())
    click.echo(f"{display_url(settings.database_url)}: migrated")


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


def _demo_summary(credentials: DemoCredentials, api: str) -> None:
    out = Console(highlight=False, soft_wrap=True)
    store = credentials.stores[0]
    key = store.storefronts[0].publishable_key
    shop = f"curl -H 'X-Publishable-Key: {key}'"
    lines = [
        f"operator token     {credentials.operator_token}",
        *(
            line
            for s in credentials.stores
            for line in (
                f"store              {s.name} ({s.handle}, {s.id})",
                f"  admin token      {s.admin_token}",
                *(f"  storefront {f.name:<6}{f.publishable_key}" for f in s.storefronts),
            )
        ),
        "",
        "Try it (after `caravan serve` or `make run`):",
        f"  curl {api}/health",
        f"  {shop} {api}/store/regions",
        f"  {shop} -H 'Accept-Language: de' {api}/store/products/everyday-tote",
        f"  {shop} '{api}/store/products?region=sea&locale=zh_Hans'",
        f"  curl -H 'Authorization: Bearer {store.admin_token}' '{api}/admin/products?limit=5'",
        f"  curl -H 'Authorization: Bearer {credentials.operator_token}' {api}/admin/stores",
        "",
        f"OpenAPI: {api}/schema/openapi.json",
    ]
    out.print("[bold]Caravan demo[/]", end=" ")
    out.print(f"on {credentials.database}\n", markup=False)
    for line in lines:
        out.print(line, markup=False)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (for scripts).")
@click.option("--api", default=DEFAULT_API, show_default=True, help="API address shown in output.")
def demo(as_json: bool, api: str) -> None:
    """Seed the demo store (idempotent) and print its credentials.

    Migrates the database first. Secrets are kept in a credentials file
    (mode 600) beside an SQLite database, or in the current directory for
    PostgreSQL, so a second run prints the same ones.
    """
    settings = Settings.from_env()
    say = Steps()
    _migrate(settings, say)
    say("seeding the demo store…")
    try:
        credentials = _run(settings, lambda: seed_demo(say, settings=settings))
    except SeedError as exc:
        raise click.ClickException(str(exc)) from exc
    say("demo store ready")
    if as_json:
        body = {**msgspec.to_builtins(credentials), "api": api.rstrip("/")}
        click.echo(msgspec.json.encode(body).decode())
    else:
        _demo_summary(credentials, api.rstrip("/"))


# ---------------------------------------------------------------------------
# tokens
# ---------------------------------------------------------------------------


@main.group()
def tokens() -> None:
    """Mint API tokens."""


async def _store_id(handle: str) -> str:
    row = await Store.select(Store.id).where(Store.handle == handle).first()
    if row is None:
        raise click.ClickException(f"no store with handle {handle!r}")
    return str(row["id"])


@tokens.command("create")
@click.option("--operator", is_flag=True, help="A platform operator token (manages stores).")
@click.option("--store", "handle", metavar="HANDLE", help="A staff token of this store.")
@click.option("--name", required=True, help="What the token is for (shown in listings).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(SCOPES),
    help="A scope of a staff token (repeat the option for several).",
)
@click.option("--expires-in-days", type=click.IntRange(1, 3650), help="Expiry (default: never).")
def create_token(
    operator: bool,
    handle: str | None,
    name: str,
    scopes: tuple[str, ...],
    expires_in_days: int | None,
) -> None:
    """Create a token and print its secret (shown only this once)."""
    if operator == (handle is not None):
        raise click.UsageError("give exactly one of --operator and --store HANDLE")
    if operator and scopes:
        raise click.UsageError("operator tokens have no scopes")
    if handle is not None and not scopes:
        raise click.UsageError("a store token needs at least one --scope")

    async def work() -> tuple[str, auth_service.TokenRecord]:
        store_id = None if handle is None else await _store_id(handle)
        return await auth_service.create_token(
            store_id=store_id, name=name, scopes=list(scopes), expires_in_days=expires_in_days
        )

    secret, record = _run(Settings.from_env(), work)
    whose = "operator" if operator else f"store {handle}"
    scope_text = f" with {', '.join(record.scopes)}" if record.scopes else ""
    _stderr().print(
        f"Created {whose} token {record.id} ({record.name}){scope_text}. "
        "The secret below is shown only once:",
        soft_wrap=True,
    )
    click.echo(secret)


# ---------------------------------------------------------------------------
# plugins
# ---------------------------------------------------------------------------


@main.group()
def plugins() -> None:
    """Inspect installed plugins."""


@plugins.command("list")
def list_plugins() -> None:
    """List the plugins installed in this environment and the providers they add
    (`caravan plugins info NAME` shows the whole manifest)."""
    found = environment_plugins()
    if not found:
        click.echo("no plugins installed")
        return
    described = _host().descriptions
    table = RichTable("name", "distribution", "version", "module", "Caravan API", "providers")
    for plugin in found:
        info = described.get(plugin.name)
        table.add_row(
            plugin.name,
            plugin.distribution or "-",
            plugin.version or "-",
            plugin.module,
            info.manifest.caravan_api if info else "-",
            ", ".join(f"{p.kind}:{p.code}" for p in info.providers) if info else "-",
        )
    console = Console(highlight=False)
    if not console.is_terminal:  # piped: whole cells, not cut to 80 columns
        console.width = 200
    console.print(table)


@plugins.command("info")
@click.argument("name")
def plugin_info(name: str) -> None:
    """Show a plugin's manifest and its providers' configuration schemas (JSON)."""
    described = _host().descriptions
    info = described.get(name)
    if info is None:
        known = ", ".join(sorted(described)) or "none"
        raise click.ClickException(f"no plugin named {name!r} (installed: {known})")
    click.echo(msgspec.json.format(msgspec.json.encode(info), indent=2).decode())


@main.group()
def plugin() -> None:
    """Write plugins."""


@plugin.command("new")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(SCAFFOLD_KINDS),
    required=True,
    help="What the plugin adds.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to write the distribution (caravan-NAME/).",
)
@click.option("--author", default="", help="The author named in the manifest.")
def new_plugin(name: str, kind: str, directory: Path, author: str) -> None:
    """Write a ready plugin distribution: pyproject with the entry point, manifest,
    a provider passing the contract suite (or a locale catalogue), tests, README."""

    try:
        root = scaffold(name, kind, directory, author=author)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {root}")
    click.echo(f"next: pip install -e {root} && pytest {root}")


# ---------------------------------------------------------------------------
# secrets
# ---------------------------------------------------------------------------


@main.group("secrets")
def secrets_group() -> None:
    """Keys of the secrets in provider configurations (CARAVAN_SECRET_KEYS)."""


@secrets_group.command("new-key")
def secrets_new_key() -> None:
    """Print a fresh key; put it first in CARAVAN_SECRET_KEYS to encrypt with it."""

    click.echo(secrets.new_key())


@secrets_group.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret with the first key of CARAVAN_SECRET_KEYS (the
    others must still include the keys they were encrypted with)."""

    settings = Settings.from_env()
    if not settings.secret_keys.strip():
        raise click.ClickException("CARAVAN_SECRET_KEYS is not set")
    try:
        secrets.keyring(settings.secret_keys)
    except secrets.SecretKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    done = _run(settings, rotate_secrets)
    click.echo(f"re-encrypted the secrets of {done} provider activation(s)")
