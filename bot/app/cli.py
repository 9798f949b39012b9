"""``thidua``: run the bot, try it in the terminal, manage invites, people and exports, print
the scoreboard and write the council's dossier."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import logging
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import asyncpg

from bot.app.bootstrap import App, build, open_storage, serve, setup_logging
from bot.app.config import ConfigError, Settings
from bot.app.plan_guard import check_stored, remember_run
from bot.channels.console import CHANNEL as CONSOLE
from bot.channels.console import ConsoleChannel
from bot.domain import ROLE_HEAD, ROLES, Identity, Invite
from bot.i18n import DAY, _, format_date, format_number
from bot.invites import generate_code
from bot.outputs.export import (
    BOM,
    SPREADSHEET_DELIMITER,
    spreadsheet_csv,
    spreadsheet_safe,
    to_csv,
)
from bot.plan.model import Plan, PlanError, check_plan, load_plan
from bot.plan.periods import Period, parse_period
from bot.plan.removals import removal_name, removals_text
from bot.plan.schedule import quiet_until
from handlers.conversation import role_name
from handlers.digest import chart_png, digest_in, digest_workbook, read_digest
from scheduler.jobs import Jobs
from storage.backup import Copied, DatabaseHeld, NotABackup, backup_database, restore_database
from storage.copy import CopyRefused, PostgresSide, Side, SqliteSide, copy_database
from storage.postgres import is_postgres_url
from storage.sqlite import sqlite_path

log = logging.getLogger("thidua")


def _fail(message: str, code: int = 2) -> int:
    print(message, file=sys.stderr)
    return code


def _plan_problems_text(path: Path) -> str | None:
    """Every problem of the plan at ``path``, or None when it is valid."""
    _plan, problems = check_plan(path)
    if not problems:
        return None
    lines = [_("Kế hoạch {file} có {count} lỗi:").format(file=path, count=len(problems))]
    lines += [f"{path}: {problem}" for problem in problems]
    return "\n".join(lines)


async def _app(settings: Settings) -> App:
    return await build(settings, settings.clock())


# -- plan check ---------------------------------------------------------------------------


def cmd_plan_check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    plan, problems = check_plan(path)
    if problems or plan is None:
        for problem in problems:
            print(f"{path}: {problem}")
        return 1
    print(
        _("Kế hoạch hợp lệ: {villages} thôn, {forms} biểu mẫu, {indicators} chỉ tiêu.").format(
            villages=len(plan.villages), forms=len(plan.forms), indicators=len(plan.indicators)
        )
    )
    if args.database is None:
        return 0
    settings = replace(Settings.from_env(), database_url=args.database)
    return asyncio.run(_plan_check_database(settings, plan, path))


async def _plan_check_database(settings: Settings, plan: Plan, path: Path) -> int:
    """What the plan drops that the database still has data for (1 when anything)."""
    try:
        db_path: Path | None = sqlite_path(settings.database_url)
    except ValueError:
        db_path = None  # open_storage says what is wrong with the URL
    if db_path is not None and not db_path.exists():
        return _fail(
            _(
                "Không có cơ sở dữ liệu {path}: kiểm tra lại đường dẫn (nếu bot chưa chạy lần "
                "nào thì chưa có dữ liệu nào để mất)."
            ).format(path=db_path)
        )
    storage = await open_storage(settings)
    try:
        guarded = await check_stored(storage, plan, settings.clock()())
    finally:
        await storage.close()
    if guarded.accepted:
        print(
            _("Đã chấp nhận bỏ từ một lần chạy trước (--accept-removals): {items}.").format(
                items=", ".join(removal_name(r) for r in guarded.accepted)
            )
        )
    if guarded.removals:
        print(removals_text(guarded.removals, path, guarded.snapshot_known, for_run=False))
        return 1
    print(_("Mọi thôn, biểu mẫu và câu hỏi có dữ liệu trong cơ sở dữ liệu đều còn trong kế hoạch."))
    return 0


# -- run and console ------------------------------------------------------------------------


def _no_token_text() -> str:
    return _(
        "Chưa có token nào: đặt ZALO_BOT_TOKEN (tạo bot bằng Zalo Bot Creator) hoặc "
        "TELEGRAM_BOT_TOKEN (tạo bot với @BotFather trên Telegram) trong môi trường hoặc "
        "tệp .env.\n"
        'Muốn thử ngay không cần token: thidua console --as "Thôn 1"'
    )


async def _guard_plan(settings: Settings, accept_removals: bool) -> str | None:
    """Why the bot must not start with this plan (it drops villages, forms or questions
    that have stored data, and ``--accept-removals`` was not given), or None; when it may
    start, the plan's text is stored as the snapshot the next start compares with."""
    plan = load_plan(settings.plan_file)
    text = await asyncio.to_thread(settings.plan_file.read_text, encoding="utf-8")
    now = settings.clock()()
    storage = await open_storage(settings)
    try:
        guarded = await check_stored(storage, plan, now)
        if guarded.removals and not accept_removals:
            return removals_text(
                guarded.removals, settings.plan_file, guarded.snapshot_known, for_run=True
            )
        if guarded.removals:
            log.warning(
                "starting with a plan that drops what has stored data (--accept-removals): %s",
                ", ".join(r.key for r in guarded.removals),
            )
        await remember_run(storage, settings.plan_file, text, guarded, now)
    finally:
        await storage.close()
    return None


