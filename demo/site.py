"""The demo news site of `make run`: a Flemish football site on another origin than Tribune.

It embeds Tribune as any publisher would: counts.js beside its headlines, the poll embed and the
comments embed under its article, and a fake login ("Aanmelden als supporter") whose backend
signs the single sign-on token the comments embed hands to Tribune. It shares no code path with
Tribune at runtime, only the seed's data files (so its article ids are the seeded ones).

Run: flask --app 'demo.site:create_site()' run --port 5001 (`make run` does it). Settings come
from the environment: DEMO_SITE_TRIBUNE_URL, DEMO_SITE_SSO_SECRET (Tribune's TRIBUNE_SSO_SECRET),
DEMO_SITE_POLL_ID (the seeded Defour poll: 1 on a fresh database).
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import jwt
from flask import Flask, Response, abort, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from demo.seed import DEFOUR_ID, read_defour, read_headlines, slugify

SSO_ISSUER = "demo-site"
SSO_LIFETIME = 600  # seconds: the embed exchanges the token at once, so it can be short
NAME_MAX = 40
SITE_NAME = "Voetbalblad"
# An article of the site only, not in Tribune's seed: its first view through the comments embed
# creates it in Tribune (TRIBUNE_EMBED_CREATES_ARTICLES, on under `make run`).
FRESH_ID = "bekerfinale-met-de-trein-naar-het-stadion"
FRESH_TITLE = "Bekerfinale: met de trein naar het stadion"
FRESH_BODY = [
    "Wie zondag naar de bekerfinale gaat, laat de auto beter thuis. De NMBS zet extra treinen "
    "in en de stad raadt aan om het openbaar vervoer te nemen.",
    "De eerste extra trein vertrekt drie uur voor de aftrap, de laatste rijdt een uur na het "
    "laatste fluitsignaal terug. Supporters tonen hun ticket aan de ingang van het station.",
]


@dataclass(frozen=True)
class SiteSettings:
    tribune_url: str = "http://127.0.0.1:5000"
    sso_secret: str = ""
    sso_issuer: str = SSO_ISSUER
    poll_id: int = 1
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))

    @classmethod
    def from_env(cls) -> SiteSettings:
        """The settings `make run` passes (DEMO_SITE_*), defaults for the rest."""
        env = os.environ
        return cls(
            tribune_url=env.get("DEMO_SITE_TRIBUNE_URL", cls.tribune_url).rstrip("/"),
            sso_secret=env.get("DEMO_SITE_SSO_SECRET", ""),
            poll_id=int(env.get("DEMO_SITE_POLL_ID", cls.poll_id)),
        )


@dataclass(frozen=True)
class Story:
    id: str
    title: str
    teaser: str
    body: list[str]


def sign_sso_token(
    secret: str, issuer: str, user_id: str, name: str, email: str | None, now: float | None = None
) -> str:
    """The site backend's half of single sign-on: an HS256 JWT for its logged-in reader."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {
        "sub": user_id,
        "name": name,
        "iat": issued,
        "exp": issued + SSO_LIFETIME,
        "iss": issuer,
    }
    if email:
        claims["email"] = email
    return jwt.encode(claims, secret, algorithm="HS256")


def load_stories() -> dict[str, Story]:
    """The Defour article, the 25 Meest recent headlines (by the seed's article ids) and one
    article Tribune does not know yet."""
    title, body = read_defour()
    paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
    stories = {DEFOUR_ID: Story(DEFOUR_ID, title, paragraphs[0], paragraphs)}
    for row in read_headlines():
        story_id = slugify(row["headline"])
        teaser = row["teaser"].strip()
        stories[story_id] = Story(story_id, row["headline"].strip(), teaser, [teaser])
    stories[FRESH_ID] = Story(FRESH_ID, FRESH_TITLE, FRESH_BODY[0], FRESH_BODY)
    return stories


def supporter_id(name: str) -> str:
    """The fake account behind a name: the same name is the same supporter next time."""
    return "supporter-" + slugify(name, max_length=48)


