"""`lassolabel users ...`: create the first admin, create/invite users, list them, issue tokens.

These talk to the database directly (through the same serialised write path), so they work
whether or not the server is running.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import timedelta

from app.config import Settings
from app.models import Role, TokenKind


def register(commands: argparse._SubParsersAction) -> None:
    users = commands.add_parser("users", help="user accounts and API tokens")
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    admin = actions.add_parser("create-admin", help="create an administrator (first run)")
    admin.add_argument("username")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create = actions.add_parser("create", help="create a user (no password: print an invite link)")
    create.add_argument("username")
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.annotator.value)
    create.add_argument("--password-stdin", action="store_true")
    create.add_argument("--invite", action="store_true", help="no password: print an invite link")
    actions.add_parser("list", help="list users")
    token = actions.add_parser("token", help="issue an API token (printed once)")
    token.add_argument("username")
    token.add_argument("--name", default="cli")
    users.set_defaults(handler=run)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise SystemExit("passwords differ")
    return first


def run(args: argparse.Namespace, settings: Settings) -> int:
    from app.auth import accounts
    from app.auth.tokens import issue_token
    from app.bootstrap import open_database

    db = open_database(settings)
    try:
        with db.write() as session:
            if args.action == "list":
                for user in accounts.list_users(session):
                    state = "" if user.is_active else " (disabled)"
                    print(f"{user.id}\t{user.username}\t{user.role.value}{state}")
            elif args.action == "token":
                owner = accounts.find_user(session, args.username)
                if owner is None:
                    raise SystemExit(f"no user {args.username!r}")
                print(
                    issue_token(
                        session, user_id=owner.id, kind=TokenKind.api, name=args.name, ttl=None
                    )
                )
            else:
                role = Role.admin if args.action == "create-admin" else Role(args.role)
                invite = getattr(args, "invite", False)
                password = None if invite else _password(args)
                user = accounts.create_user(
                    session, username=args.username, role=role, password=password
                )
                print(f"created {role.value} {user.username!r} (id {user.id})")
                if invite:
                    ttl = timedelta(days=settings.invite_days)
                    link = issue_token(session, user_id=user.id, kind=TokenKind.invite, ttl=ttl)
                    print(
                        f"invite link (works once): http://{settings.host}:{settings.port}/login?invite={link}"
                    )
    finally:
        db.dispose()
    return 0
