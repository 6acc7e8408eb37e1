"""The demo news site of `make run` (demo/site.py): its pages carry Tribune's tags with the seed's
article ids, its fake login signs SSO tokens Tribune can verify, and the Makefile starts it
beside Tribune the way the README says."""

from __future__ import annotations

import re
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import jwt
import pytest
from flask.testing import FlaskClient

from demo.seed import DEFOUR_ID, read_headlines, slugify
from demo.site import FRESH_ID, SSO_ISSUER, SiteSettings, create_site, sign_sso_token

ROOT = Path(__file__).resolve().parent.parent
SECRET = "demo-site-test-secret-of-32-bytes!!"
TRIBUNE = "http://127.0.0.1:5999"


class Tags(HTMLParser):
    """Every start tag with its attributes, in page order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def with_attr(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for _, attrs in self.tags if name in attrs]

    def script_srcs(self) -> list[str]:
        return [str(a["src"]) for tag, a in self.tags if tag == "script" and a.get("src")]


@pytest.fixture()
def site() -> FlaskClient:
    app = create_site(SiteSettings(tribune_url=TRIBUNE, sso_secret=SECRET, poll_id=7))
    return app.test_client()


def log_in(site: FlaskClient, name: str, next_path: str = "/") -> None:
    answer = site.post("/aanmelden", data={"naam": name, "next": next_path})
    assert answer.status_code == 303
    assert answer.location == next_path


def test_meest_recent_lists_the_seed_headlines_with_their_tallies(site: FlaskClient) -> None:
    page = site.get("/")

    assert page.status_code == 200
    tags = Tags(page.get_data(as_text=True))
    tallied = [a["data-tribune-tally"] for a in tags.with_attr("data-tribune-tally")]
    seeded = [slugify(row["headline"]) for row in read_headlines()]
    assert len(seeded) == 25
    assert tallied == [DEFOUR_ID, FRESH_ID, *seeded]
    assert f"{TRIBUNE}/static/counts.js" in tags.script_srcs()
    links = {a["href"] for tag, a in tags.tags if tag == "a"}
    assert {f"/artikel/{article_id}" for article_id in tallied} <= links


def test_the_defour_article_embeds_the_poll_and_the_comments(site: FlaskClient) -> None:
    page = site.get(f"/artikel/{DEFOUR_ID}")

    assert page.status_code == 200
    tags = Tags(page.get_data(as_text=True))
    assert [a["data-tribune-poll"] for a in tags.with_attr("data-tribune-poll")] == ["7"]
    (comments,) = tags.with_attr("data-tribune-comments")
    assert comments["data-tribune-comments"] == DEFOUR_ID
    assert comments["data-title"] == "Defour volgend jaar nog bij KV Mechelen? Coach reageert"
    assert comments["data-url"] == f"http://localhost/artikel/{DEFOUR_ID}"
    assert "data-tribune-sso" not in comments  # nobody logged in on the site
    scripts = tags.script_srcs()
    for name in ("embed.js", "comments.js", "counts.js"):
        assert f"{TRIBUNE}/static/{name}" in scripts
    assert "Aanmelden als supporter" in page.get_data(as_text=True)


def test_a_headline_page_embeds_its_own_thread_without_a_poll(site: FlaskClient) -> None:
    headline = read_headlines()[3]["headline"]

    page = site.get(f"/artikel/{slugify(headline)}")

    tags = Tags(page.get_data(as_text=True))
    assert [a["data-tribune-comments"] for a in tags.with_attr("data-tribune-comments")] == [
        slugify(headline)
    ]
    assert tags.with_attr("data-tribune-poll") == []
    assert f"{TRIBUNE}/static/embed.js" not in tags.script_srcs()


def test_an_article_of_the_site_only_asks_tribune_to_create_it(site: FlaskClient) -> None:
    # Not in Tribune's seed: the embed's data-title and data-url let Tribune create it.
    assert FRESH_ID not in {slugify(row["headline"]) for row in read_headlines()} | {DEFOUR_ID}

    page = site.get(f"/artikel/{FRESH_ID}", base_url="http://localhost:5001")

    (comments,) = Tags(page.get_data(as_text=True)).with_attr("data-tribune-comments")
    assert comments["data-tribune-comments"] == FRESH_ID
    assert comments["data-title"] == "Bekerfinale: met de trein naar het stadion"
    assert comments["data-url"] == f"http://localhost:5001/artikel/{FRESH_ID}"


def test_an_unknown_article_is_a_dutch_404(site: FlaskClient) -> None:
    page = site.get("/artikel/bestaat-niet")

    assert page.status_code == 404
    assert "Dit artikel bestaat niet" in page.get_data(as_text=True)


def test_a_logged_in_supporter_gets_a_token_tribune_can_verify(site: FlaskClient) -> None:
    log_in(site, "  Jan   Peeters ", f"/artikel/{DEFOUR_ID}")
    before = int(time.time())

    page = site.get(f"/artikel/{DEFOUR_ID}")

    html = page.get_data(as_text=True)
    (comments,) = Tags(html).with_attr("data-tribune-comments")
    token = str(comments["data-tribune-sso"])
    # Verified as Tribune does: the shared secret, HS256 only, the issuer checked.
    claims = jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        issuer="demo-site",
        options={"require": ["sub", "name", "iat", "exp", "iss"]},
    )
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert claims["sub"] == "supporter-jan-peeters"
    assert claims["name"] == "Jan Peeters"
    assert claims["email"] == "supporter-jan-peeters@supporters.voetbalblad.test"
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == 600
    assert "Aangemeld als <strong>Jan Peeters</strong>" in html
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, SECRET + "x", algorithms=["HS256"])


def test_the_same_name_is_the_same_supporter(site: FlaskClient) -> None:
    first = sign_sso_token(SECRET, SSO_ISSUER, "supporter-jan", "Jan", None, now=1_000)
    log_in(site, "JAN")
    page = site.get(f"/artikel/{DEFOUR_ID}").get_data(as_text=True)
    (comments,) = Tags(page).with_attr("data-tribune-comments")
    later = jwt.decode(str(comments["data-tribune-sso"]), SECRET, algorithms=["HS256"])

    assert (
        jwt.decode(first, SECRET, algorithms=["HS256"], options={"verify_exp": False})["sub"]
        == later["sub"]
    )
    assert later["name"] == "JAN"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Kies een naam van 2 tot 40 tekens."),
        ("x" * 41, "Kies een naam van 2 tot 40 tekens."),
        ("!!", "Gebruik minstens één letter of cijfer in je naam."),
    ],
)
def test_a_bad_name_is_refused_beside_the_field_and_kept(
    site: FlaskClient, name: str, message: str
) -> None:
    answer = site.post("/aanmelden", data={"naam": name, "next": "/"})

    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert message in html
    (field,) = [a for tag, a in Tags(html).tags if tag == "input" and a.get("name") == "naam"]
    assert field["value"] == name and field["aria-invalid"] == "true"
    page = site.get(f"/artikel/{DEFOUR_ID}").get_data(as_text=True)
    assert "data-tribune-sso" not in page


def test_afmelden_ends_the_site_session_and_the_token(site: FlaskClient) -> None:
    log_in(site, "Lies")

    answer = site.post("/afmelden", data={"next": f"/artikel/{DEFOUR_ID}"})

    assert answer.status_code == 303 and answer.location == f"/artikel/{DEFOUR_ID}"
    page = site.get(f"/artikel/{DEFOUR_ID}").get_data(as_text=True)
    assert "data-tribune-sso" not in page
    assert 'id="afmelden"' not in page


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil"])
def test_login_never_sends_the_reader_to_another_site(site: FlaskClient, target: str) -> None:
    answer = site.post("/aanmelden", data={"naam": "Jef", "next": target})

    assert answer.status_code == 303 and answer.location == "/"


def test_the_site_refuses_to_start_without_a_secret() -> None:
    with pytest.raises(RuntimeError, match="DEMO_SITE_SSO_SECRET"):
        create_site(SiteSettings(sso_secret=""))


# ---------------------------------------------------------------- make run


def serve_commands() -> str:
    # make is how the suite itself is run (`make test`), so it is there.
    # -n prints the recipe without running anything (no install, no server).
    return subprocess.run(
        ["make", "-n", "serve"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def test_make_run_serves_the_demo_site_beside_tribune_as_the_readme_says() -> None:
    commands = serve_commands()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    opening = readme[: readme.index("## Design and architecture")]

    site = re.search(
        r"flask --app 'demo\.site:create_site\(\)' run --host (\S+) --port (\d+)", commands
    )
    tribune = re.search(r"flask --app app run --host (\S+) --port (\d+)", commands)
    assert site and tribune
    assert (tribune[1], tribune[2]) == ("127.0.0.1", "5000")
    assert site[2] == "5001"
    assert "http://127.0.0.1:5000" in opening and "http://localhost:5001" in opening
    # Every setting the Tribune command gets is named in the opening, with its value.
    tribune_line = commands[commands.index("EMBED_ALLOWED_ORIGINS=") :]
    settings = dict(re.findall(r"\b((?:TRIBUNE|EMBED)_[A-Z_]+)=('[^']*'|\S+)", tribune_line))
    assert set(settings) == {
        "EMBED_ALLOWED_ORIGINS",
        "TRIBUNE_PUBLIC_URL",
        "TRIBUNE_SSO_SECRET",
        "TRIBUNE_SSO_ISSUER",
        "TRIBUNE_EMBED_CREATES_ARTICLES",
    }
    for name, value in settings.items():
        if name == "TRIBUNE_PUBLIC_URL":
            continue  # the README tells where Tribune serves (above)
        shown = name if value.startswith("$") else f"{name}={value}"
        assert f"`{shown}" in opening, shown
    # Tribune believes the tokens the site signs: one secret, the site's issuer.
    assert re.search(r"DEMO_SITE_SSO_SECRET=\$secret\b", commands)
    assert re.search(r"TRIBUNE_SSO_SECRET=\$secret\b", commands)
    assert f"TRIBUNE_SSO_ISSUER={SSO_ISSUER} " in commands
    assert "TRIBUNE_EMBED_CREATES_ARTICLES=true" in commands
    origins = re.search(r"EMBED_ALLOWED_ORIGINS='([^']*)'", commands)
    assert origins and "http://localhost:5001" in origins[1].split()
    assert "DEMO_SITE_TRIBUNE_URL=http://127.0.0.1:5000 " in commands
    # The site runs in the background of the same shell: a trap stops it with Tribune.
    assert re.search(r"& site=\$!; \\\ntrap 'kill \$site[^']*' EXIT INT TERM", commands)


def test_every_article_id_of_the_site_is_one_tribune_accepts() -> None:
    from articles.services import validate_article_id
    from demo.site import load_stories

    for story_id in load_stories():
        validate_article_id(story_id)  # raises a DomainError for an id Tribune refuses


def test_the_readme_signer_fits_ten_lines_and_makes_a_token_tribune_verifies() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Reacties op je eigen site") :]
    section = section[: section.index("\n## ", 1)]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    html = re.search(r"```html\n(.*?)```", section, re.S)
    assert code and html
    assert len(code[1].strip().splitlines()) <= 10
    assert "data-tribune-comments=" in html[1] and "/static/comments.js" in html[1]

    namespace: dict[str, object] = {}
    exec(compile(code[1], "README signer", "exec"), namespace)
    user = type("User", (), {"id": 42, "display_name": "Jan", "email": "jan@example.be"})()
    token = namespace["tribune_sso_token"](user, SECRET)  # type: ignore[operator]

    claims = jwt.decode(
        token, SECRET, algorithms=["HS256"], options={"require": ["sub", "name", "exp", "iat"]}
    )
    assert claims["sub"] == "42" and claims["name"] == "Jan"
    assert 0 < claims["exp"] - claims["iat"] <= 3600
