"""The rich-text editor in a real Chromium: it runs under the admin's policy, keeps the
paragraphs, bold and links of pasted text and Word HTML, drops Word's junk, and passes axe."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from explainer.models import Article
from tests.factories import make_article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

# What a paste from another program hands the page: a clipboard event carrying its data.
PASTE = """
(editor, {text, html}) => {
  const data = new DataTransfer();
  data.setData("text/plain", text);
  if (html) data.setData("text/html", html);
  editor.focus();
  editor.dispatchEvent(
    new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true})
  );
}
"""

PLAIN_TEXT = (
    "Sergei Lavrov arrived in Pyongyang on Tuesday.\n\n"
    "He met Ri Yong-ho, the foreign minister.\n\n"
    "The talks lasted two days."
)
WORD_HTML = (
    "<html xmlns:o='urn:schemas-microsoft-com:office:office'><head><style>"
    "p.MsoNormal {mso-style-parent:''; margin:0cm;}</style></head><body lang=EN-GB>"
    "<!--StartFragment--><p class=MsoNormal><span style='mso-bidi-font-family:Calibri;"
    "mso-ansi-language:EN-GB'>Kim Jong-un <b style='mso-bidi-font-weight:normal'>welcomed"
    "</b> the visit, <a href='https://example.com/kcna' style='mso-fareast-font-family:x'>KCNA"
    "</a> said.<o:p></o:p></span></p><!--EndFragment--></body></html>"
)


def log_in(page, live_server, admin_user) -> None:
    # The admin names no favicon; the browser's guess is not this test's business.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill(admin_user.username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def test_editor_pastes_text_and_word_html_and_saves_them_clean(
    page, live_server, admin_user, docs_screenshot
):
    page.add_init_script(CSP_LISTENER)
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server, admin_user)

    page.goto(live_server.url + "/admin/explainer/article/add/")
    editor = page.locator(".prose-editor .ProseMirror[contenteditable='true']")
    expect(editor).to_be_visible()
    page.get_by_label("Headline").fill("Lavrov visits Pyongyang")
    editor.evaluate(PASTE, {"text": PLAIN_TEXT, "html": ""})
    page.keyboard.press("Enter")
    editor.evaluate(
        PASTE, {"text": "Kim Jong-un welcomed the visit, KCNA said.", "html": WORD_HTML}
    )
    expect(editor.locator("p")).to_have_count(4)
    editor.scroll_into_view_if_needed()
    docs_screenshot(page, "editor-pasted")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/explainer/article/")

    body = Article.objects.get().body
    assert body.count("<p>") == 4
    assert "<p>He met Ri Yong-ho, the foreign minister.</p>" in body
    assert "<strong>welcomed</strong>" in body
    assert '<a href="https://example.com/kcna" rel="noopener noreferrer">KCNA</a>' in body
    for junk in ("mso", "class=", "style", "<span", "o:p", "<!--", "StartFragment"):
        assert junk not in body
    # What the editor wrote was already clean: sanitizing it removed nothing.
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    expect(page.locator(".messagelist")).not_to_contain_text("Removed")
    assert page.evaluate("window.__cspViolations") == []
    assert page.console_errors == []


def test_editor_widget_has_no_serious_axe_violations(page, live_server, admin_user):
    page.add_init_script(CSP_LISTENER)
    log_in(page, live_server, admin_user)

    page.goto(live_server.url + "/admin/explainer/article/add/")
    expect(page.get_by_role("textbox", name="Body")).to_be_visible()

    results = Axe().run(page, context=".prose-editor", options={"resultTypes": ["violations"]})
    serious = [
        violation
        for violation in results.response["violations"]
        if violation["impact"] in {"critical", "serious"}
    ]
    assert serious == [], results.generate_report()
    assert page.evaluate("window.__cspViolations") == []
    assert page.console_errors == []


def test_story_with_every_allowlisted_tag_opens_and_saves_unchanged(page, live_server, admin_user):
    body = (
        "<h2>Talks</h2><p><strong>Kim</strong> and <em>Putin</em> met; "
        '<a href="https://example.com/" title="KCNA" rel="noopener noreferrer">KCNA</a> '
        'reported <q>warm</q> words (<cite>Rodong Sinmun</cite>, <abbr title="Korean Central '
        'News Agency">KCNA</abbr>). H<sub>2</sub>O, x<sup>2</sup>.<br>Next line.</p>'
        "<ol><li><p>One</p></li><li><p>Two</p></li></ol><ul><li><p>Item</p></li></ul>"
        "<blockquote><p>A quote.</p></blockquote>"
    )
    article = make_article(published=False, body=body)
    log_in(page, live_server, admin_user)

    page.goto(f"{live_server.url}/admin/explainer/article/{article.pk}/change/")
    expect(page.get_by_role("textbox", name="Body").locator("abbr")).to_have_count(1)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/explainer/article/")

    article.refresh_from_db()
    assert article.body == body
    expect(page.locator(".messagelist")).not_to_contain_text("Removed")
    assert page.console_errors == []
