from django import template

from kepu.registry.identity import mask_name as _mask_name

register = template.Library()


@register.filter
def mask_name(value: str) -> str:
    """A volunteer's name as people outside the team's office see it."""
    return _mask_name(str(value or ""))
