"""The ``caravan`` command line against a fresh database of its own.

Commands run through click's ``CliRunner`` in a worker thread (each command
runs its own event loop, as it does in a shell). The database is a new SQLite
file, or a fresh PostgreSQL database beside the suite's when the suite runs
on PostgreSQL. What the commands did is checked through the real app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from litestar import Litestar
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.app.cli import CaravanGroup, main
from core.db import engine as db
from core.db.engine import postgres_config
from core.db.migrate import alembic_config
from core.kernel.settings import Settings
from core.plugins.current import current_host
from core.plugins.hookspecs import hookimpl
from core.plugins.host import PluginHost, PluginInfo, create_plugin_manager, environment_plugins
from core.plugins.manifests import Manifest
from core.plugins.testing.api import manifest_fields
from core.plugins.testing.fixtures import postgres_url

PG_URL = postgres_url()
ROOT = Path(__file__).resolve().parents[2]


async def _fresh_postgres(url: str) -> str:
    """Return the URL of an empty database named after the suite's, plus ``_cli``."""
    cfg = postgres_config(url)
    name = f"{cfg['database']}_cli"
    admin = await asyncpg.connect(**{**cfg, "database": "postgres"})
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
async def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty database for the command line; the working directory is ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    if PG_URL:
        return await _fresh_postgres(PG_URL)
    (tmp_path / "db").mkdir()
    return f"sqlite:///{tmp_path}/db/caravan.db"


def _credentials_file(tmp_path: Path) -> Path:
    return tmp_path / ("caravan-demo.json" if PG_URL else "db/caravan-demo.json")


async def caravan(*args: str, database_url: str, cli: Any = main) -> Result:
    """Run ``caravan ARGS`` with ``CARAVAN_DATABASE_URL`` set, in a worker thread."""
    runner = CliRunner()
    env = {"CARAVAN_DATABASE_URL": database_url}
    return await asyncio.to_thread(runner.invoke, cli, list(args), env=env, catch_exceptions=False)


@contextlib.contextmanager
def _restore_binding() -> Iterator[None]:
    """Put the tables back on the suite's database after another app bound them."""
    engine, previous = db.current(), [(t, t._meta.db) for t in current_host().tables]
    try:
        yield
    finally:
        db.bind(engine, [])
        for table, table_db in previous:
            table._meta.db = table_db


