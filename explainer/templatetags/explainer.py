from django import template

from ..dates import format_partial_date

register = template.Library()


@register.filter
def partial_date(value: str) -> str:
    """ "2003-08" as "August 2003"."""
    return format_partial_date(value)