def safe_next(target: str | None) -> str:
    """A local path to return to, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("index")
    parts = urlsplit(target)
    return url_for("index") if parts.scheme or parts.netloc else target


def create_site(settings: SiteSettings | None = None) -> Flask:
    """The demo site's app; `settings` for tests, else the environment."""
    settings = settings or SiteSettings.from_env()
    if not settings.sso_secret:
        raise RuntimeError("DEMO_SITE_SSO_SECRET is not set (make run sets it)")
    app = Flask(__name__, template_folder="site_templates", static_folder="site_static")
    app.secret_key = settings.secret_key
    app.config.update(SESSION_COOKIE_NAME="voetbalblad", SESSION_COOKIE_SAMESITE="Lax")
    app.extensions["demo_site"] = settings
    stories = load_stories()
    headlines = [s for s in stories.values() if s.id not in (DEFOUR_ID, FRESH_ID)]

    @app.after_request
    def host_policy(response: Response) -> Response:
        # The CSP a publisher needs for Tribune's embeds (README "Reacties op je eigen site"):
        # Tribune's origin for scripts (embed.js, counts.js, comments.js), for fetches (the
        # tallies, the comments thread and its CSS, adopted into the shadow root: no
        # style-src for Tribune) and for the poll's frame. Nothing inline.
        tribune = settings.tribune_url.rstrip("/")
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self' {tribune}; connect-src 'self' {tribune}; "
            f"frame-src {tribune}; style-src 'self'; img-src 'self' data:; object-src 'none'; "
            "base-uri 'none'"
        )
        return response

    @app.context_processor
    def site_globals() -> dict[str, object]:
        return {"tribune": settings.tribune_url, "supporter": session.get("supporter")}

    @app.get("/")
    def index() -> ResponseReturnValue:
        return render_template(
            "index.html",
            featured=stories[DEFOUR_ID],
            fresh=stories[FRESH_ID],
            headlines=headlines,
            site=SITE_NAME,
        )

    @app.get("/artikel/<story_id>")
    def article(story_id: str) -> ResponseReturnValue:
        story = stories.get(story_id)
        if story is None:
            abort(404)
        token = None
        reader = session.get("supporter")
        if reader:
            # Signed per page view: the token lives 10 minutes, the embed's session after it.
            token = sign_sso_token(
                settings.sso_secret,
                settings.sso_issuer,
                reader["id"],
                reader["name"],
                reader["email"],
            )
        return render_template(
            "article.html",
            story=story,
            poll_id=settings.poll_id if story.id == DEFOUR_ID else None,
            sso_token=token,
            page_url=url_for("article", story_id=story.id, _external=True),
            site=SITE_NAME,
        )

    @app.route("/aanmelden", methods=["GET", "POST"])
    def login() -> ResponseReturnValue:
        target = safe_next(request.values.get("next"))
        name = re.sub(r"\s+", " ", request.form.get("naam", "")).strip()
        error = None
        if request.method == "POST":
            if len(name) < 2 or len(name) > NAME_MAX:
                error = f"Kies een naam van 2 tot {NAME_MAX} tekens."
            elif not re.search(r"[0-9A-Za-zÀ-ÿ]", name):
                error = "Gebruik minstens één letter of cijfer in je naam."
            else:
                key = supporter_id(name)
                session["supporter"] = {
                    "id": key,
                    "name": name,
                    "email": f"{key}@supporters.voetbalblad.test",
                }
                return redirect(target, 303)
        status = 422 if error else 200
        return render_template(
            "login.html", name=name, error=error, next=target, name_max=NAME_MAX, site=SITE_NAME
        ), status

    @app.post("/afmelden")
    def logout() -> ResponseReturnValue:
        session.pop("supporter", None)
        return redirect(safe_next(request.form.get("next")), 303)

    @app.errorhandler(404)
    def not_found(error: Exception) -> ResponseReturnValue:
        return render_template("404.html", site=SITE_NAME), 404

    return app
