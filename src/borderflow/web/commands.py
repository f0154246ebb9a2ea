"""``borderflow serve`` and ``borderflow users``: the web server and its accounts.

Registered in :mod:`borderflow.cli`, which imports this module; this one shares the consoles
and the error reporting of :mod:`borderflow.console` and imports nothing of the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from borderflow.console import db_option, fail, out

DbOption = db_option(", the observation store's.")

users_app = typer.Typer(help="Accounts of the web app: add users, give them tokens, list them.")


def serve(
    db: DbOption = None,
    data: Annotated[
        Path, typer.Option("--data", help="Folder for the outputs of runs started on the web.")
    ] = Path("results") / "web",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes per ensemble (default: all cores).")
    ] = None,
) -> None:
    """Serve the JSON API (/api, schema at /api/openapi.json) and the dashboard (/)."""
    import gc
    import multiprocessing

    import uvicorn

    from borderflow.errors import ScenarioError
    from borderflow.web.app import create_app

    # The CLI turns the cyclic garbage collector off for its short batch jobs; a server that
    # runs for days needs it.
    gc.enable()
    # Ensemble workers must not be forked from this multi-threaded process (a lock held by
    # another thread at the fork stays locked in the child): start them from a clean server.
    multiprocessing.set_start_method("forkserver", force=True)
    multiprocessing.set_forkserver_preload(["borderflow.ensemble.runner"])
    try:
        app = create_app(db, data, workers=workers)
    except ScenarioError as exc:
        fail(exc)
        return
    uvicorn.run(app, host=host, port=port, log_level="info")


def _check(username: str, password: str, role: str, organisation: str):
    from pydantic import ValidationError

    from borderflow.errors import ScenarioError
    from borderflow.web.schemas import UserIn

    try:
        return UserIn(username=username, password=password, role=role, organisation=organisation)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "user"
        name = "USERNAME" if field == "username" else f"--{field}"
        raise ScenarioError(f"{name}: {first['msg']}") from None


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, . _ @ -).")],
    role: Annotated[
        str, typer.Option(help="viewer, analyst, data-entry or admin.", show_default=False)
    ],
    organisation: Annotated[
        str,
        typer.Option(
            help="The user's organisation; data-entry users add only its observations.",
            show_default=False,
        ),
    ],
    password: Annotated[
        str | None, typer.Option(help="Password (asked for, hidden, when not given).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a user of the web app."""
    from borderflow.errors import ScenarioError
    from borderflow.observe.store import Store
    from borderflow.web.accounts import add_user

    try:
        _check(username, "x" * 8, role, organisation)  # bad input fails before the prompt
        if password is None:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        new = _check(username, password, role, organisation)
        user = add_user(Store(db).engine, new, by="(cli)")
    except ScenarioError as exc:
        fail(exc)
        return
    out.print(f"added {user['username']} ({user['role']}, {user['organisation']})", highlight=False)


@users_app.command("token")
def users_token(
    username: Annotated[str, typer.Argument(help="An existing user.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    db: DbOption = None,
) -> None:
    """Create an API token for a user and print it (it is shown only this once)."""
    from borderflow.errors import ScenarioError
    from borderflow.observe.store import Store
    from borderflow.web.accounts import add_token

    try:
        if len(label) > 100 or any(ord(c) < 32 or ord(c) == 127 for c in label):
            raise ScenarioError("--label: at most 100 characters, no control characters")
        _token_id, secret = add_token(Store(db).engine, username, label, by="(cli)")
    except ScenarioError as exc:
        fail(exc)
        return
    print(secret)  # plain stdout, so that scripts can capture it


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """List the users of the web app."""
    from rich.table import Table

    from borderflow.errors import ScenarioError
    from borderflow.observe.store import Store
    from borderflow.web.accounts import list_users

    try:
        users = list_users(Store(db).engine)
    except ScenarioError as exc:
        fail(exc)
        return
    table = Table(title=f"{len(users)} users")
    for col in ("username", "role", "organisation", "created (UTC)"):
        table.add_column(col)
    for u in users:
        table.add_row(
            u["username"], u["role"], u["organisation"], u["created_at"].strftime("%Y-%m-%d %H:%M")
        )
    out.print(table)