async def _run(
    settings: Settings, fallback_village: str | None, accept_removals: bool = False
) -> int:
    problems = _plan_problems_text(settings.plan_file)
    if problems:
        return _fail(problems)
    no_token = not settings.telegram_token and not settings.zalo_token
    if no_token and fallback_village is None:
        print(_no_token_text())
        return 2
    refusal = await _guard_plan(settings, accept_removals)
    if refusal:
        return _fail(refusal)
    if no_token:
        print(_no_token_text())
        return await _console(settings, fallback_village)
    app = await _app(settings)
    await serve(app)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken, NetworkError

    settings = Settings.from_env()
    setup_logging(settings)
    try:
        return asyncio.run(_run(settings, args.or_console, args.accept_removals))
    except InvalidToken:
        # The library's message quotes the token: say it in our own words instead.
        return _fail(
            _("Telegram từ chối token: kiểm tra lại TELEGRAM_BOT_TOKEN (lấy từ @BotFather).")
        )
    except NetworkError as error:
        message = str(error)
        for secret in settings.secrets():
            message = message.replace(secret, "***")
        return _fail(
            _("Không kết nối được tới Telegram ({url}): {error}").format(
                url=settings.telegram_api_url, error=message
            )
        )


async def _console(settings: Settings, village_key: str | None) -> int:
    problems = _plan_problems_text(settings.plan_file)
    if problems:
        return _fail(problems)
    app = await _app(settings)
    try:
        now = app.clock()
        if village_key is not None:
            village = app.plan.village(village_key)
            if village is None:
                return _fail(
                    _("Không có thôn “{village}” trong kế hoạch.").format(village=village_key)
                )
            user_id = f"head:{village.id}"
            async with app.storage.transaction() as tx:
                if await tx.person_by_identity(CONSOLE, user_id) is None:
                    person = await tx.create_person(
                        _("Trưởng thôn {village} (console)").format(village=village.name),
                        ROLE_HEAD,
                        village.id,
                        "vi",
                        now,
                        is_console=True,
                    )
                    await tx.add_identity(person.id, Identity(CONSOLE, user_id, user_id), now)
            greeting = _(
                "Bạn đang dùng thidua trong terminal với vai trò trưởng thôn {village}.\n"
                "Gõ /baocao để bắt đầu, /huongdan để xem hướng dẫn, /thoat để thoát."
            ).format(village=village.name)
        else:
            user_id = "guest"
            async with app.storage.transaction() as tx:
                known = await tx.person_by_identity(CONSOLE, user_id)
            if known is not None:  # registered here before, with an invite code
                greeting = _(
                    "Chào {name}! Bạn đang dùng thidua trong terminal với vai trò {role}.\n"
                    "Gõ /huongdan để xem hướng dẫn, /thoat để thoát."
                ).format(name=known.name, role=role_name(known.role))
            else:
                greeting = _(
                    "Bạn đang dùng thidua trong terminal, chưa đăng ký.\n"
                    'Gửi mã mời (tạo bằng: thidua invite --village "Thôn 1"), /thoat để thoát.'
                )
        try:
            await app.start_web()
        except ConfigError as error:  # trying the bot out: it goes on without the web page
            print(error, file=sys.stderr)
        channel = ConsoleChannel(app.conversations, user_id, exports=settings.exports)
        await channel.serve(greeting)
    finally:
        await app.close()
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    return asyncio.run(_console(settings, args.as_village))


# -- invites and people -----------------------------------------------------------------------


async def _invite(
    settings: Settings,
    role: str,
    village_key: str | None,
    days: int,
    person_id: int | None = None,
) -> int:
    problems = _plan_problems_text(settings.plan_file)
    if problems:
        return _fail(problems)
    app = await _app(settings)
    try:
        village_id = None
        linked = None
        if person_id is not None:
            async with app.storage.transaction() as tx:
                linked = await tx.person(person_id)
            if linked is None:
                return _fail(_("Không có người số {id} (xem: thidua users).").format(id=person_id))
            role, village_id = linked.role, linked.village_id
            village = app.plan.village(village_id) if village_id else None
            where = village.name if village else app.plan.commune
        elif role == ROLE_HEAD:
            if not village_key:
                return _fail(_('Mã cho trưởng thôn cần --village, ví dụ --village "Thôn 3".'))
            village = app.plan.village(village_key)
            if village is None:
                names = ", ".join(v.name for v in app.plan.villages)
                return _fail(
                    _("Không có thôn “{village}” trong kế hoạch. Các thôn: {names}.").format(
                        village=village_key, names=names
                    )
                )
            village_id = village.id
            where = village.name
        else:
            if village_key:
                return _fail(
                    _("Vai trò {role} không gắn với thôn: bỏ --village.").format(role=role)
                )
            where = app.plan.commune
        if days < 1:
            return _fail(_("--days phải từ 1 trở lên."))
        now = app.clock()
        async with app.storage.transaction() as tx:
            code = generate_code()
            while await tx.invite(code) is not None:
                code = generate_code()
            invite = Invite(
                code,
                role,
                village_id,
                now,
                now + timedelta(days=days),
                person_id=linked.id if linked else None,
            )
            await tx.create_invite(invite)
            username = await tx.meta("telegram_username")
        expires = invite.expires_at.astimezone(app.plan.tz).date()
        print(
            _("Mã mời {role} – {where}, dùng một lần, hết hạn ngày {date}:").format(
                role=role_name(role), where=where, date=format_date(expires, DAY)
            )
        )
        if linked is not None:
            print(
                _(
                    "Mã này gắn thêm một kênh (Zalo hoặc Telegram) cho {name}: báo cáo, "
                    "nhắc việc và xuất dữ liệu vẫn là một người."
                ).format(name=linked.name)
            )
        if username:
            print(_invite_link(username, code))
        print(code)
    finally:
        await app.close()
    return 0


def _invite_link(username: str | None, code: str) -> str:
    """The link that opens the Telegram bot with the code (``/start CODE``), when the bot's
    username is known (it is once ``thidua run`` has reached Telegram), else ``""``."""
    return f"https://t.me/{username}?start={code}" if username else ""


