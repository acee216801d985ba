"""Keep stories linked when the context library changes: a new alias lights up existing
stories, a renamed or deleted entry stops being linked."""

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from .models import Actor, Alias, BackgroundNote, Mention
from .services import (
    articles_containing,
    articles_mentioning,
    deferred_relinking,
    request_relink,
)


@receiver(post_save, sender=Alias)
def relink_after_alias_saved(sender, instance: Alias, **kwargs):
    entry = instance.entry
    request_relink(articles_containing(instance.normalized) | articles_mentioning(entry))


@receiver(post_delete, sender=Alias)
def relink_after_alias_deleted(sender, instance: Alias, origin=None, **kwargs):
    # When the entry itself is being deleted, its own handler relinks once it is gone.
    origin_model = origin.model if isinstance(origin, QuerySet) else type(origin)
    if origin_model in (Actor, BackgroundNote):
        return
    entry = instance.entry
    if entry is not None:
        request_relink(articles_mentioning(entry))


@receiver(post_save, sender=Actor)
@receiver(post_save, sender=BackgroundNote)
def relink_after_entry_saved(sender, instance, created: bool, **kwargs):
    if not created:
        request_relink(articles_mentioning(instance))


@receiver(pre_delete, sender=Actor)
@receiver(pre_delete, sender=BackgroundNote)
def unlink_entry_before_delete(sender, instance, **kwargs):
    # The entry's aliases and mentions point at it through nullable keys, so Django may
    # delete the entry before them; unlink the stories first, while everything is whole.
    with deferred_relinking():
        request_relink(articles_mentioning(instance))
        Mention.objects.filter(**{instance.entry_field: instance}).delete()
        Alias.objects.filter(**{instance.entry_field: instance}).delete()
