"""Every page in Chinese (Accept-Language: zh-CN) shows none of nbaudit's English UI words."""
from __future__ import annotations

import pytest

from tests.i18n.pages import (
    ANONYMOUS_PAGES,
    CUSTOMER_PAGES,
    STAFF_PAGES,
    english_words,
    visible_text,
    world,
)

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9,en;q=0.5"}


@pytest.fixture
def pages_world(db):
    return world()


def _check(client, pages, w) -> dict:
    found = {}
    for name, url, *status in pages:
        resp = client.get(url(w), **ZH)
        assert resp.status_code == (status[0] if status else 200), (name, resp.status_code)
        html = resp.content.decode()
        assert '<html lang="zh-Hans">' in html, name
        words = english_words(html, w["data"])
        if words:
            found[name] = words
    return found


def test_a_customers_pages_in_chinese(client, pages_world):
    client.force_login(pages_world["alice"])
    assert _check(client, CUSTOMER_PAGES, pages_world) == {}


def test_staff_pages_in_chinese(client, pages_world):
    client.force_login(pages_world["boss"])
    assert _check(client, STAFF_PAGES, pages_world) == {}


def test_the_login_page_in_chinese(client, pages_world):
    assert _check(client, ANONYMOUS_PAGES, pages_world) == {}


def test_english_is_the_default_and_the_word_list_finds_it(client, pages_world):
    """Without Accept-Language the pages are English; the same check then finds the words."""
    client.force_login(pages_world["alice"])
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert {"Overview", "Logs", "Async Tasks"} <= set(english_words(html))


def test_the_users_language_wins_over_the_browser(client, pages_world):
    alice = pages_world["alice"]
    client.force_login(alice)
    resp = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/logs/"}, HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 302 and resp["Location"] == "/logs/"
    alice.refresh_from_db()
    assert alice.language == "zh-hans"
    client.cookies.clear()  # another browser, English first: the user's own choice still holds
    client.force_login(alice)
    page = client.get("/logs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "调用日志" in visible_text(page) and not english_words(page, pages_world["data"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    alice.refresh_from_db()
    assert alice.language == "en"
    assert "Overview" in visible_text(client.get("/", **ZH).content.decode())


def test_the_switch_works_logged_out_and_sets_the_cookie(client, pages_world):
    resp = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert resp.status_code == 302 and resp.cookies["django_language"].value == "zh-hans"
    page = client.get("/accounts/login/").content.decode()
    assert "登录 nbaudit" in page and "中文" in page and "English" in page