def _invite_rows_csv(header: list[str], rows: list[list[str]]) -> str:
    """The invite table as a CSV Excel opens right with Vietnamese settings (a BOM, ``;``
    between fields, as the exports)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=SPREADSHEET_DELIMITER, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return BOM + buffer.getvalue()


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Rows in columns padded to their widest cell, the last one as it is."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]])
        for row in [header, *rows]
    )


async def _invite_all(settings: Settings, days: int, csv_file: str | None) -> int:
    """One head's code for every village of the plan that has no registered head (not
    revoked), printed as a table (village, code, expiry, link) and, with ``csv_file``,
    written there as a CSV for printing."""
    problems = _plan_problems_text(settings.plan_file)
    if problems:
        return _fail(problems)
    if days < 1:
        return _fail(_("--days phải từ 1 trở lên."))
    app = await _app(settings)
    try:
        now = app.clock()
        expires_at = now + timedelta(days=days)
        rows: list[list[str]] = []
        expires = format_date(expires_at.astimezone(app.plan.tz).date(), DAY)
        async with app.storage.transaction() as tx:
            people = await tx.people()
            headed = {p.village_id for p in people if p.role == ROLE_HEAD and p.village_id}
            username = await tx.meta("telegram_username")
            for village in app.plan.villages:
                if village.id in headed:
                    continue
                code = generate_code()
                while await tx.invite(code) is not None:
                    code = generate_code()
                await tx.create_invite(Invite(code, ROLE_HEAD, village.id, now, expires_at))
                rows.append([village.name, code, expires, _invite_link(username, code)])
    finally:
        await app.close()
    skipped = [v.name for v in app.plan.villages if v.id in headed]
    if not rows:
        print(_("Thôn nào cũng đã có trưởng thôn đăng ký: không tạo mã nào."))
        return 0
    print(
        _(
            "Mã mời trưởng thôn cho {count} thôn chưa có trưởng thôn đăng ký; mỗi mã dùng "
            "một lần, hết hạn ngày {date}:"
        ).format(count=len(rows), date=expires)
    )
    header = [_("Thôn"), _("Mã mời"), _("Hết hạn"), _("Đường link")]
    print(_table(header, [[*row[:3], row[3] or "-"] for row in rows]))
    if skipped:
        print(
            _("Đã có trưởng thôn đăng ký, không tạo mã: {names}.").format(names=", ".join(skipped))
        )
    if not username:
        print(
            _(
                "Chưa biết đường link Telegram (bot chưa chạy lần nào): trưởng thôn mở bot trên "
                "Zalo hoặc Telegram rồi gửi mã."
            )
        )
    if csv_file:
        text = _invite_rows_csv(header, rows)
        await asyncio.to_thread(Path(csv_file).write_text, text, encoding="utf-8", newline="")
        print(_("Đã ghi bảng mã mời vào {file}.").format(file=csv_file), file=sys.stderr)
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.all_villages:
        if args.village or args.person is not None or args.role != ROLE_HEAD:
            return _fail(
                _(
                    "--all-villages tạo mã cho trưởng thôn của mọi thôn: bỏ --village, "
                    "--person và --role."
                )
            )
        return asyncio.run(_invite_all(settings, args.days, args.csv))
    if args.csv:
        return _fail(_("--csv chỉ dùng với --all-villages."))
    return asyncio.run(_invite(settings, args.role, args.village, args.days, args.person))


async def _users(settings: Settings) -> int:
    app = await _app(settings)
    try:
        async with app.storage.transaction() as tx:
            people = await tx.people()
        if not people:
            print(_("Chưa có ai đăng ký."))
            return 0
        for person in people:
            village = app.plan.village(person.village_id) if person.village_id else None
            channels = ", ".join(f"{i.channel}:{i.user_id}" for i in person.identities) or "-"
            print(
                "\t".join(
                    [
                        str(person.id),
                        person.name,
                        role_name(person.role),
                        village.name if village else (person.village_id or "-"),
                        channels,
                    ]
                )
            )
    finally:
        await app.close()
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    return asyncio.run(_users(Settings.from_env()))


def _database_file(settings: Settings) -> Path | str:
    """The SQLite file ``DATABASE_URL`` names, or why backup and restore do not apply."""
    try:
        return sqlite_path(settings.database_url)
    except ValueError:
        return _(
            "Sao lưu và khôi phục ở đây chỉ dành cho SQLite (DATABASE_URL=sqlite:///…). "
            "PostgreSQL được sao lưu bằng công cụ của nó: pg_dump -Fc -f thidua.dump URL, "
            "khôi phục bằng pg_restore -d URL thidua.dump."
        )


def _copied_text(copied: Copied) -> str:
    return _("lược đồ {schema}, {people} người dùng, {reports} báo cáo (kể cả các lần sửa)").format(
        schema=copied.schema,
        people=format_number(copied.people),
        reports=format_number(copied.reports),
    )


def cmd_backup(args: argparse.Namespace) -> int:
    """``thidua backup FILE``: a consistent copy of the database, even while the bot runs."""
    settings = Settings.from_env()
    database = _database_file(settings)
    if isinstance(database, str):
        return _fail(database)
    target = Path(args.file)
    try:
        copied = backup_database(database, target)
    except FileNotFoundError:
        return _fail(_("Không có cơ sở dữ liệu {path}.").format(path=database))
    except FileExistsError:
        return _fail(_("Tệp {file} đã có: chọn tên khác, bản sao lưu không ghi đè.").format(
            file=target
        ))  # fmt: skip
    except (NotABackup, sqlite3.Error) as error:
        return _fail(_("Không sao lưu được {path}: {error}").format(path=database, error=error))
    print(_("Đã sao lưu {path} vào {file}: {what}.").format(
        path=database, file=target, what=_copied_text(copied)
    ))  # fmt: skip
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """``thidua restore FILE``: the backup put back as the database, the one it replaces
    kept beside it; refused while a bot serves the database."""
    settings = Settings.from_env()
    database = _database_file(settings)
    if isinstance(database, str):
        return _fail(database)
    backup = Path(args.file)
    if not backup.is_file():
        return _fail(_("Không có tệp sao lưu {file}.").format(file=backup))
    stamp = settings.clock()().astimezone().strftime("%Y%m%d-%H%M%S")
    keep = database.with_name(f"{database.name}.truoc-khoi-phuc-{stamp}")
    try:
        copied = restore_database(backup, database, keep)
    except DatabaseHeld:
        return _fail(
            _(
                "Bot đang chạy trên {path}: dừng thidua run rồi khôi phục lại (không ghi đè cơ "
                "sở dữ liệu đang dùng)."
            ).format(path=database)
        )
    except NotABackup as error:
        return _fail(
            _("Tệp {file} không phải bản sao lưu thidua dùng được: {error}").format(
                file=backup, error=error
            )
        )
    except (FileExistsError, sqlite3.Error) as error:
        return _fail(_("Không khôi phục được: {error}").format(error=error))
    kept = _(" Cơ sở dữ liệu cũ được giữ ở {keep}.").format(keep=keep) if keep.exists() else ""
    print(_("Đã khôi phục {path} từ {file}: {what}.").format(
        path=database, file=backup, what=_copied_text(copied)
    ) + kept)  # fmt: skip
    return 0


async def _side(settings: Settings, url: str) -> Side:
    """One end of a copy, migrated by its storage first (as ``thidua run`` would)."""
    storage = await open_storage(replace(settings, database_url=url))
    await storage.close()
    if is_postgres_url(url):
        return await PostgresSide.connect(url, settings.commune)
    return SqliteSide(sqlite_path(url))


def _copy_refused(error: CopyRefused) -> str:
    tables = ", ".join(
        _("{table} ({rows} dòng)").format(table=t, rows=format_number(n)) for t, n in error.tables
    )
    reasons = {
        "not_empty": _(
            "Không sao chép: cơ sở dữ liệu đích không trống ({tables}). Hãy chép sang một "
            "cơ sở dữ liệu mới."
        ),
        "schema": _(
            "Không sao chép: bảng {tables} ở hai bên khác cột nhau. Hai cơ sở dữ liệu phải "
            "cùng một phiên bản thidua."
        ),
        "differs": _("Không sao chép: đọc lại ở đích, bảng {tables} khác với nguồn."),
        "broken": _("Không sao chép: có dòng trỏ tới dữ liệu không có ({tables})."),
    }
    return reasons[error.reason].format(tables=tables) + " " + _("Cơ sở dữ liệu đích vẫn như cũ.")


async def _db_copy(settings: Settings, source_url: str, target_url: str) -> int:
    if source_url == target_url:
        return _fail(_("Nguồn và đích là cùng một cơ sở dữ liệu."))
    source = await _side(settings, source_url)
    try:
        target = await _side(settings, target_url)
        try:
            copied = await copy_database(source, target)
        except CopyRefused as error:
            return _fail(_copy_refused(error))
        except (asyncpg.PostgresError, sqlite3.Error) as error:
            # e.g. ids another commune's rows already use in a shared database
            return _fail(
                _("Không sao chép được: {error}. Cơ sở dữ liệu đích vẫn như cũ.").format(
                    error=error
                )
            )
        finally:
            await target.close()
    finally:
        await source.close()
    shown = (source_url.split("@")[-1], target_url.split("@")[-1])
    print(_("Đã sao chép {source} sang {target} và kiểm tra lại từng bảng:").format(
        source=shown[0], target=shown[1]
    ))  # fmt: skip
    width = max(len(t.name) for t in copied)
    for table in copied:
        print(f"  {table.name:<{width}}  {format_number(table.rows):>9}  {table.checksum[:16]}")
    total = sum(t.rows for t in copied)
    print(_("Tổng cộng {rows} dòng, số dòng và mã kiểm tra (SHA-256) hai bên trùng khớp.").format(
        rows=format_number(total)
    ))  # fmt: skip
    return 0


def cmd_db_copy(args: argparse.Namespace) -> int:
    """``thidua db copy SOURCE_URL TARGET_URL``: the whole database, verified; refused when
    the target holds any row."""
    try:
        return asyncio.run(_db_copy(Settings.from_env(), args.source, args.target))
    except ConfigError as error:
        return _fail(str(error))


async def _revoke(settings: Settings, person_id: int) -> int:
    app = await _app(settings)
    try:
        async with app.storage.transaction() as tx:
            person = await tx.person(person_id)
            done = await tx.revoke_person(person_id, app.clock())
        if not done or person is None:
            return _fail(_("Không có người dùng số {id} (xem: thidua users).").format(id=person_id))
        print(_("Đã thu hồi quyền của {name} (số {id}).").format(name=person.name, id=person_id))
    finally:
        await app.close()
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    return asyncio.run(_revoke(Settings.from_env(), args.person))


# -- export ---------------------------------------------------------------------------------------


def _valid_period(key: str) -> bool:
    try:
        parse_period(key)
    except ValueError:
        return False
    return True


async def _export(
    settings: Settings,
    fmt: str,
    period: str | None,
    history: bool,
    out: str | None,
    plain: bool = False,
) -> int:
    if period is not None and not _valid_period(period):
        return _fail(
            _("Kỳ “{period}” không hợp lệ. Ví dụ: 2026-11, 2026-W48, 2026-Q4, 2026.").format(
                period=period
            )
        )
    if fmt == "xlsx":
        if not out:
            return _fail(_("Tệp XLSX cần --out TỆP, ví dụ --out tong-hop.xlsx."))
        if history:
            return _fail(_("--history chỉ dùng với --format csv."))
        if plain:
            return _fail(_("--plain chỉ dùng với --format csv."))
        return await _export_workbook(settings, period, out)
    app = await _app(settings)
    try:
        async with app.storage.transaction() as tx:
            reports = await tx.reports(period, history)
            people = {p.id: p for p in await tx.people(include_revoked=True)}
        text = (to_csv if plain else spreadsheet_csv)(app.plan, reports, people)
    finally:
        await app.close()
    if out:
        await asyncio.to_thread(Path(out).write_text, text, encoding="utf-8", newline="")
        print(
            _("Đã ghi {count} báo cáo vào {file}.").format(count=len(reports), file=out),
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0


async def _export_workbook(settings: Settings, period: str | None, out: str) -> int:
    app = await _app(settings)
    try:
        async with app.storage.transaction() as tx:
            digest = await read_digest(app.plan, tx, app.clock(), period)
        data = digest_workbook(app.plan, digest)
    finally:
        await app.close()
    await asyncio.to_thread(Path(out).write_bytes, data)
    print(_("Đã ghi bảng tính vào {file}.").format(file=out), file=sys.stderr)
    return 0


async def _digest(
    settings: Settings, period: str | None, chart: str | None, send: bool = False
) -> int:
    if period is not None and not _valid_period(period):
        return _fail(
            _("Kỳ “{period}” không hợp lệ. Ví dụ: 2026-11, 2026-W48, 2026-Q4, 2026.").format(
                period=period
            )
        )
    app = await _app(settings)
    try:
        now = app.clock()
        async with app.storage.transaction() as tx:
            text = await digest_in(app.plan, tx, now, period)
            png = await chart_png(app.plan, tx, now, period) if chart else None
        jobs = Jobs(app.plan, app.storage, app.clock, web=app.web_links)
        recipients = await jobs.digest_now(period) if send else []
    finally:
        await app.close()
    print(text)
    if chart and png is not None:
        await asyncio.to_thread(Path(chart).write_bytes, png)
        print(_("Đã ghi biểu đồ vào {file}.").format(file=chart), file=sys.stderr)
    if send:
        if not recipients:
            print(
                _(
                    "Không gửi được: chưa có thường trực hay Chủ tịch nào đăng ký và liên lạc "
                    "được. Tạo mã mời: thidua invite --role secretariat"
                ),
                file=sys.stderr,
            )
            return 1
        queued = _(
            "Đã xếp bản tổng hợp (kèm bảng tính và biểu đồ) vào hàng gửi cho {names}."
        ).format(names=", ".join(p.name for p in recipients))
        quiet_end = quiet_until(app.plan.schedule, now, app.plan.tz)
        if quiet_end is not None:
            when = _("Đang trong giờ yên lặng nên bot sẽ gửi lúc {time}.").format(
                time=f"{quiet_end.astimezone(app.plan.tz):%H:%M}"
            )
        else:
            when = _("Bot đang chạy sẽ gửi ngay; nếu bot chưa chạy, sẽ gửi khi bot chạy.")
        print(f"{queued} {when}", file=sys.stderr)
    return 0


async def _bulletin(settings: Settings, week: str | None) -> int:
    chosen: Period | None = None
    if week is not None:
        try:
            chosen = parse_period(week)
        except ValueError:
            chosen = None
        if chosen is None or chosen.kind != "week":
            return _fail(_("Tuần “{week}” không hợp lệ. Ví dụ: 2026-W48.").format(week=week))
    app = await _app(settings)
    try:
        desk = app.conversations.desk
        async with app.storage.transaction() as tx:
            text = await desk.bulletin(tx, chosen or desk.this_week(app.clock()))
    finally:
        await app.close()
    print(text)
    return 0


def cmd_bulletin(args: argparse.Namespace) -> int:
    return asyncio.run(_bulletin(Settings.from_env(), args.week))


def cmd_digest(args: argparse.Namespace) -> int:
    return asyncio.run(_digest(Settings.from_env(), args.period, args.chart, args.send))


def cmd_export(args: argparse.Namespace) -> int:
    return asyncio.run(
        _export(Settings.from_env(), args.format, args.period, args.history, args.out, args.plain)
    )


# -- the scoreboard and the council's dossier -----------------------------------------------


def _as_of(text: str | None) -> date | str | None:
    """The scoring date given with ``--as-of`` (None when not given), or the message saying
    why it is not a date."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return _(
            "Ngày “{value}” không hợp lệ: --as-of cần một ngày dạng NĂM-THÁNG-NGÀY, ví dụ "
            "--as-of 2026-12-20."
        ).format(value=text)


