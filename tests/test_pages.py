"""Public pages on the demo data: Meest recent and the Defour article with its poll and thread."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from demo.seed import DEFOUR_ID, read_headline_polls, read_headlines
from models import Article, Comment

DEFOUR_TITLE = "Defour volgend jaar nog bij KV Mechelen? Coach reageert"
VOID_TAGS = {"br", "hr", "img", "input", "link", "meta", "source", "wbr", "area", "col"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all_text(self) -> str:
        return "".join(self.text) + "".join(child.all_text() for child in self.children)

    def walk(self):  # type: ignore[no-untyped-def]
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, tag: str, cls: str | None = None) -> list[Element]:
        return [el for el in self.walk() if el.tag == tag and (cls is None or cls in el.classes)]

    def ancestors(self) -> list[Element]:
        found, node = [], self.parent
        while node is not None:
            found.append(node)
            node = node.parent
        return found


class TreeBuilder(HTMLParser):
    """Just enough of a DOM to ask what is nested in what."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID_TAGS:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.text.append(data)


def parse(html: str) -> Element:
    builder = TreeBuilder()
    builder.feed(html)
    return builder.root


def seed_tallies() -> list[str]:
    """The tally of each seeded headline: the seed page's comment count, and the demo votes
    of the headlines with a poll."""
    votes = {poll.position: sum(poll.ballots) for poll in read_headline_polls()}
    return [
        f"{row['comments_shown']} reacties"
        + (f" · {votes[position]} stemmen" if position in votes else "")
        for position, row in enumerate(read_headlines(), start=1)
    ]


