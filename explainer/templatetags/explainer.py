import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ..dates import format_partial_date

register = template.Library()


@register.filter
def partial_date(value: str) -> str:
    """ "2003-08" as "August 2003"."""
    return format_partial_date(value)


# As in django.utils.html.json_script: nothing in the data can close the script element.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def json_ld(data: dict):
    """Structured data as a JSON-LD script element. A data block, not a script: browsers do
    not run it, so the strict CSP allows it."""
    payload = json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(payload))