def _year(text: str | None) -> int | str:
    """The year given with ``--year``, or the message saying what is wrong with it."""
    if text is None:
        return _("Cần ghi năm: --year NĂM, ví dụ --year 2026.")
    value = text.strip()
    if not (value.isascii() and value.isdigit() and len(value) == 4):
        return _("Năm “{value}” không hợp lệ: ghi bốn chữ số, ví dụ --year 2026.").format(
            value=text
        )
    return int(value)


def _scoring_problem(plan: Plan, year: int, as_of: date) -> str | None:
    """Why ``plan`` has no board for ``year`` as of ``as_of`` (no ``scoring:`` section, a
    year outside the plan's dates or not begun by then), or None."""
    if plan.scoring is None:
        source = plan.source or Path("kế hoạch")
        return _(
            "Kế hoạch {file} chưa có mục scoring: (cách chấm điểm các thôn) nên chưa có bảng "
            "điểm. Thêm mục này vào kế hoạch rồi kiểm tra bằng: thidua plan check {file}"
        ).format(file=source)
    first = plan.starts.year if plan.starts else None
    last = plan.ends.year if plan.ends else None
    if not 1 <= year <= 9998 or (first and year < first) or (last and year > last):
        if first and last:
            span = _("từ năm {first} đến năm {last}").format(first=first, last=last)
        elif first:
            span = _("từ năm {first}").format(first=first)
        elif last:
            span = _("đến năm {last}").format(last=last)
        else:
            span = _("không có năm này")
        return _("Kế hoạch không chấm điểm năm {year}: kế hoạch áp dụng {span}.").format(
            year=year, span=span
        )
    start = date(year, 1, 1)
    if plan.starts and plan.starts > start:
        start = plan.starts
    if as_of < start:
        return _(
            "Năm {year} của kế hoạch bắt đầu ngày {start}, sau ngày chấm điểm {as_of}: chưa có "
            "gì để chấm."
        ).format(year=year, start=format_date(start, DAY), as_of=format_date(as_of, DAY))
    return None


