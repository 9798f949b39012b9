"""Settings from the environment (and a ``.env`` file in the working directory)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from bot.clock import Clock, clock_from, system_clock
from bot.i18n import _


class ConfigError(Exception):
    """A setting the program cannot use; the message says which and why, in Vietnamese."""


DEFAULT_PLAN = Path(__file__).resolve().parents[2] / "plans" / "nam-dong-2024.yaml"


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines; ``#`` comments, ``export`` prefixes and quotes allowed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def telegram_base_url(url: str) -> str:
    """The Bot API base python-telegram-bot wants, the token appended to it (``…/bot``),
    from ``TELEGRAM_API_URL`` written with or without its ``/bot`` (and a trailing ``/``):
    ``https://api.telegram.org`` and ``https://api.telegram.org/bot/`` both give
    ``https://api.telegram.org/bot``. A URL with a ``{token}`` placeholder is kept as is."""
    if "{token}" in url:
        return url
    base = url.rstrip("/")
    return base if base.endswith("/bot") else base + "/bot"


def commune_key(value: str) -> str:
    """THIDUA_COMMUNE as given: lower-case letters, digits, "-" and "_" (``nam-dong``)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", value):
        raise ConfigError(
            _(
                "THIDUA_COMMUNE phải là một tên ngắn bằng chữ thường không dấu, số, “-” "
                "hoặc “_” (ví dụ nam-dong), không phải “{value}”."
            ).format(value=value)
        )
    return value


@dataclass(frozen=True)
class Settings:
    telegram_token: str | None = field(default=None, repr=False)
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_api_url: str | None = None
    telegram_rate_limit: float = 28.0
    database_url: str = "sqlite:///thidua.db"
    commune: str = "default"  # THIDUA_COMMUNE: the key of this commune's rows (PostgreSQL)
    plan_file: Path = DEFAULT_PLAN
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_port: int = 8443
    webhook_listen: str = "0.0.0.0"
    invite_days: int = 7
    log_level: str = "INFO"
    zalo_token: str | None = field(default=None, repr=False)
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    zalo_rate_limit: float = 10.0
    zalo_webhook_url: str | None = None
    zalo_webhook_secret: str | None = field(default=None, repr=False)
    zalo_webhook_port: int = 8444
    zalo_webhook_listen: str = "0.0.0.0"
    now: datetime | None = None  # THIDUA_NOW: the moment the bot's clock starts at
    exports: Path = Path("exports")  # THIDUA_EXPORTS: where the console saves files sent to it
    web_port: int | None = 8080  # THIDUA_WEB_PORT: the web page's port; None: "off", none
    web_listen: str = "0.0.0.0"  # THIDUA_WEB_LISTEN
    web_url: str | None = None  # THIDUA_WEB_URL: the web page's public address, for links

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        merged = read_dotenv(dotenv if dotenv is not None else Path.cwd() / ".env")
        merged.update(os.environ if env is None else env)

        def get(name: str) -> str | None:
            value = merged.get(name, "").strip()
            return value or None

        def number(name: str, default: float) -> float:
            value = get(name)
            if value is None:
                return default
            try:
                return float(value)
            except ValueError:
                raise ConfigError(
                    _("{name} phải là một số, không phải “{value}”.").format(name=name, value=value)
                ) from None

        def moment(name: str) -> datetime | None:
            value = get(name)
            if value is None:
                return None
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
            if parsed is None or parsed.tzinfo is None:
                raise ConfigError(
                    _(
                        "{name} phải là một thời điểm kèm múi giờ, ví dụ "
                        "2026-11-24T10:00+07:00, không phải “{value}”."
                    ).format(name=name, value=value)
                )
            return parsed

        def web_port() -> int | None:
            value = get("THIDUA_WEB_PORT")
            if value is not None and value.lower() in ("off", "0", "no", "khong", "không"):
                return None
            port = int(number("THIDUA_WEB_PORT", cls.web_port or 8080))
            if not 0 < port < 65536:
                raise ConfigError(
                    _(
                        "THIDUA_WEB_PORT phải là một cổng từ 1 đến 65535, hoặc “off” để tắt "
                        "trang web, không phải “{value}”."
                    ).format(value=value)
                )
            return port

        def web_url() -> str | None:
            value = get("THIDUA_WEB_URL")
            if value is None:
                return None
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(
                    _(
                        "THIDUA_WEB_URL phải là địa chỉ đầy đủ của trang web, ví dụ "
                        "https://thidua.namdong.gov.vn, không phải “{value}”."
                    ).format(value=value)
                )
            return value.rstrip("/")

        return cls(
            telegram_token=get("TELEGRAM_BOT_TOKEN"),
            telegram_api_url=telegram_base_url(get("TELEGRAM_API_URL") or cls.telegram_api_url),
            telegram_file_api_url=get("TELEGRAM_FILE_API_URL"),
            telegram_rate_limit=number("TELEGRAM_RATE_LIMIT", cls.telegram_rate_limit),
            database_url=get("DATABASE_URL") or cls.database_url,
            commune=commune_key(get("THIDUA_COMMUNE") or cls.commune),
            plan_file=Path(get("PLAN_FILE") or DEFAULT_PLAN),
            webhook_url=get("THIDUA_WEBHOOK_URL"),
            webhook_secret=get("THIDUA_WEBHOOK_SECRET"),
            webhook_port=int(number("THIDUA_WEBHOOK_PORT", cls.webhook_port)),
            webhook_listen=get("THIDUA_WEBHOOK_LISTEN") or cls.webhook_listen,
            invite_days=int(number("THIDUA_INVITE_DAYS", cls.invite_days)),
            log_level=(get("THIDUA_LOG_LEVEL") or cls.log_level).upper(),
            zalo_token=get("ZALO_BOT_TOKEN"),
            zalo_api_url=get("ZALO_API_URL") or cls.zalo_api_url,
            zalo_rate_limit=number("ZALO_RATE_LIMIT", cls.zalo_rate_limit),
            zalo_webhook_url=get("ZALO_WEBHOOK_URL"),
            zalo_webhook_secret=get("ZALO_WEBHOOK_SECRET"),
            zalo_webhook_port=int(number("ZALO_WEBHOOK_PORT", cls.zalo_webhook_port)),
            zalo_webhook_listen=get("ZALO_WEBHOOK_LISTEN") or cls.zalo_webhook_listen,
            now=moment("THIDUA_NOW"),
            exports=Path(get("THIDUA_EXPORTS") or cls.exports),
            web_port=web_port(),
            web_listen=get("THIDUA_WEB_LISTEN") or cls.web_listen,
            web_url=web_url(),
        )

    def clock(self) -> Clock:
        """The machine's clock, or one that starts at ``THIDUA_NOW`` and runs on from there."""
        return clock_from(self.now) if self.now is not None else system_clock

    @property
    def web_address(self) -> str | None:
        """Where the web page's links point: THIDUA_WEB_URL, else this machine on
        THIDUA_WEB_PORT; None when the web page is off."""
        if self.web_port is None:
            return None
        return self.web_url or f"http://localhost:{self.web_port}"

    def secrets(self) -> list[str]:
        """Values that must never reach a log line."""
        candidates = (
            self.telegram_token,
            self.webhook_secret,
            self.zalo_token,
            self.zalo_webhook_secret,
            urlsplit(self.database_url).password,
        )
        return [s for s in candidates if s]
