"""The ``thidua`` command: plan check, invites, people, revoke and the CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Bot

from bot.app.cli import main
from bot.app.config import DEFAULT_PLAN, Settings
from bot.channels.telegram import TelegramOptions
from bot.domain import Identity, Person
from storage.sqlite import SqliteStorage
from tests.conftest import SMALL_PLAN
from tests.standin.telegram import BotApiStandIn


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "THIDUA_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///data/thidua.db")
    monkeypatch.setenv("PLAN_FILE", str(SMALL_PLAN))
    monkeypatch.setenv("THIDUA_NOW", "2026-11-24T10:00+07:00")  # whatever the machine's date
    monkeypatch.setenv("THIDUA_WEB_PORT", "off")  # the digests' web links: tests/test_web.py
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_check_default_plan(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "plan", "check", str(DEFAULT_PLAN))
    assert code == 0
    assert "19 thôn" in out


def test_plan_check_prints_every_problem_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "plan: 1\ntitle: T\ncommune: X\ntimezone: Asia/Ho_Chi_Minh\nvillages: []\n"
        "forms:\n  - id: thang\n    title: T\n    period: month\n    due: 25\n"
        "    questions:\n      - id: a\n        ask: A?\n        type: number\n",
        encoding="utf-8",
    )
    code, out, _err = run(capsys, "plan", "check", str(bad))
    assert code == 1
    assert re.search(r"dòng 5\b", out)  # empty villages
    assert re.search(r"dòng 14\b", out)  # unknown type


def test_run_refuses_an_invalid_plan(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = env / "bad.yaml"
    bad.write_text("plan: 2\n", encoding="utf-8")
    monkeypatch.setenv("PLAN_FILE", str(bad))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    code, _out, err = run(capsys, "run")
    assert code == 2
    assert "dòng 1" in err


def test_run_without_token_explains(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "run")
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN" in out and "thidua console" in out


def test_invite_prints_the_code_alone_on_the_last_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, "invite", "--village", "Thôn 3")
    assert code == 0
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(r"[A-Z2-9]{8}", last)
    assert "Thôn 3" in out
    code, out, _err = run(capsys, "invite", "--role", "secretariat")
    assert code == 0 and re.fullmatch(r"[A-Z2-9]{8}", out.strip().splitlines()[-1])
    assert (env / "data" / "thidua.db").exists()  # relative to the working directory


def test_invite_shows_the_link_when_the_username_is_known(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def remember() -> None:
        store = await SqliteStorage.open(env / "data" / "thidua.db")
        async with store.transaction() as tx:
            await tx.set_meta("telegram_username", "namdong_bot")
        await store.close()

    asyncio.run(remember())
    _code, out, _err = run(capsys, "invite", "--village", "thon 2")
    lines = out.strip().splitlines()
    assert lines[-2] == f"https://t.me/namdong_bot?start={lines[-1]}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["invite"], "--village"),
        (["invite", "--village", "Thôn 99"], "Không có thôn"),
        (["invite", "--role", "chair", "--village", "Thôn 1"], "không gắn với thôn"),
        (["invite", "--village", "Thôn 1", "--days", "0"], "--days"),
        (["export", "--period", "2026-13"], "không hợp lệ"),
        (["revoke", "42"], "Không có người dùng"),
    ],
)
def test_bad_arguments_get_a_clear_message(
    env: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _out, err = run(capsys, *args)
    assert code == 2
    assert message in err


async def _seed_reports(path: Path) -> Person:
    store = await SqliteStorage.open(path)
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    async with store.transaction() as tx:
        person = await tx.create_person("Nguyễn An", "head", "thon_1", "vi", now)
        await tx.add_identity(person.id, Identity("telegram", "101", "101"), now)
        await tx.add_report(
            "thon_1",
            "thang",
            "2026-11",
            {
                "tong_ho": "1234",
                "ho_co_dien": "1200",
                "thu_gom_rac": False,
                "dien_tich_lua": "12.5",
                "loai": "Thôn văn hóa",
                "ghi_chu": '=HYPERLINK("x")',
            },
            person.id,
            now,
        )
        await tx.add_report(
            "thon_1",
            "thang",
            "2026-11",
            {
                "tong_ho": "1240",
                "ho_co_dien": "1200",
                "thu_gom_rac": True,
                "dien_tich_lua": None,
                "loai": "Chưa đạt",
                "ghi_chu": None,
            },
            person.id,
            now,
        )
    await store.close()
    return person


def test_users_revoke_and_export(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    person = asyncio.run(_seed_reports(env / "data" / "thidua.db"))

    code, out, _err = run(capsys, "users")
    assert code == 0 and "Nguyễn An" in out and "telegram:101" in out

    code, out, _err = run(capsys, "export", "--format", "csv", "--plain", "--period", "2026-11")
    assert not out.startswith("\ufeff")  # --plain: today's machine format, unchanged
    rows = list(csv.DictReader(io.StringIO(out)))
    assert set(rows[0]) >= {
        "period",
        "village",
        "form",
        "question",
        "value",
        "unit",
        "version",
        "submitted_at",
        "submitted_by",
    }
    values = {r["question"]: r for r in rows}
    assert values["tong_ho"]["value"] == "1240" and values["tong_ho"]["version"] == "2"
    assert values["tong_ho"]["unit"] == "hộ"
    assert values["thu_gom_rac"]["value"] == "yes" and values["thu_gom_rac"]["unit"] == ""
    assert values["dien_tich_lua"]["value"] == ""
    assert values["tong_ho"]["submitted_by"] == "Nguyễn An (telegram:101)"

    code, out, _err = run(capsys, "export", "--format", "csv", "--plain", "--history")
    rows = list(csv.DictReader(io.StringIO(out)))
    first = {r["question"]: r["value"] for r in rows if r["version"] == "1"}
    assert first["dien_tich_lua"] == "12.5"
    assert first["ghi_chu"].startswith("'=")
    assert first["thu_gom_rac"] == "no"

    out_file = env / "export.csv"
    code, _out, _err = run(capsys, "export", "--format", "csv", "--plain", "--out", str(out_file))
    assert code == 0 and out_file.read_text(encoding="utf-8").startswith("period,")

    code, out, _err = run(capsys, "revoke", str(person.id))
    assert code == 0 and "Nguyễn An" in out
    code, out, _err = run(capsys, "users")
    assert "Nguyễn An" not in out


def test_the_csv_export_opens_right_in_excel(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_seed_reports(env / "data" / "thidua.db"))
    out_file = env / "bao-cao.csv"
    code, _out, err = run(capsys, "export", "--format", "csv", "--history", "--out", str(out_file))
    assert code == 0, err
    raw = out_file.read_bytes()
    # Excel reads a CSV as UTF-8 only after a BOM; with Vietnamese settings it splits on ";"
    # (the comma is the decimal mark) and ends rows at CRLF.
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text and "Tổng số hộ (hộ)" in text  # NFC, not garbled
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    header = rows[0]
    assert header == [
        "Kỳ", "Thôn", "Biểu mẫu", "Phiên bản", "Gửi lúc", "Người gửi",
        "Tổng số hộ (hộ)", "Hộ có điện (hộ)", "Thu gom rác", "Diện tích lúa (ha)",
        "Danh hiệu", "Ghi chú",
    ]  # fmt: skip
    first, second = (dict(zip(header, row, strict=True)) for row in rows[1:])
    assert first["Kỳ"] == "tháng 11/2026"  # not "2026-11", which Excel turns into a date
    assert [first[k] for k in ("Thôn", "Biểu mẫu", "Phiên bản")] == ["Thôn 1", "Báo cáo tháng", "1"]
    assert first["Gửi lúc"] == "20/11/2026 10:00"  # local time, a date Excel reads
    assert first["Người gửi"] == "Nguyễn An (telegram:101)"
    assert first["Diện tích lúa (ha)"] == "12,5"  # a decimal comma
    assert first["Tổng số hộ (hộ)"] == "1234" and first["Thu gom rác"] == "Không"
    assert first["Ghi chú"] == '\'=HYPERLINK("x")'  # still never a formula
    assert second["Phiên bản"] == "2" and second["Thu gom rác"] == "Có"
    assert second["Diện tích lúa (ha)"] == ""
    # printed, it is the same text
    code, out, _err = run(capsys, "export", "--format", "csv", "--history")
    assert out == "\ufeff" + text
    assert run(capsys, "export", "--format", "xlsx", "--plain", "--out", "x.xlsx")[0] == 2


def test_the_console_saves_files_into_the_exports_folder(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.channels.console import ConsoleChannel
    from bot.messages import OutgoingFile

    assert Settings.from_env(env={}, dotenv=Path("-")).exports == Path("exports")
    out = io.StringIO()
    channel = ConsoleChannel(None, "guest", stdout=out)  # type: ignore[arg-type]
    part = OutgoingFile("thidua-2026-11-24.xlsx", b"PK workbook")
    asyncio.run(channel.send_part("guest", part))
    saved = env / "exports" / "thidua-2026-11-24.xlsx"
    assert saved.read_bytes() == b"PK workbook"
    assert not (env / "thidua-2026-11-24.xlsx").exists()  # not the working tree's root
    assert str(saved) in out.getvalue()
    # THIDUA_EXPORTS moves it; a name never leads out of the folder
    monkeypatch.setenv("THIDUA_EXPORTS", str(env / "bang-tinh"))
    chosen = Settings.from_env().exports
    channel = ConsoleChannel(None, "guest", stdout=out, exports=chosen)  # type: ignore[arg-type]
    asyncio.run(channel.send_part("guest", OutgoingFile("../../ra-ngoai.xlsx", b"x")))
    assert (env / "bang-tinh" / "ra-ngoai.xlsx").read_bytes() == b"x"
    assert not (env.parent / "ra-ngoai.xlsx").exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        # nothing listens on port 1: refused at once, the password kept out of the message
        ("DATABASE_URL", "postgresql://thidua:pw@127.0.0.1:1/thidua", "Không mở được"),
        ("DATABASE_URL", "mysql://thidua:pw@127.0.0.1/thidua", "hoặc PostgreSQL"),
        ("THIDUA_COMMUNE", "Xã Nam Dong", "THIDUA_COMMUNE phải là"),
        ("THIDUA_INVITE_DAYS", "bảy", "phải là một số"),
        ("THIDUA_NOW", "2026-11-24 10:00", "kèm múi giờ"),
        ("THIDUA_NOW", "hôm nay", "kèm múi giờ"),
        ("THIDUA_WEB_PORT", "99999", "cổng từ 1 đến 65535"),
        ("THIDUA_WEB_PORT", "tám nghìn", "phải là một số"),
        ("THIDUA_WEB_URL", "thidua.namdong.gov.vn", "địa chỉ đầy đủ của trang web"),
    ],
)
def test_unusable_settings_get_a_clear_message(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    code, _out, err = run(capsys, "invite", "--village", "Thôn 1")
    assert code == 2
    assert message in err
    assert "pw" not in err and "Traceback" not in err


def test_the_web_pages_settings(tmp_path: Path) -> None:
    none = tmp_path / ".env"  # no .env file

    def settings(**env: str) -> Settings:
        return Settings.from_env(env, dotenv=none)

    assert settings().web_address == "http://localhost:8080"
    assert settings(THIDUA_WEB_PORT="off").web_address is None
    assert settings(THIDUA_WEB_PORT="Off").web_port is None
    chosen = settings(THIDUA_WEB_PORT="8090", THIDUA_WEB_URL="https://thidua.namdong.gov.vn/")
    assert (chosen.web_port, chosen.web_address) == (8090, "https://thidua.namdong.gov.vn")


def test_settings_read_dotenv_and_hide_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\nexport TELEGRAM_BOT_TOKEN='123:secret'\nDATABASE_URL=sqlite:////var/x.db\n",
        encoding="utf-8",
    )
    settings = Settings.from_env(env={"DATABASE_URL": "sqlite:///y.db"}, dotenv=dotenv)
    assert settings.telegram_token == "123:secret"
    assert settings.database_url == "sqlite:///y.db"  # the environment wins over .env
    assert "secret" not in repr(settings)


def test_a_clock_from_thidua_now_starts_there_and_runs_on() -> None:
    from bot.clock import clock_from

    ticks = iter([100.0, 100.0, 165.5])
    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    clock = clock_from(start, monotonic=lambda: next(ticks))
    assert clock() == start
    assert (clock() - start).total_seconds() == 65.5
    settings = Settings.from_env(env={"THIDUA_NOW": "2028-02-29T23:59+07:00"}, dotenv=Path("-"))
    assert settings.now == datetime.fromisoformat("2028-02-29T23:59+07:00")


def test_database_url_paths() -> None:
    from storage.sqlite import sqlite_path

    assert sqlite_path("sqlite:///thidua.db") == Path("thidua.db")
    assert sqlite_path("sqlite:////var/lib/thidua/thidua.db") == Path("/var/lib/thidua/thidua.db")
    with pytest.raises(ValueError):
        sqlite_path("postgresql://localhost/thidua")


async def _seed_digest(path: Path) -> None:
    store = await SqliteStorage.open(path)
    sent = datetime(2024, 5, 20, 3, 0, tzinfo=UTC)
    async with store.transaction() as tx:
        person = await tx.create_person("An", "head", "thon_1", "vi", sent)
        base = {"thu_gom_rac": True, "dien_tich_lua": None, "loai": "Chưa đạt", "ghi_chu": None}
        await tx.add_report(
            "thon_1",
            "thang",
            "2024-04",
            {"tong_ho": "100", "ho_co_dien": "40", **base},
            person.id,
            sent.replace(month=4),
        )
        await tx.add_report(
            "thon_1",
            "thang",
            "2024-05",
            {"tong_ho": "100", "ho_co_dien": "50", **base},
            person.id,
            sent,
        )
        await tx.add_report(
            "thon_2",
            "thang",
            "2024-05",
            {"tong_ho": "300", "ho_co_dien": "300", **base, "thu_gom_rac": False},
            person.id,
            datetime(2024, 5, 26, 2, 0, tzinfo=UTC),  # after the 25th: late
        )
    await store.close()


def test_digest_prints_rates_and_weighted_indicators(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_seed_digest(env / "data" / "thidua.db"))
    code, out, _err = run(capsys, "digest", "--period", "2024-05")
    assert code == 0
    assert "Đã báo cáo: 2/3 thôn" in out
    assert "Đúng hạn: 1/3 thôn" in out
    assert "Gửi muộn: Thôn 2" in out
    assert "Chưa báo cáo: Thôn 3" in out
    # two villages of three (67 %) are under the default 80 %: no verdict, no change
    assert "Tỷ lệ hộ dùng điện lưới: 87,5% (mục tiêu ≥ 100%): chưa đủ số liệu (2/3 thôn)" in out
    assert "so với kỳ trước" not in out
    # a plan content with a third of its villages reporting says more
    lenient = env / "lenient.yaml"
    lenient.write_text(SMALL_PLAN.read_text(encoding="utf-8") + "min_coverage: 30\n", "utf-8")
    monkeypatch.setenv("PLAN_FILE", str(lenient))
    code, out, _err = run(capsys, "digest", "--period", "2024-05")
    assert code == 0
    # (50 + 300) / (100 + 300) = 87,5 %, not the 75 % average of 50 % and 100 %
    assert "Tỷ lệ hộ dùng điện lưới: 87,5% (2/3 thôn; mục tiêu ≥ 100%): chưa đạt" in out
    assert (
        "Thôn có thu gom rác: 50% (2/3 thôn; mục tiêu ≥ 100%): chưa đạt; -50 điểm phần trăm" in out
    )
    assert "Diện tích lúa: chưa có số liệu" in out
    # last period only thon_1 reported (40 %, 1/3 villages): the change is in points
    assert "+47,5 điểm phần trăm so với kỳ trước" in out


def test_xlsx_export_holds_numbers_as_numbers(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpyxl import load_workbook

    asyncio.run(_seed_digest(env / "data" / "thidua.db"))
    out = env / "tong-hop.xlsx"
    code, _out, err = run(
        capsys, "export", "--format", "xlsx", "--period", "2024-05", "--out", str(out)
    )
    assert code == 0, err
    book = load_workbook(out)
    summary = book.worksheets[0]
    rows = [[c.value for c in row] for row in summary.iter_rows()]
    while all(row[-1] is None for row in rows):
        rows = [row[:-1] for row in rows]
    width = len(rows[0])
    assert ["Báo cáo tháng", "2024-05", 2, 1, 3] + [None] * (width - 5) in rows
    header = ["Chỉ tiêu", "Kỳ", "Giá trị", "Đơn vị", "Mục tiêu", "Số thôn có số liệu",
              "Số thôn", "Đánh giá"]  # fmt: skip
    assert header in rows
    # the digest's rule: two villages of three are too few for a verdict
    power = ["Tỷ lệ hộ dùng điện lưới", "2024-05", 87.5, "%", "≥ 100%", 2, 3]
    assert [*power, "chưa đủ số liệu (2/3 thôn)"] in rows
    assert ["Diện tích lúa", "2024-05", None, "ha", "≥ 4.833 ha", 0, 3, None] in rows
    sheet = book.worksheets[1]
    assert sheet.title == "Báo cáo tháng 2024-05"
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert table[0][:3] == ["Thôn", "Tổng số hộ (hộ)", "Hộ có điện (hộ)"]
    by_village = {row[0]: row for row in table[1:]}
    assert by_village["Thôn 1"][1:4] == [100, 50, "Có"]
    assert isinstance(by_village["Thôn 2"][1], int)
    assert by_village["Thôn 3"][1:] == [None] * (len(table[0]) - 1)  # not reported
    missing = run(capsys, "export", "--format", "xlsx")
    assert missing[0] == 2 and "--out" in missing[2]


def test_digest_chart_is_a_png(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from matplotlib.image import imread

    asyncio.run(_seed_digest(env / "data" / "thidua.db"))
    chart = env / "chart.png"
    code, _out, err = run(capsys, "digest", "--period", "2024-05", "--chart", str(chart))
    assert code == 0, err
    data = chart.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = imread(chart)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 600


def test_digest_send_queues_it_for_the_secretariat_and_chair(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = env / "data" / "thidua.db"
    asyncio.run(_seed_digest(path))
    nobody = run(capsys, "digest", "--period", "2024-05", "--send")
    assert nobody[0] == 1 and "thidua invite --role secretariat" in nobody[2]

    async def officers() -> None:
        store = await SqliteStorage.open(path)
        now = datetime(2024, 6, 1, tzinfo=UTC)
        async with store.transaction() as tx:
            for name, role, chat in (
                ("Chị Thư", "secretariat", "501"),
                ("Ông Hùng", "chair", "502"),
            ):
                person = await tx.create_person(name, role, None, "vi", now)
                await tx.add_identity(person.id, Identity("telegram", chat, chat), now)
        await store.close()

    async def queued() -> list[tuple[str, str, int]]:
        store = await SqliteStorage.open(path)
        async with store.transaction() as tx:
            rows = await tx.outbox("digest-now:")
            later = datetime(2030, 1, 1, tzinfo=UTC)
            due = await tx.claim_messages("test", later, later, ["telegram"], 10)
        await store.close()
        assert [m.key for m in due] == [r["key"] for r in rows]
        return [(m.chat_id, m.replies[0].text, len(m.replies[0].files)) for m in due]

    asyncio.run(officers())
    code, out, err = run(capsys, "digest", "--period", "2024-05", "--send")
    assert code == 0, err
    assert "Đã báo cáo: 2/3 thôn" in out
    assert "Chị Thư, Ông Hùng" in err
    messages = asyncio.run(queued())
    assert [chat for chat, _text, _files in messages] == ["501", "502"]
    assert all(text.strip() == out.strip() and files == 2 for _chat, text, files in messages)


def test_invite_for_a_second_channel_links_to_the_person(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = env / "data" / "thidua.db"

    async def head() -> int:
        store = await SqliteStorage.open(path)
        now = datetime(2026, 11, 24, tzinfo=UTC)
        async with store.transaction() as tx:
            person = await tx.create_person("Anh Ba", "head", "thon_2", "vi", now)
        await store.close()
        return person.id

    async def invite(code: str) -> tuple[str | None, str, int | None]:
        store = await SqliteStorage.open(path)
        async with store.transaction() as tx:
            found = await tx.invite(code)
        await store.close()
        assert found is not None
        return found.village_id, found.role, found.person_id

    person_id = asyncio.run(head())
    code, out, err = run(capsys, "invite", "--person", str(person_id))
    assert code == 0, err
    assert "Anh Ba" in out and "Thôn 2" in out
    assert asyncio.run(invite(out.strip().splitlines()[-1])) == ("thon_2", "head", person_id)
    missing = run(capsys, "invite", "--person", "99")
    assert missing[0] != 0 and "Không có người số 99" in missing[2]


# -- setting up: every village invited at once, Telegram's URL, a plan's syntax errors ------


INVITE_ROW = re.compile(r"(Thôn \d+)\s+([A-Z2-9]{8})\s+(\S+)\s+(\S+)")


async def _prepare_heads(path: Path, username: str | None) -> None:
    """A head of Thôn 1, a revoked head of Thôn 2, a secretariat member (no village)."""
    store = await SqliteStorage.open(path)
    now = datetime(2026, 11, 24, tzinfo=UTC)
    async with store.transaction() as tx:
        await tx.create_person("Anh Một", "head", "thon_1", "vi", now)
        gone = await tx.create_person("Chị Hai", "head", "thon_2", "vi", now)
        await tx.create_person("Thư ký", "secretariat", None, "vi", now)
        if username:
            await tx.set_meta("telegram_username", username)
    async with store.transaction() as tx:
        await tx.revoke_person(gone.id, now)
    await store.close()


async def _invites(path: Path) -> dict[str, tuple[str, str | None, datetime]]:
    store = await SqliteStorage.open(path)
    db = sqlite3.connect(path)
    codes = [code for (code,) in db.execute("SELECT code FROM invites")]
    db.close()
    found = {}
    async with store.transaction() as tx:
        for code in codes:
            invite = await tx.invite(code)
            assert invite is not None and invite.used_at is None
            found[code] = (invite.role, invite.village_id, invite.expires_at)
    await store.close()
    return found


def test_invite_all_villages_makes_a_code_for_each_village_without_a_head(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = env / "data" / "thidua.db"
    path.parent.mkdir()
    asyncio.run(_prepare_heads(path, "namdong_bot"))
    code, out, err = run(capsys, "invite", "--all-villages", "--csv", "ma-moi.csv")
    assert code == 0, err
    assert "hết hạn ngày 1/12/2026" in out  # 7 days from 24/11/2026
    rows = [INVITE_ROW.fullmatch(line) for line in out.splitlines()]
    table = [list(m.groups()) for m in rows if m]
    # Thôn 1 has a head; Thôn 2's was revoked, so it needs one again
    assert [row[0] for row in table] == ["Thôn 2", "Thôn 3"]
    assert "Đã có trưởng thôn đăng ký, không tạo mã: Thôn 1." in out
    for _village, invite_code, expires, link in table:
        assert expires == "1/12/2026"
        assert link == f"https://t.me/namdong_bot?start={invite_code}"
    stored = asyncio.run(_invites(path))
    assert {c: v[:2] for c, v in stored.items()} == {
        table[0][1]: ("head", "thon_2"),
        table[1][1]: ("head", "thon_3"),
    }
    [expires_at] = {v[2] for v in stored.values()}  # THIDUA_NOW + 7 days, the clock ran on
    late = expires_at - datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert timedelta(0) <= late < timedelta(minutes=1)

    # The CSV holds the same table, as Excel opens it: UTF-8 with a BOM, `;` between fields.
    data = (env / "ma-moi.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    header, *lines = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";")
    assert header == ["Thôn", "Mã mời", "Hết hạn", "Đường link"]
    assert lines == table

    # A second sitting: new codes for the villages still without a head (the first ones
    # stay valid until they expire, each for one use).
    code, out, _err = run(capsys, "invite", "--all-villages", "--days", "3")
    again = [m.groups() for m in map(INVITE_ROW.fullmatch, out.splitlines()) if m]
    assert [row[0] for row in again] == ["Thôn 2", "Thôn 3"]
    assert {row[1] for row in again}.isdisjoint(row[1] for row in table)
    assert {row[2] for row in again} == {"27/11/2026"}
    assert len(asyncio.run(_invites(path))) == 4


def test_invite_all_villages_before_the_bot_ever_ran(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(capsys, "invite", "--all-villages", "--csv", "ma-moi.csv")
    assert code == 0
    table = [m.groups() for m in map(INVITE_ROW.fullmatch, out.splitlines()) if m]
    assert [row[0] for row in table] == ["Thôn 1", "Thôn 2", "Thôn 3"]
    assert [row[3] for row in table] == ["-", "-", "-"]
    assert "Chưa biết đường link Telegram" in out
    text = (env / "ma-moi.csv").read_text(encoding="utf-8-sig")
    [_header, *lines] = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    assert [line[3] for line in lines] == ["", "", ""]

    for args in (["--village", "Thôn 1"], ["--role", "chair"], ["--person", "1"]):
        code, _out, err = run(capsys, "invite", "--all-villages", *args)
        assert code == 2 and "--all-villages" in err
    code, _out, err = run(capsys, "invite", "--village", "Thôn 1", "--csv", "x.csv")
    assert code == 2 and "--csv" in err


@pytest.mark.parametrize("written", ["", "/", "/bot", "/bot/"])
async def test_telegram_api_url_works_with_or_without_bot(
    standin: BotApiStandIn, tmp_path: Path, written: str
) -> None:
    """``TELEGRAM_API_URL`` may name the server (``https://api.telegram.org``) or its
    ``/bot`` base (python-telegram-bot's ``base_url``): the bot reaches the Bot API both
    ways, and downloads files from ``…/file/bot``."""
    root = standin.base_url.removesuffix("/bot")
    settings = Settings.from_env({"TELEGRAM_API_URL": root + written}, dotenv=tmp_path / ".env")
    assert settings.telegram_api_url == standin.base_url
    options = TelegramOptions(standin.token, api_url=settings.telegram_api_url)
    assert options.files_url == standin.base_file_url
    async with Bot(standin.token, base_url=options.api_url, base_file_url=options.files_url) as bot:
        me = await bot.get_me()
    assert me.username == standin.bot_user["username"]
    assert Settings.from_env({}, dotenv=tmp_path / ".env").telegram_api_url == (
        "https://api.telegram.org/bot"
    )
    placeholder = {"TELEGRAM_API_URL": "https://proxy.example/tg/bot{token}/x"}
    assert Settings.from_env(placeholder, dotenv=tmp_path / ".env").telegram_api_url == (
        "https://proxy.example/tg/bot{token}/x"
    )


def test_a_yaml_syntax_error_is_reported_in_vietnamese_by_plan_check_and_run(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = env / "bad.yaml"
    text = SMALL_PLAN.read_text(encoding="utf-8")
    bad.write_text(text.replace("title: Kế hoạch thử", "title: Kế hoạch: thử"), encoding="utf-8")
    expected = f"{bad}: dòng 2, cột 16: Lỗi cú pháp YAML: có dấu hai chấm “:” ở chỗ không được dùng"
    code, out, _err = run(capsys, "plan", "check", str(bad))
    assert code == 1
    assert out.startswith(expected)
    monkeypatch.setenv("PLAN_FILE", str(bad))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    code, _out, err = run(capsys, "run")
    assert code == 2
    assert expected in err and "mapping values" not in err