async def _open_scoring(
    settings: Settings, year: int, as_of: date | None
) -> tuple[App, datetime, date] | str:
    """The app opened to score ``year``, the moment it is and the scoring date (``as_of``,
    else today in the plan's timezone); or why there is no board to work on (the plan's
    problems, ``_scoring_problem``), with nothing left open."""
    problems = _plan_problems_text(settings.plan_file)
    if problems:
        return problems
    app = await _app(settings)
    now = app.clock()
    day = as_of or now.astimezone(app.plan.tz).date()
    problem = _scoring_problem(app.plan, year, day)
    if problem:
        await app.close()
        return problem
    return app, now, day


async def _write_output(out: str, data: str | bytes) -> None:
    path = Path(out)
    if isinstance(data, bytes):
        await asyncio.to_thread(path.write_bytes, data)
    else:
        await asyncio.to_thread(path.write_text, data, encoding="utf-8")


async def _score(settings: Settings, args: argparse.Namespace) -> int:
    """``thidua score``: print or write the year's board; freeze it (``--finalize``) or
    open it again (``--reopen``)."""
    from bot.outputs.scoreboard import board_workbook, render_board_text
    from bot.scoring.rules import board_json_text
    from handlers.scoreboard import ScoreError, finalize, load_board, reopen

    if args.finalize and args.reopen:
        return _fail(_("--finalize (chốt) và --reopen (mở lại) không dùng cùng một lúc."))
    if args.finalize and not (args.by or "").strip():
        return _fail(
            _('Chốt bảng điểm cần ghi ai quyết định: --by "Hội đồng TĐKT, họp ngày 20/12/2026".')
        )
    if args.by is not None and not args.finalize:
        return _fail(_("--by chỉ dùng với --finalize."))
    if args.reopen and not (args.reason or "").strip():
        return _fail(_('Mở lại bảng điểm cần ghi lý do: --reason "…".'))
    if args.reason is not None and not args.reopen:
        return _fail(_("--reason chỉ dùng với --reopen."))
    year = _year(args.year)
    if isinstance(year, str):
        return _fail(year)
    args.year = year
    if args.format == "xlsx" and not args.out:
        return _fail(_("Bảng điểm XLSX cần --out TỆP, ví dụ --out bang-diem-{year}.xlsx.").format(
            year=args.year
        ))  # fmt: skip
    as_of = _as_of(args.as_of)
    if isinstance(as_of, str):
        return _fail(as_of)
    opened = await _open_scoring(settings, args.year, as_of)
    if isinstance(opened, str):
        return _fail(opened)
    app, now, day = opened
    try:
        plan = app.plan
        try:
            async with app.storage.transaction() as tx:
                if args.reopen:
                    reopened = await reopen(tx, args.year, args.reason, None, now)
                else:
                    reopened = False
                    if args.finalize:
                        board = await finalize(tx, plan, args.year, day, args.by, None, now)
                    else:
                        board = await load_board(tx, plan, args.year, day, now)
        except ScoreError as error:
            return _fail(str(error), 1)
    finally:
        await app.close()
    if args.reopen:
        if not reopened:
            return _fail(
                _("Bảng điểm năm {year} chưa được chốt nên không có gì để mở lại.").format(
                    year=args.year
                ),
                1,
            )
        print(
            _(
                "Đã mở lại bảng điểm năm {year} (lý do: {reason}); bảng điểm lại được tính từ "
                "số liệu cho đến khi Hội đồng chốt lần nữa."
            ).format(year=args.year, reason=args.reason.strip())
        )
        return 0
    if args.format == "json":
        data: str | bytes = board_json_text(board) + "\n"
    elif args.format == "xlsx":
        data = board_workbook(plan, board)
    else:
        data = render_board_text(plan, board)
    if args.out:
        await _write_output(args.out, data)
        print(_("Đã ghi bảng điểm vào {file}.").format(file=args.out), file=sys.stderr)
    else:
        assert isinstance(data, str)
        sys.stdout.write(data)
    if args.finalize:
        print(
            _(
                "Đã chốt bảng điểm năm {year} ({by}); báo cáo gửi sau không làm thay đổi bảng "
                'điểm này. Mở lại: thidua score --year {year} --reopen --reason "…"'
            ).format(year=args.year, by=args.by.strip()),
            file=sys.stderr,
        )
    elif board.final and as_of is not None and as_of != board.as_of:
        print(
            _(
                "Bảng điểm năm {year} đã được chốt (số liệu đến hết ngày {date}): --as-of không "
                "làm thay đổi bảng điểm đã chốt."
            ).format(year=args.year, date=format_date(board.as_of, DAY)),
            file=sys.stderr,
        )
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    return asyncio.run(_score(Settings.from_env(), args))


