"""The secretariat's web page: one more adapter, served by ``thidua run`` with aiohttp.

Pages are rendered on the server from Jinja2 templates (``web/templates``) and one
stylesheet (``web/static``), all shipped in the package: no script, no CDN, nothing to
build. People sign in by a link the bot sends (``web.signin``); every state-changing form
carries the session's CSRF token; what a page shows comes from ``web.pages``, and the one
change a page makes (reviewing a nomination) goes through the same ``NominationDesk`` as
the chat, in a unit of work of its own.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from bot.app.config import ConfigError
from bot.clock import Clock
from bot.domain import Nomination, Person, WebLink, WebSession
from bot.i18n import (
    DAY,
    _,
    command_name,
    current_locale,
    format_date,
    format_number,
    normalize_locale,
    use_locale,
)
from bot.plan.model import Plan
from bot.plan.periods import Period, parse_period
from bot.reports.engine import token_number
from bot.scoring.views import points_text
from handlers.digest import (
    DigestData,
    digest_chart,
    digest_text,
    digest_workbook,
    read_digest,
)
from handlers.nominations import NominationDesk
from storage.repository import Storage, StorageBusy, Transaction
from web import pages
from web.signin import (
    TOUCH_EVERY,
    WebLinks,
    link_refusal,
    new_session,
    safe_target,
    same,
    session_alive,
    token_hash,
)
from web.svg import trend_svg

log = logging.getLogger(__name__)

SESSION_COOKIE = "thidua_phien"
NONCE_COOKIE = "thidua_vao"  # ties the sign-in button's press to the browser that opened it
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # A sign-in link's token never leaves the site in a Referer; within it the browser keeps
    # sending the page's Origin (under "no-referrer" it would send "Origin: null").
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Signed:
    """The person behind a request and their session."""

    viewer: pages.Viewer
    session: WebSession


class WebPage:
    """The web page's routes over the bot's plan, storage and clock."""

    def __init__(
        self,
        plan: Plan,
        storage: Storage,
        clock: Clock,
        links: WebLinks,
        desk: NominationDesk,
    ) -> None:
        self.plan = plan
        self.storage = storage
        self.clock = clock
        self.links = links
        self.desk = desk
        parts = urlsplit(links.base)
        self.secure = parts.scheme == "https"
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.templates = Environment(
            loader=PackageLoader("web", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.globals.update(
            _=_,
            number=format_number,
            day=self._day,
            moment=self._moment,
            trend_svg=trend_svg,
            command=command_name,
            points=points_text,
            day_of=lambda value: format_date(value, DAY),
            plan=plan,
            commune_id=pages.COMMUNE_ID,
        )
        self._runner: web.AppRunner | None = None

    # -- formatting, for the templates ------------------------------------------------------

    def _day(self, value: datetime) -> str:
        return format_date(value.astimezone(self.plan.tz).date(), DAY)

    def _moment(self, value: datetime) -> str:
        local = value.astimezone(self.plan.tz)
        return f"{format_date(local.date(), DAY)} {local:%H:%M}"

    # -- the application ----------------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._headers, self._errors])
        static = Path(str(resources.files("web") / "static"))
        app.router.add_static("/static", static, append_version=False)
        app.router.add_get("/vao/{token}", self.sign_in_page)
        app.router.add_post("/vao/{token}", self.sign_in)
        app.router.add_post("/dang-xuat", self._page(self.sign_out))
        app.router.add_get("/", self._page(self.overview))
        app.router.add_get("/chi-tieu", self._page(self.indicators))
        app.router.add_get("/thon", self._page(self.villages))
        app.router.add_get("/thon/{village}", self._page(self.village))
        app.router.add_get("/thi-dua", self._page(self.board))
        app.router.add_get("/de-cu", self._page(self.nominations))
        app.router.add_get("/de-cu/{id}", self._page(self.nomination))
        app.router.add_post("/de-cu/{id}", self._page(self.review))
        app.router.add_get("/de-cu/{id}/anh/{photo}", self._page(self.photo))
        app.router.add_get("/tai-ve", self._page(self.downloads))
        app.router.add_get("/tai-ve/{period}.xlsx", self._page(self.workbook))
        app.router.add_get("/tai-ve/{period}.csv", self._page(self.csv))
        app.router.add_get("/tong-hop", self._page(self.digest))
        app.router.add_get("/tong-hop/bieu-do.png", self._page(self.digest_chart))
        app.router.add_get("/tong-hop/bang-tinh.xlsx", self._page(self.digest_workbook))
        return app

    async def start(self, listen: str, port: int) -> None:
        """Serve on ``listen``:``port``; a port already taken is a ``ConfigError``."""
        # No access log: a sign-in link's path is its token.
        self._runner = web.AppRunner(self.application(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, listen, port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            self._runner = None
            raise ConfigError(
                _(
                    "Không mở được trang web trên cổng {port} ({error}): hãy chọn cổng khác "
                    "bằng THIDUA_WEB_PORT, hoặc tắt trang web bằng THIDUA_WEB_PORT=off."
                ).format(port=port, error=error.strerror or error)
            ) from None
        log.info(
            "the web page is served on %s:%s (links point to %s)", listen, port, self.links.base
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        for name, value in HEADERS.items():
            if name == "Cache-Control" and request.path.startswith("/static/"):
                continue
            response.headers.setdefault(name, value)
        return response

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            with use_locale(self._browser_locale(request)):
                return self._message(
                    _("Không có trang này"),
                    _("Đường dẫn này không dẫn tới trang nào của thidua."),
                    404,
                )
        except web.HTTPMethodNotAllowed:
            with use_locale(self._browser_locale(request)):
                return self._message(
                    _("Không làm được"), _("Trang này không nhận yêu cầu kiểu này."), 405
                )
        except StorageBusy:
            with use_locale(self._browser_locale(request)):
                return self._message(
                    _("Máy chủ đang bận"),
                    _("Cơ sở dữ liệu đang bận; xin thử lại sau ít phút. Không có gì bị mất."),
                    503,
                )
        except web.HTTPException:
            raise  # a redirect
        except Exception:
            # the route's pattern, never its path: a sign-in link's path is its token
            resource = request.match_info.route.resource
            log.exception("the web page's %s failed", resource.canonical if resource else "?")
            with use_locale(self._browser_locale(request)):
                return self._message(
                    _("Có lỗi"),
                    _(
                        "Trang này gặp lỗi và đã được ghi lại cho cán bộ kỹ thuật; không có gì "
                        "thay đổi. Xin thử lại sau."
                    ),
                    500,
                )

    # -- rendering ------------------------------------------------------------------------

    def _render(
        self,
        template: str,
        status: int = 200,
        signed: Signed | None = None,
        **values: Any,
    ) -> web.Response:
        context = {
            "locale": current_locale.get(),
            "viewer": signed.viewer if signed else None,
            "csrf": signed.session.csrf if signed else "",
            "nav": pages.navigation(signed.viewer, self.plan) if signed else [],
            **values,
        }
        html = self.templates.get_template(template).render(context)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def _message(
        self, title: str, text: str, status: int, signed: Signed | None = None
    ) -> web.Response:
        return self._render("message.html", status, signed, title=title, text=text)

    def _signed_out(self) -> web.Response:
        return self._message(
            _("Chưa đăng nhập"),
            _(
                "Trang này cần đăng nhập. Gõ /web trong khung chat với bot thidua (Zalo hoặc "
                "Telegram) để nhận một đường dẫn đăng nhập, rồi mở đường dẫn đó."
            ),
            401,
        )

    @staticmethod
    def _browser_locale(request: web.Request) -> str:
        first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0]
        return normalize_locale(first.strip() or None)

    # -- signing in -----------------------------------------------------------------------

    async def _signed(self, request: web.Request) -> Signed | None:
        """The request's session and person, when the session still holds; its last use
        written at most once every TOUCH_EVERY."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        now = self.clock()
        async with self.storage.reading() as tx:
            session = await tx.web_session(token_hash(cookie))
            person = await tx.person(session.person_id) if session is not None else None
        if not session_alive(session, person, now):
            return None
        assert session is not None and person is not None
        if now - session.seen_at >= TOUCH_EVERY:
            async with self.storage.transaction() as tx:
                await tx.touch_web_session(session.id_hash, now)
        return Signed(pages.Viewer(person), session)

    def _page(
        self, view: Callable[[web.Request, Signed], Awaitable[web.StreamResponse]]
    ) -> Handler:
        """``view`` for a signed-in person, in their language; a signed-out request gets
        the page that says how to sign in, and a POST without the session's CSRF token or
        from another site is refused."""

        async def handler(request: web.Request) -> web.StreamResponse:
            signed = await self._signed(request)
            if signed is None:
                with use_locale(self._browser_locale(request)):
                    return self._signed_out()
            with use_locale(signed.viewer.person.locale):
                if request.method == "POST":
                    form = await request.post()
                    if not self._same_site(request) or not same(
                        str(form.get("csrf", "")), signed.session.csrf
                    ):
                        return self._forged(signed)
                return await view(request, signed)

        return handler

    def _same_site(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        return origin is None or origin == self.origin

    def _forged(self, signed: Signed | None = None) -> web.Response:
        return self._message(
            _("Yêu cầu bị từ chối"),
            _(
                "Biểu mẫu này không gửi từ trang thidua đang mở (hoặc trang đã cũ): không có gì "
                "thay đổi. Hãy tải lại trang rồi làm lại."
            ),
            403,
            signed,
        )

    def _refusal(self, why: str) -> web.Response:
        texts = {
            "forged": (
                _("Đường dẫn không hợp lệ"),
                _(
                    "Đường dẫn đăng nhập này không đúng (có thể bị chép thiếu). Gõ /web trong "
                    "khung chat với bot để nhận đường dẫn mới."
                ),
                404,
            ),
            "used": (
                _("Đường dẫn đã được dùng"),
                _(
                    "Mỗi đường dẫn đăng nhập chỉ dùng được một lần, và đường dẫn này đã được "
                    "dùng. Gõ /web trong khung chat với bot để nhận đường dẫn mới."
                ),
                410,
            ),
            "expired": (
                _("Đường dẫn đã hết hạn"),
                _(
                    "Đường dẫn đăng nhập này đã hết hạn. Gõ /web trong khung chat với bot để "
                    "nhận đường dẫn mới (dùng được trong 10 phút)."
                ),
                410,
            ),
            "revoked": (
                _("Tài khoản đã bị thu hồi"),
                _(
                    "Người được gửi đường dẫn này không còn quyền dùng thidua. Nếu đây là nhầm "
                    "lẫn, xin liên hệ thường trực Hội đồng Thi đua."
                ),
                403,
            ),
        }
        title, text, status = texts[why]
        return self._message(title, text, status)

    @staticmethod
    async def _link(tx: Transaction, request: web.Request) -> tuple[WebLink | None, Person | None]:
        """The link the request's path names, and the person it signs in."""
        link = await tx.web_link(token_hash(request.match_info["token"]))
        return link, await tx.person(link.person_id) if link is not None else None

    async def sign_in_page(self, request: web.Request) -> web.StreamResponse:
        """A link opened: one button (a link preview that fetches the page uses nothing up),
        or why the link cannot sign in; a browser already signed in as the link's person
        goes straight to the page."""
        now = self.clock()
        async with self.storage.reading() as tx:
            link, person = await self._link(tx, request)
        signed = await self._signed(request)
        if link is not None and signed is not None and signed.viewer.person.id == link.person_id:
            raise web.HTTPSeeOther(safe_target(link.target))
        with use_locale(person.locale if person else self._browser_locale(request)):
            why = link_refusal(link, person, now)
            if why is not None:
                return self._refusal(why)
            assert person is not None
            nonce = secrets.token_urlsafe(16)
            response = self._render("signin.html", name=person.name, nonce=nonce)
            response.set_cookie(
                NONCE_COOKIE,
                nonce,
                max_age=600,
                path="/vao",
                httponly=True,
                secure=self.secure,
                samesite="Strict",
            )
            return response

    async def sign_in(self, request: web.Request) -> web.StreamResponse:
        """The button pressed: the link taken (once), a session started, its page opened."""
        form = await request.post()
        nonce = request.cookies.get(NONCE_COOKIE, "")
        now = self.clock()
        async with self.storage.transaction() as tx:
            link, person = await self._link(tx, request)
            with use_locale(person.locale if person else self._browser_locale(request)):
                why = link_refusal(link, person, now)
                if why is not None:
                    return self._refusal(why)
                if (
                    not nonce
                    or not same(str(form.get("nonce", "")), nonce)
                    or not self._same_site(request)
                ):
                    return self._forged()
                assert link is not None and person is not None
                if not await tx.use_web_link(link.token_hash, now):
                    return self._refusal("used")
                cookie, session = new_session(person.id, now)
                await tx.create_web_session(session)
        response = web.Response(status=303, headers={"Location": safe_target(link.target)})
        response.set_cookie(
            SESSION_COOKIE, cookie, path="/", httponly=True, secure=self.secure, samesite="Strict"
        )
        response.del_cookie(NONCE_COOKIE, path="/vao")
        return response

    async def sign_out(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        async with self.storage.transaction() as tx:
            await tx.end_web_session(signed.session.id_hash, self.clock())
        response = self._message(
            _("Đã đăng xuất"),
            _("Bạn đã đăng xuất. Gõ /web trong khung chat với bot để đăng nhập lại."),
            200,
        )
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    # -- pages ----------------------------------------------------------------------------

    async def overview(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        async with self.storage.reading() as tx:
            tables = await pages.overview(tx, self.plan, signed.viewer, self.clock())
        return self._render(
            "overview.html", signed=signed, tables=tables, legend=pages.legend(), here="/"
        )

    async def indicators(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        async with self.storage.reading() as tx:
            figures = await pages.indicators(tx, self.plan, signed.viewer, self.clock())
        return self._render("indicators.html", signed=signed, figures=figures, here="/chi-tieu")

    async def villages(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        if signed.viewer.scope is not None:
            raise web.HTTPSeeOther(f"/thon/{quote(signed.viewer.scope)}")
        return self._render("villages.html", signed=signed, here="/thon")

    def _not_yours(self, signed: Signed) -> web.Response:
        return self._message(
            _("Không xem được"),
            _("Trang này là của thôn khác: bạn chỉ xem được số liệu của thôn mình."),
            403,
            signed,
        )

    async def village(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        village_id = request.match_info["village"]
        if not signed.viewer.sees(village_id):
            return self._not_yours(signed)
        known = {v.id for v in self.plan.villages} | {pages.COMMUNE_ID}
        if village_id not in known:
            raise web.HTTPNotFound()
        async with self.storage.reading() as tx:
            page = await pages.village_page(tx, self.plan, village_id, self.clock())
        return self._render("village.html", signed=signed, page=page, here=f"/thon/{village_id}")

    async def board(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        if self.plan.scoring is None:
            raise web.HTTPNotFound()
        async with self.storage.reading() as tx:
            page = await pages.board_page(tx, self.plan, signed.viewer, self.clock())
        return self._render("board.html", signed=signed, page=page, here="/thi-dua")

    async def nominations(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        async with self.storage.reading() as tx:
            rows = await pages.nomination_list(tx, self.plan, signed.viewer)
        return self._render("nominations.html", signed=signed, rows=rows, here="/de-cu")

    @staticmethod
    async def _openable(tx: Transaction, request: web.Request, signed: Signed) -> Nomination:
        """The nomination the path names, when the viewer may open it; else not found
        (another's nomination is as unknown as a missing one)."""
        number = token_number(request.match_info["id"])
        nomination = await tx.nomination(number) if number is not None else None
        if nomination is None or not pages.may_open(signed.viewer, nomination):
            raise web.HTTPNotFound()
        return nomination

    async def nomination(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        async with self.storage.reading() as tx:
            nomination = await self._openable(tx, request, signed)
            page = await pages.nomination_page(tx, self.plan, signed.viewer, nomination)
        return self._render("nomination.html", signed=signed, page=page, here="/de-cu")

    async def review(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        """A review form sent: applied by ``NominationDesk.review_words`` (the chat's rules,
        events and notices), then the nomination shown again with what happened."""
        form = await request.post()
        now = self.clock()
        async with self.storage.transaction() as tx:
            nomination = await self._openable(tx, request, signed)
            done, said = await self.desk.review_words(
                tx,
                signed.viewer.person,
                nomination.id,
                str(form.get("action", "")),
                str(form.get("words", "")),
                str(form.get("status", "")),
                now,
            )
            changed = await self._openable(tx, request, signed)
            page = await pages.nomination_page(tx, self.plan, signed.viewer, changed)
        return self._render(
            "nomination.html",
            status=200 if done else 409,
            signed=signed,
            page=page,
            here="/de-cu",
            said=said,
            done=done,
        )

    async def photo(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        """A nomination's photo, for whoever may open the nomination (the officers, and the
        nominator): how a reviewer on Zalo, which carries no photos, sees them."""
        index = token_number(request.match_info["photo"])
        async with self.storage.reading() as tx:
            nomination = await self._openable(tx, request, signed)
            if index is None or not 1 <= index <= len(nomination.photos):
                raise web.HTTPNotFound()
            stored = await tx.file(nomination.photos[index - 1])
        if stored is None:  # forgotten (it never is while a nomination refers to it)
            raise web.HTTPNotFound()
        data, mime = stored
        shown = mime if mime in ("image/jpeg", "image/png", "image/webp") else "image/jpeg"
        response = web.Response(body=data, content_type=shown)
        response.headers["Cache-Control"] = "private, max-age=3600"
        return response

    async def downloads(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        async with self.storage.reading() as tx:
            found = await pages.downloads(tx, self.plan, signed.viewer, self.clock())
        scope = signed.viewer.scope
        return self._render(
            "downloads.html",
            signed=signed,
            downloads=found,
            here="/tai-ve",
            scope_name=pages.village_name(self.plan, scope) if scope is not None else "",
        )

    def _period(self, request: web.Request) -> Period:
        try:
            return parse_period(request.match_info["period"])
        except ValueError:
            raise web.HTTPNotFound() from None

    def _file_name(self, signed: Signed, period: Period, suffix: str) -> str:
        scope = signed.viewer.scope
        return f"thidua-{period.key}{'-' + scope if scope else ''}.{suffix}"

    async def workbook(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        period = self._period(request)
        async with self.storage.reading() as tx:
            sections, nominations, board = await pages.period_workbook(
                tx, self.plan, signed.viewer, period, self.clock()
            )
        data = await asyncio.to_thread(
            pages.workbook_bytes, self.plan, sections, nominations, board
        )
        return self._file(data, XLSX, self._file_name(signed, period, "xlsx"))

    async def csv(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        period = self._period(request)
        async with self.storage.reading() as tx:
            text = await pages.period_csv(tx, self.plan, signed.viewer, period)
        return self._file(
            text.encode("utf-8"), "text/csv; charset=utf-8", self._file_name(signed, period, "csv")
        )

    @staticmethod
    def _file(data: bytes, content_type: str, name: str) -> web.Response:
        response = web.Response(body=data)
        response.headers["Content-Type"] = content_type
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    # -- the digest's page --------------------------------------------------------------

    def _digest_moment(self, request: web.Request) -> datetime:
        value = request.query.get("luc")
        if value:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                moment = None
            if moment is not None and moment.tzinfo is not None:
                return min(moment, self.clock())
        return self.clock()

    async def _digest_data(
        self, request: web.Request, signed: Signed, text_only: bool = False
    ) -> tuple[datetime, DigestData] | web.Response:
        """The digest ``?luc=`` names (its moment, and what it shows), or the refusal a
        viewer who is not an officer gets."""
        if not signed.viewer.officer:
            return self._message(
                _("Không xem được"),
                _("Bản tổng hợp dành cho thường trực và Chủ tịch Hội đồng Thi đua."),
                403,
                signed,
            )
        at = self._digest_moment(request)
        async with self.storage.reading() as tx:
            return at, await read_digest(self.plan, tx, at, text_only=text_only)

    async def digest(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        found = await self._digest_data(request, signed, text_only=True)
        if isinstance(found, web.Response):
            return found
        at, data = found
        text = await asyncio.to_thread(digest_text, self.plan, data)
        query = "?luc=" + quote(at.isoformat())
        return self._render(
            "digest.html", signed=signed, text=text, at=at, query=query, here="/tong-hop"
        )

    async def digest_chart(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        found = await self._digest_data(request, signed)
        if isinstance(found, web.Response):
            return found
        png = await asyncio.to_thread(digest_chart, self.plan, found[1])
        return web.Response(body=png, content_type="image/png")

    async def digest_workbook(self, request: web.Request, signed: Signed) -> web.StreamResponse:
        found = await self._digest_data(request, signed)
        if isinstance(found, web.Response):
            return found
        at, data = found
        book = await asyncio.to_thread(digest_workbook, self.plan, data)
        name = f"thidua-{at.astimezone(self.plan.tz):%Y-%m-%d}.xlsx"
        return self._file(book, XLSX, name)