@contextlib.asynccontextmanager
async def app_on(database_url: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The real app serving ``database_url``, as an HTTP client."""
    with _restore_binding():
        app = create_app(Settings(database_url=database_url, pool_min=1, pool_max=2))
        async with AsyncTestClient(app=app, base_url="http://caravan.test") as client:
            yield client


async def _demo(database_url: str) -> dict[str, Any]:
    result = await caravan("demo", "--json", database_url=database_url)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _total(client: AsyncTestClient[Litestar], path: str, token: str) -> int:
    r = await client.get(path, headers=_bearer(token), params={"limit": 100})
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] is None
    return len(r.json()["items"])


async def _counts(client: AsyncTestClient[Litestar], demo: dict[str, Any]) -> dict[str, int]:
    token = demo["stores"][0]["admin_token"]
    paths = ("regions", "storefronts", "collections", "products")
    return {path: await _total(client, f"/admin/{path}", token) for path in paths}


# ---------------------------------------------------------------------------
# migrate
# ---------------------------------------------------------------------------


async def test_migrate_prepares_an_empty_database(cli_database: str) -> None:
    refused = await caravan(
        "tokens", "create", "--operator", "--name", "x", database_url=cli_database
    )
    assert refused.exit_code == 1
    assert "is not migrated: run `caravan migrate`" in refused.stderr

    result = await caravan("migrate", database_url=cli_database)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(": migrated")
    assert "migrating" in result.stderr
    heads = ScriptDirectory.from_config(
        alembic_config(cli_database, plugin_dirs=current_host().migration_dirs)
    ).get_heads()
    assert f"migrated: at {', '.join(sorted(heads))}" in result.stderr
    again = await caravan("migrate", database_url=cli_database)
    assert again.exit_code == 0, again.output
    token = await caravan(
        "tokens", "create", "--operator", "--name", "x", database_url=cli_database
    )
    assert token.exit_code == 0, token.output


async def test_migrate_sql_prints_ddl_and_changes_nothing(cli_database: str) -> None:
    result = await caravan("migrate", "--sql", database_url=cli_database)

    assert result.exit_code == 0, result.output
    assert "CREATE TABLE stores" in result.stdout
    assert "CREATE TABLE alembic_version" in result.stdout
    refused = await caravan(
        "tokens", "create", "--operator", "--name", "x", database_url=cli_database
    )
    assert refused.exit_code == 1
    assert "is not migrated" in refused.stderr


async def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/dir/caravan.db"
    for args in (("migrate",), ("demo",), ("tokens", "create", "--operator", "--name", "x")):
        result = await caravan(*args, database_url=url)
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines()[-1] == (
            f"Error: cannot open {url}: unable to open database file"
        )
    assert not (tmp_path / "missing").exists()


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


async def test_demo_json_gives_working_credentials(cli_database: str, tmp_path: Path) -> None:
    demo = await _demo(cli_database)

    assert set(demo) == {"database", "operator_token", "stores", "api"}
    assert demo["api"] == "http://127.0.0.1:8000"
    [store] = demo["stores"]
    assert (store["handle"], store["name"]) == ("demo", "Caravan Demo Outfitters")
    [storefront] = store["storefronts"]
    assert storefront["name"] == "Web"
    assert _credentials_file(tmp_path).exists()
    async with app_on(cli_database) as client:
        key = {"X-Publishable-Key": storefront["publishable_key"]}
        r = await client.get("/store/regions", headers=key)
        assert r.status_code == 200, r.text
        assert [(x["code"], x["currency"]) for x in r.json()] == [
            ("eu", "EUR"),
            ("us", "USD"),
            ("sea", "SGD"),
        ]
        r = await client.get("/store/products", headers=key, params={"region": "us", "limit": 50})
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) == 12
        assert {p["price"]["currency"] for p in r.json()["items"]} == {"USD"}
        r = await client.get("/admin/store", headers=_bearer(store["admin_token"]))
        assert r.status_code == 200, r.text
        assert r.json()["id"] == store["id"]
        r = await client.get("/admin/stores", headers=_bearer(demo["operator_token"]))
        assert r.status_code == 200, r.text
        assert [s["handle"] for s in r.json()["items"]] == ["demo"]


async def test_demo_twice_is_idempotent(cli_database: str) -> None:
    first = await _demo(cli_database)
    async with app_on(cli_database) as client:
        before = await _counts(client, first)

    again = await caravan("demo", "--json", database_url=cli_database)

    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == first
    assert "catalog: 3 collections, 12 products (0 new)" in again.stderr
    async with app_on(cli_database) as client:
        assert (
            await _counts(client, first)
            == before
            == {
                "regions": 3,
                "storefronts": 1,
                "collections": 3,
                "products": 12,
            }
        )
        r = await client.get("/admin/stores", headers=_bearer(first["operator_token"]))
        assert [s["id"] for s in r.json()["items"]] == [first["stores"][0]["id"]]


async def test_demo_prints_a_readable_summary(cli_database: str) -> None:
    result = await caravan("demo", "--api", "http://127.0.0.1:9000/", database_url=cli_database)

    assert result.exit_code == 0, result.output
    demo = await _demo(cli_database)
    store = demo["stores"][0]
    out = result.stdout
    assert "Caravan Demo Outfitters" in out
    assert demo["operator_token"] in out
    assert store["admin_token"] in out
    key = store["storefronts"][0]["publishable_key"]
    assert f"curl -H 'X-Publishable-Key: {key}' http://127.0.0.1:9000/store/regions" in out
    assert "seeding the demo store" in result.stderr


# ---------------------------------------------------------------------------
# tokens
# ---------------------------------------------------------------------------


async def test_tokens_create_operator(cli_database: str) -> None:
    await _demo(cli_database)

    result = await caravan(
        "tokens", "create", "--operator", "--name", "ci", database_url=cli_database
    )

    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("op_")
    assert "\n" not in secret
    assert "shown only once" in result.stderr
    async with app_on(cli_database) as client:
        r = await client.get("/admin/stores", headers=_bearer(secret))
        assert r.status_code == 200, r.text


async def test_tokens_create_store_token_with_scopes(cli_database: str) -> None:
    await _demo(cli_database)

    result = await caravan(
        "tokens", "create", "--store", "demo", "--name", "catalog reader",
        "--scope", "catalog:read", "--expires-in-days", "30",
        database_url=cli_database,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("sk_")
    assert "store demo" in result.stderr
    assert "catalog:read" in result.stderr
    async with app_on(cli_database) as client:
        r = await client.get("/admin/products", headers=_bearer(secret))
        assert r.status_code == 200, r.text
        r = await client.get("/admin/regions", headers=_bearer(secret))
        assert r.status_code == 403
        r = await client.post("/admin/collections", headers=_bearer(secret), json={})
        assert r.status_code == 403


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        ((), 2, "exactly one of --operator and --store"),
        (("--operator", "--store", "demo"), 2, "exactly one of --operator and --store"),
        (("--operator", "--scope", "catalog:read"), 2, "operator tokens have no scopes"),
        (("--store", "demo"), 2, "needs at least one --scope"),
        (("--store", "demo", "--scope", "catalog:admin"), 2, "Invalid value for '--scope'"),
        (("--store", "nope", "--scope", "catalog:read"), 1, "no store with handle 'nope'"),
    ],
)
async def test_tokens_create_refuses_bad_requests(
    cli_database: str, args: tuple[str, ...], exit_code: int, message: str
) -> None:
    demo = await _demo(cli_database)
    async with app_on(cli_database) as client:
        before = await _total(client, "/admin/tokens", demo["stores"][0]["admin_token"])

    result = await caravan("tokens", "create", "--name", "x", *args, database_url=cli_database)

    assert result.exit_code == exit_code
    assert message in result.stderr
    assert result.stdout == ""
    async with app_on(cli_database) as client:
        assert await _total(client, "/admin/tokens", demo["stores"][0]["admin_token"]) == before


# ---------------------------------------------------------------------------
# plugins
# ---------------------------------------------------------------------------


async def test_plugins_list_shows_installed_plugins(cli_database: str) -> None:
    result = await caravan("plugins", "list", database_url=cli_database)

    assert result.exit_code == 0, result.output
    found = environment_plugins()
    if not found:
        assert result.stdout == "no plugins installed\n"
    for plugin in found:
        assert plugin.name in result.stdout
    assert "payment:manual" in result.stdout


async def test_plugins_list_names_distribution_and_version(
    cli_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = PluginInfo(
        name="paypal", module="caravan_paypal", distribution="caravan-paypal", version="1.2.0"
    )
    monkeypatch.setattr("core.app.cli.environment_plugins", lambda: [fake])

    result = await caravan("plugins", "list", database_url=cli_database)

    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "paypal" in line)
    assert [cell.strip() for cell in row.split("│")[1:-1]] == [
        "paypal",
        "caravan-paypal",
        "1.2.0",
        "caravan_paypal",
        "-",  # not described: no manifest of a plugin that is not loaded
        "-",
    ]


class GreeterPlugin:
    """A plugin adding a ``hello`` command."""

    @hookimpl
    def plugin_manifest(self) -> Manifest:
        return Manifest(**manifest_fields("caravan-greeter"))

    @hookimpl
    def register_cli_commands(self, cli: Any) -> None:
        import click

        @cli.command()
        @click.argument("name")
        def hello(name: str) -> None:
            """Greet NAME."""
            click.echo(f"hello {name}")


async def test_plugins_add_commands(cli_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pm = create_plugin_manager(load_entry_points=False)
    pm.register(GreeterPlugin())
    cli = CaravanGroup(name="caravan", commands=dict(main.commands))
    cli._host = PluginHost(pm)

    listing = await caravan("--help", database_url=cli_database, cli=cli)
    result = await caravan("hello", "world", database_url=cli_database, cli=cli)

    assert "hello" in listing.stdout
    assert "migrate" in listing.stdout
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello world\n"


# ---------------------------------------------------------------------------
# serve
# ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
async def test_serve_answers_http(cli_database: str, server: str) -> None:
    demo = await _demo(cli_database)
    key = demo["stores"][0]["storefronts"][0]["publishable_key"]
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from core.app.cli import main; main()",
        "serve", "--port", str(port), "--server", server,
        env={**os.environ, "CARAVAN_DATABASE_URL": cli_database},
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            for _ in range(150):
                with contextlib.suppress(httpx.TransportError):
                    health = await http.get("/health")
                    break
                assert process.returncode is None, "the server exited"
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the server did not answer within 15 s")
            assert health.json() == {"status": "ok"}
            r = await http.get("/store/regions", headers={"X-Publishable-Key": key})
            assert r.status_code == 200, r.text
            assert [x["code"] for x in r.json()] == ["eu", "us", "sea"]
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert f"Caravan on http://127.0.0.1:{port} ({server}" in stderr.decode()


# ---------------------------------------------------------------------------
# The README's command table
# ---------------------------------------------------------------------------


def _readme_commands() -> list[list[str]]:
    """Every ``caravan …`` command the README's "Command line" table shows, as words."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Command line", 1)[1].split("\n## ", 1)[0]
    cells = re.findall(r"^\| `(caravan [^`]+)` \|", section, flags=re.MULTILINE)
    return [cell.replace("\\|", "|").split() for cell in cells]


async def test_readme_commands_exist(cli_database: str) -> None:
    commands = _readme_commands()
    assert len(commands) >= 7
    for words in commands:
        path = [w for w in words[1:3] if re.fullmatch(r"[a-z]+", w)]
        result = await caravan(*path, "--help", database_url=cli_database)
        assert result.exit_code == 0, (words, result.output)
        for option in (w.strip("[]") for w in words if w.strip("[]").startswith("--")):
            assert option in result.stdout, (words, option)