def _chosen_villages(plan: Plan, text: str) -> list[str] | str:
    """The village ids of ``--villages thon_1,Thôn 2`` (ids or names), or the message
    naming those the plan does not have."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    if not keys:
        return _("--villages cần ít nhất một thôn, ví dụ --villages thon_1,Thôn 2.")
    chosen: list[str] = []
    unknown: list[str] = []
    for key in keys:
        village = plan.village(key)
        if village is None:
            unknown.append(key)
        elif village.id not in chosen:
            chosen.append(village.id)
    if unknown:
        return _("Không có thôn {villages} trong kế hoạch. Các thôn: {names}.").format(
            villages=", ".join(f"“{key}”" for key in unknown),
            names=", ".join(v.name for v in plan.villages),
        )
    return chosen


async def _dossier(settings: Settings, args: argparse.Namespace) -> int:
    """``thidua dossier``: the scoreboard workbook, the achievement reports of the villages
    proposed for the top grade (or those named) and the council's minutes, into a folder."""
    # python-docx is loaded only for the dossier, not at every command's start.
    from bot.outputs.dossier import dossier_files, proposed_villages
    from bot.outputs.scoreboard import board_workbook
    from handlers.dossier import village_records
    from handlers.scoreboard import ScoreError, load_board

    year = _year(args.year)
    if isinstance(year, str):
        return _fail(year)
    args.year = year
    if not args.out:
        return _fail(_("Hồ sơ cần thư mục để ghi: --out THƯ-MỤC, ví dụ --out ho-so-2026."))
    as_of = _as_of(args.as_of)
    if isinstance(as_of, str):
        return _fail(as_of)
    opened = await _open_scoring(settings, args.year, as_of)
    if isinstance(opened, str):
        return _fail(opened)
    app, now, day = opened
    try:
        plan = app.plan
        chosen: list[str] | None = None
        if args.villages is not None:
            picked = _chosen_villages(plan, args.villages)
            if isinstance(picked, str):
                return _fail(picked)
            chosen = picked
        try:
            async with app.storage.transaction() as tx:
                board = await load_board(tx, plan, args.year, day, now)
                known = {v.village.id for v in board.villages}
                villages = [
                    v for v in (chosen if chosen is not None else proposed_villages(plan, board))
                    if v in known
                ]  # fmt: skip
                records = await village_records(tx, plan, board, villages)
        except ScoreError as error:
            return _fail(str(error), 1)
    finally:
        await app.close()
    files = await asyncio.to_thread(
        dossier_files, plan, board, records, board_workbook(plan, board)
    )
    folder = Path(args.out)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    for name, data in files.items():
        await _write_output(str(folder / name), data)
        print(folder / name)
    if not board.final:
        print(
            _(
                "Lưu ý: bảng điểm năm {year} chưa được Hội đồng chốt; hồ sơ dùng điểm tạm tính "
                "(số liệu đến hết ngày {date})."
            ).format(year=args.year, date=format_date(board.as_of, DAY)),
            file=sys.stderr,
        )
    if chosen is None and not villages:
        top = plan.scoring.grades[0].name if plan.scoring and plan.scoring.grades else "—"
        print(
            _(
                "Chưa thôn nào được đề nghị xếp loại {grade}: không có báo cáo thành tích "
                "nào (chọn thôn bằng --villages)."
            ).format(grade=top),
            file=sys.stderr,
        )
    return 0


