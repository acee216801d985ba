"""The rich-text editor in the admin (django-prose-editor) for story bodies, note bodies and
entry summaries: its extensions are our sanitizing allowlists (``sanitize.py``), what is
saved is what readers get, and the editor is told what sanitizing removed."""

from __future__ import annotations

from typing import Literal

from django import forms
from django.contrib import messages
from django.templatetags.static import static
from django_prose_editor.widgets import AdminProseEditorWidget
from js_asset import Media

from .sanitize import (
    BODY_TAGS,
    PROTOCOLS,
    SUMMARY_TAGS,
    Cleaned,
    clean_body_html,
    clean_summary_html,
    plain_text_to_html,
    removal_message,
)
from .text import without_control_characters

Kind = Literal["body", "summary"]

# Each allowlisted tag and the editor extension that writes it. <q>, <cite> and <abbr> have
# no toolbar button; our own marks (static/explainer/prose-marks.js) keep them when an
# editor opens a text that holds them, so that saving it does not lose them. Our ordered
# list writes no start or type attribute, which the allowlist would remove on every save.
_EXTENSION_FOR_TAG = {
    "p": "Paragraph",
    "ul": "BulletList",
    "ol": "PlainOrderedList",
    "li": "ListItem",
    "blockquote": "Blockquote",
    "a": "Link",
    "em": "Italic",
    "i": "Italic",
    "strong": "Bold",
    "b": "Bold",
    "br": "HardBreak",
    "sub": "Subscript",
    "sup": "Superscript",
    "q": "Quote",
    "cite": "Cite",
    "abbr": "Abbr",
}
OUR_EXTENSIONS = {"Quote": "q", "Cite": "cite", "Abbr": "abbr", "PlainOrderedList": "ol"}
# Writes no markup: names the editable area by the field's label, for screen readers.
FIELD_LABEL = "FieldLabel"
OUR_MODULE = "explainer/prose-marks.js"


def editor_extensions(tags: frozenset[str]) -> dict[str, object]:
    """The editor's extensions for an allowlist: nothing it can write is then removed."""
    extensions: dict[str, object] = {
        _EXTENSION_FOR_TAG[tag]: True for tag in sorted(tags) if tag in _EXTENSION_FOR_TAG
    }
    extensions[FIELD_LABEL] = True
    levels = sorted(int(tag[1]) for tag in tags if len(tag) == 2 and tag[0] == "h")
    if levels:
        extensions["Heading"] = {"levels": levels}
    if "a" in tags:
        # No "open in a new window" choice: the allowlist keeps no target attribute.
        extensions["Link"] = {"enableTarget": False, "protocols": sorted(PROTOCOLS)}
    return extensions


BODY_EXTENSIONS = editor_extensions(BODY_TAGS)
SUMMARY_EXTENSIONS = editor_extensions(SUMMARY_TAGS)


class RichTextWidget(AdminProseEditorWidget):
    """The prose editor, with the extensions of one allowlist, some of them ours."""

    def __init__(self, *, kind: Kind, attrs=None) -> None:
        extensions = BODY_EXTENSIONS if kind == "body" else SUMMARY_EXTENSIONS
        super().__init__(attrs=attrs, config={"extensions": extensions}, preset="configurable")

    def get_config(self):
        config = super().get_config()
        return config | {"js_modules": [*config["js_modules"], static(OUR_MODULE)]}

    def format_value(self, value):
        # Text saved before the editor, with no markup: its paragraphs, as the editor shows
        # pasted text, rather than one run-on paragraph.
        return plain_text_to_html(super().format_value(value) or "")


class RichTextField(forms.CharField):
    """HTML from the editor, or plain text pasted or posted without it (a blank line
    separates paragraphs). Sanitizing happens on save (``RichTextAdminMixin``)."""

    def __init__(self, *, kind: Kind, **kwargs) -> None:
        kwargs.pop("widget", None)
        super().__init__(widget=RichTextWidget(kind=kind), **kwargs)

    def to_python(self, value):
        value = plain_text_to_html(super().to_python(value))
        # The editor sends "<p></p>" for an empty text: that is no text.
        return "" if value in ("<p></p>", "<p><br></p>") else value


def clean_rich_text(html: str, *, kind: Kind) -> Cleaned:
    return clean_body_html(html) if kind == "body" else clean_summary_html(html)


class RichTextAdminMixin:
    """For a ModelAdmin: ``rich_text_fields`` (field name to "body" or "summary") get the
    editor, and are saved sanitized, with a warning naming whatever sanitizing removed."""

    rich_text_fields: dict[str, Kind] = {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        kind = self.rich_text_fields.get(db_field.name)
        if kind is None:
            return super().formfield_for_dbfield(db_field, request, **kwargs)
        return db_field.formfield(form_class=RichTextField, kind=kind)

    def save_model(self, request, obj, form, change):
        for name, kind in self.rich_text_fields.items():
            # Control characters go first, as on every save (models.strip_control_characters):
            # the sanitizer would show each one as "?".
            text = without_control_characters(getattr(obj, name), multiline=True)
            cleaned = clean_rich_text(text, kind=kind)
            setattr(obj, name, cleaned.html)
            if cleaned.removed:
                field = str(obj._meta.get_field(name).verbose_name)
                messages.warning(request, removal_message(field=field, removed=cleaned.removed))
        super().save_model(request, obj, form, change)

    def render_change_form(self, request, context, *args, **kwargs):
        media = context.get("media")
        if isinstance(media, Media):
            # The editor's import map is an inline script: the admin's policy lets it run
            # by this request's nonce (settings.ADMIN_CONTENT_SECURITY_POLICY).
            context["media"] = Media.from_media(media, nonce=request.csp_nonce)
        return super().render_change_form(request, context, *args, **kwargs)