@pytest.fixture
def seeded(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["tribune", "seed-demo"])
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("seeded")
def test_meest_recent_lists_every_seed_headline(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    headlines = read_headlines()
    assert len(headlines) == 25
    for row in headlines:
        assert str(escape(row["headline"].strip())) in page, row["headline"]
    titles = [el.all_text().strip() for el in parse(page).find_all("a", "headline-title")]
    assert titles == [row["headline"].strip() for row in headlines]


@pytest.mark.usefixtures("seeded")
def test_meest_recent_shows_tallies(client: FlaskClient) -> None:
    tree = parse(client.get("/").get_data(as_text=True))

    tallies = [el.all_text().strip() for el in tree.find_all("span", "tally-comments")]
    discussed = tree.find_all("section", "discussed")

    # Each headline with the count its seed page shows (demo/data/meest-recent.tsv).
    assert tallies == seed_tallies()
    assert len(discussed) == 1
    discussed_text = " ".join(discussed[0].all_text().split())
    most = sorted(read_headlines(), key=lambda row: -int(row["comments_shown"]))[:3]
    for row in most:
        assert f"{row['headline'].strip()}· {row['comments_shown']} reacties" in discussed_text


def test_meest_recent_counts_comments_in_dutch(
    client: FlaskClient, runner: FlaskCliRunner, db: Session
) -> None:
    runner.invoke(args=["tribune", "seed-demo"])
    newest = db.scalars(select(Article).order_by(Article.published_at.desc())).first()
    assert newest is not None
    newest.comment_count = 1
    db.commit()

    tallies = [
        el.all_text().strip()
        for el in parse(client.get("/").get_data(as_text=True)).find_all("span", "tally-comments")
    ]

    assert tallies[0] == seed_tallies()[0].replace("155 reacties", "1 reactie")
    assert tallies[1:] == seed_tallies()[1:]


def test_meest_recent_without_articles(client: FlaskClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "Nog geen artikels." in response.get_data(as_text=True)


@pytest.mark.usefixtures("seeded")
def test_article_page_shows_title_poll_and_nested_comments(
    client: FlaskClient, db: Session
) -> None:
    response = client.get(f"/artikels/{DEFOUR_ID}")

    assert response.status_code == 200
    tree = parse(response.get_data(as_text=True))
    assert tree.find_all("h1")[-1].all_text().strip() == DEFOUR_TITLE
    poll = tree.find_all("section", "poll")
    assert len(poll) == 1
    poll_text = " ".join(poll[0].all_text().split())
    position = poll_text.index("Moet KVM verder doen met Defour?")
    for label in ("Ja", "Nee", "Weet niet"):  # the options, in their order
        position = poll_text.index(label, position + 1)
    assert "88 stemmen" in poll_text

    comments = {el.attrs["id"]: el for el in tree.find_all("li", "comment") if el.attrs.get("id")}
    defour = db.scalars(select(Article).where(Article.cms_id == DEFOUR_ID)).one()
    rows = db.scalars(
        select(Comment).where(Comment.article_id == defour.id).order_by(Comment.id)
    ).all()
    assert len(comments) == len(rows) == 8
    replies = [row for row in rows if row.parent_id is not None]
    assert replies
    for reply in replies:
        element = comments[f"reactie-{reply.id}"]
        parent_li, reply_list = element.parent.parent, element.parent  # type: ignore[union-attr]
        assert reply_list.tag == "ol" and "replies" in reply_list.classes
        assert parent_li.attrs["id"] == f"reactie-{reply.parent_id}"  # type: ignore[union-attr]
        assert " ".join(reply.body.split()) in " ".join(element.all_text().split())
    top_level = [row for row in rows if row.parent_id is None]
    for row in top_level:
        ancestors = comments[f"reactie-{row.id}"].ancestors()
        assert not any("replies" in el.classes for el in ancestors)
        assert any(el.tag == "ol" and "thread" in el.classes for el in ancestors)


@pytest.mark.usefixtures("seeded")
def test_article_page_counts_the_comments(client: FlaskClient) -> None:
    tree = parse(client.get(f"/artikels/{DEFOUR_ID}").get_data(as_text=True))

    heading = [el for el in tree.find_all("h2") if el.attrs.get("id") == "reacties"]

    assert heading[0].all_text().strip() == "8 reacties"


@pytest.mark.usefixtures("seeded")
def test_article_page_orders_threads_both_ways(client: FlaskClient, db: Session) -> None:
    defour = db.scalars(select(Article).where(Article.cms_id == DEFOUR_ID)).one()
    roots = db.scalars(
        select(Comment)
        .where(Comment.article_id == defour.id, Comment.parent_id.is_(None))
        .order_by(Comment.created_at)
    ).all()
    oldest_first = [f"reactie-{row.id}" for row in roots]

    def thread_order(query: str) -> list[str]:
        tree = parse(client.get(f"/artikels/{DEFOUR_ID}{query}").get_data(as_text=True))
        thread = tree.find_all("ol", "thread")[0]
        return [child.attrs["id"] for child in thread.children if child.tag == "li"]

    assert thread_order("?volgorde=oudste") == oldest_first
    assert thread_order("") == oldest_first[::-1]


@pytest.mark.parametrize("article_id", ["bestaat-niet", "met.punt", "x" * 65])
@pytest.mark.usefixtures("seeded")
def test_unknown_or_invalid_article_is_a_dutch_404(client: FlaskClient, article_id: str) -> None:
    response = client.get(f"/artikels/{article_id}")

    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Niet gevonden" in page
    assert "Dit artikel bestaat niet." in page


def test_comment_bodies_are_escaped(
    client: FlaskClient, runner: FlaskCliRunner, db: Session
) -> None:
    runner.invoke(args=["tribune", "seed-demo"])
    comment = db.scalars(select(Comment).order_by(Comment.id)).first()
    assert comment is not None
    comment.body = '<script>alert("x")</script> zie https://kvmechelen.be'
    db.commit()

    page = client.get(f"/artikels/{DEFOUR_ID}").get_data(as_text=True)

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert 'href="https://kvmechelen.be" rel="nofollow ugc noopener"' in page


# ---------------------------------------------------------------- skip link, focus, favicon

FOCUSABLE = {"a", "button", "input", "select", "textarea", "summary"}


@pytest.mark.parametrize("path", ["/", "/login", "/registreren"])
def test_skip_link_is_the_first_focusable_element_and_targets_main(
    client: FlaskClient, path: str
) -> None:
    root = parse(client.get(path).get_data(as_text=True))
    body = root.find_all("body")[0]
    focusable = [
        el
        for el in body.walk()
        if el.tag in FOCUSABLE
        and el.attrs.get("type") != "hidden"
        and el.attrs.get("tabindex") != "-1"
    ]

    skip = focusable[0]
    assert skip.tag == "a" and skip.all_text().strip() == "Naar de inhoud"
    target = skip.attrs["href"].removeprefix("#")
    assert [el.tag for el in root.walk() if el.attrs.get("id") == target] == ["main"]


def test_favicon_is_served_and_linked(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).lstrip().startswith("<svg")
    icons = [
        el
        for el in parse(client.get("/login").get_data(as_text=True)).walk()
        if el.tag == "link" and el.attrs.get("rel") == "icon"
    ]
    assert len(icons) == 1
    linked = client.get(icons[0].attrs["href"])  # same origin: the CSP allows it
    assert linked.status_code == 200 and linked.mimetype == "image/svg+xml"


@pytest.mark.parametrize(
    "selector",
    [
        "a:focus-visible",
        "button:focus-visible",
        "summary:focus-visible",
        "input:focus-visible",
        "input[type=checkbox]:focus-visible",
        "input[type=radio]:focus-visible",
        "select:focus-visible",
        "textarea:focus-visible",
    ],
)
def test_every_control_has_a_strong_focus_ring(client: FlaskClient, selector: str) -> None:
    css = re.sub(
        r"/\*.*?\*/", "", client.get("/static/css/tribune.css").get_data(as_text=True), flags=re.S
    )
    rules = [
        body
        for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css)
        if selector in [part.strip() for part in selectors.split(",")]
    ]

    assert rules, f"no :focus-visible rule for {selector}"
    assert any("outline: 3px solid #0b3d91" in body for body in rules)