def cmd_dossier(args: argparse.Namespace) -> int:
    return asyncio.run(_dossier(Settings.from_env(), args))


# -- parser --------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="thidua", description=_("Trợ lý phong trào thi đua của xã."))
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help=_("chạy bot trên các kênh có token"))
    run.add_argument(
        "--or-console",
        metavar="THÔN",
        help=_("khi chưa có token, mở console với vai trò trưởng thôn này"),
    )
    run.add_argument(
        "--accept-removals",
        action="store_true",
        help=_(
            "chạy cả khi kế hoạch bỏ mất thôn, biểu mẫu hay câu hỏi đã có dữ liệu "
            "(dữ liệu cũ vẫn giữ trong cơ sở dữ liệu)"
        ),
    )
    run.set_defaults(func=cmd_run)

    console = sub.add_parser("console", help=_("dùng bot ngay trong terminal"))
    console.add_argument(
        "--as", dest="as_village", metavar="THÔN", help=_("đóng vai trưởng thôn của thôn này")
    )
    console.set_defaults(func=cmd_console)

    invite = sub.add_parser("invite", help=_("tạo mã mời dùng một lần"))
    invite.add_argument("--village", help=_("thôn của trưởng thôn"))
    invite.add_argument(
        "--role",
        choices=ROLES,
        default=ROLE_HEAD,
        help=_(
            "vai trò: head (trưởng thôn, cần --village), secretariat, chair, admin, officer "
            "(cán bộ xã, điền các biểu mẫu của xã và số liệu làm mốc của từng thôn)"
        ),
    )
    invite.add_argument("--days", type=int, default=None, help=_("số ngày mã còn hiệu lực"))
    invite.add_argument(
        "--person",
        type=int,
        help=_("gắn thêm kênh thứ hai (Zalo/Telegram) cho người đã đăng ký có số này"),
    )
    invite.add_argument(
        "--all-villages",
        action="store_true",
        help=_("một mã trưởng thôn cho mỗi thôn chưa có trưởng thôn đăng ký, in thành bảng"),
    )
    invite.add_argument(
        "--csv",
        metavar="TỆP.csv",
        help=_("với --all-villages: ghi thêm bảng mã mời vào tệp CSV này (mở bằng Excel để in)"),
    )
    invite.set_defaults(func=cmd_invite)

    users = sub.add_parser("users", help=_("danh sách người dùng"))
    users.set_defaults(func=cmd_users)

    backup = sub.add_parser(
        "backup", help=_("sao lưu cơ sở dữ liệu SQLite (kể cả khi bot đang chạy)")
    )
    backup.add_argument("file", help=_("tệp sao lưu mới, ví dụ thidua-2026-12-01.db"))
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser(
        "restore", help=_("khôi phục cơ sở dữ liệu từ bản sao lưu (khi bot đã dừng)")
    )
    restore.add_argument("file", help=_("tệp sao lưu"))
    restore.set_defaults(func=cmd_restore)

    db = sub.add_parser("db", help=_("chuyển dữ liệu giữa SQLite và PostgreSQL"))
    db_sub = db.add_subparsers(dest="db_command", required=True)
    copy = db_sub.add_parser(
        "copy",
        help=_("sao chép toàn bộ cơ sở dữ liệu sang một cơ sở dữ liệu trống rồi kiểm tra lại"),
    )
    copy.add_argument("source", metavar="SOURCE_URL", help=_("ví dụ sqlite:///thidua.db"))
    copy.add_argument(
        "target", metavar="TARGET_URL", help=_("ví dụ postgresql://thidua@localhost/thidua")
    )
    copy.set_defaults(func=cmd_db_copy)

    revoke = sub.add_parser("revoke", help=_("thu hồi quyền một người dùng"))
    revoke.add_argument("person", type=int, help=_("số của người dùng (xem thidua users)"))
    revoke.set_defaults(func=cmd_revoke)

    export = sub.add_parser("export", help=_("xuất báo cáo"))
    export.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    export.add_argument("--period", help=_("chỉ một kỳ, ví dụ 2026-11"))
    export.add_argument(
        "--history", action="store_true", help=_("mọi phiên bản, không chỉ bản mới nhất")
    )
    export.add_argument("--out", help=_("ghi vào tệp thay vì in ra"))
    export.add_argument(
        "--plain",
        action="store_true",
        help=_("CSV cho máy đọc: mỗi câu trả lời một dòng, tiêu đề tiếng Anh, dấu chấm thập phân"),
    )
    export.set_defaults(func=cmd_export)

    digest = sub.add_parser(
        "digest", help=_("in bản tổng hợp: ai đã báo cáo, chỉ tiêu so với mục tiêu")
    )
    digest.add_argument(
        "--period", help=_("kỳ cần tổng hợp, ví dụ 2026-11 (mặc định: kỳ hiện tại)")
    )
    digest.add_argument("--chart", metavar="TỆP.png", help=_("ghi thêm biểu đồ PNG vào tệp này"))
    digest.add_argument(
        "--send",
        action="store_true",
        help=_("gửi bản tổng hợp cho thường trực và Chủ tịch (qua bot)"),
    )
    digest.set_defaults(func=cmd_digest)

    bulletin = sub.add_parser(
        "bulletin", help=_("in bản tin gương người tốt, việc tốt của tuần cho đài truyền thanh")
    )
    bulletin.add_argument("--week", help=_("tuần, ví dụ 2026-W48 (mặc định: tuần này)"))
    bulletin.set_defaults(func=cmd_bulletin)

    score = sub.add_parser(
        "score", help=_("bảng điểm thi đua của các thôn trong một năm; chốt hoặc mở lại")
    )
    score.add_argument("--year", metavar="NĂM", help=_("năm chấm điểm, ví dụ 2026"))
    score.add_argument("--format", choices=["text", "json", "xlsx"], default="text")
    score.add_argument("--out", metavar="TỆP", help=_("ghi vào tệp thay vì in ra (xlsx: bắt buộc)"))
    score.add_argument(
        "--as-of",
        metavar="NGÀY",
        help=_("tính số liệu đến hết ngày này, ví dụ 2026-12-20 (mặc định: hôm nay)"),
    )
    score.add_argument(
        "--finalize",
        action="store_true",
        help=_("chốt bảng điểm (cần --by): báo cáo gửi sau không làm thay đổi"),
    )
    score.add_argument(
        "--by", help=_('ai quyết định chốt, ví dụ "Hội đồng TĐKT, họp ngày 20/12/2026"')
    )
    score.add_argument(
        "--reopen", action="store_true", help=_("mở lại bảng điểm đã chốt (cần --reason)")
    )
    score.add_argument("--reason", help=_("lý do mở lại"))
    score.set_defaults(func=cmd_score)

    dossier = sub.add_parser(
        "dossier",
        help=_("hồ sơ xét thi đua: bảng điểm, báo cáo thành tích của thôn, biên bản họp xét"),
    )
    dossier.add_argument("--year", metavar="NĂM", help=_("năm xét, ví dụ 2026"))
    dossier.add_argument("--out", metavar="THƯ-MỤC", help=_("thư mục ghi hồ sơ"))
    dossier.add_argument(
        "--villages",
        metavar="THÔN,THÔN",
        help=_(
            "báo cáo thành tích cho các thôn này, cách nhau bằng dấu phẩy (mặc định: các thôn "
            "được đề nghị xếp loại cao nhất)"
        ),
    )
    dossier.add_argument(
        "--as-of",
        metavar="NGÀY",
        help=_("khi bảng điểm chưa chốt: tính số liệu đến hết ngày này (mặc định: hôm nay)"),
    )
    dossier.set_defaults(func=cmd_dossier)

    plan = sub.add_parser("plan", help=_("kiểm tra tệp kế hoạch"))
    plan_sub = plan.add_subparsers(dest="plan_command", required=True)
    check = plan_sub.add_parser("check", help=_("kiểm tra một tệp kế hoạch"))
    check.add_argument("file")
    check.add_argument(
        "--database",
        metavar="URL",
        help=_(
            "cũng kiểm tra với cơ sở dữ liệu này (ví dụ sqlite:///thidua.db): thôn, biểu mẫu "
            "hay câu hỏi nào đã có dữ liệu mà kế hoạch bỏ mất"
        ),
    )
    check.set_defaults(func=cmd_plan_check)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if getattr(args, "command", None) == "invite" and args.days is None:
            args.days = Settings.from_env().invite_days
        return int(args.func(args))
    except (PlanError, ConfigError) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
