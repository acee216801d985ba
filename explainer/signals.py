"""Keep stories linked when the context library changes: a new alias lights up existing
stories, a renamed or deleted entry stops being linked."""

from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone

from .models import (
    Actor,
    Alias,
    Article,
    BackgroundNote,
    Figure,
    Mention,
    NoteUpdate,
    Role,
    Source,
)
from .services import (
    articles_containing,
    articles_mentioning,
    deferred_relinking,
    entries_related_to,
    entry_refresh_context,
    request_relink,
)


@receiver(post_save, sender=Alias)
def relink_after_alias_saved(sender, instance: Alias, **kwargs):
    entry = instance.entry
    request_relink(articles_containing(instance.normalized) | articles_mentioning(entry))


@receiver(post_delete, sender=Alias)
def relink_after_alias_deleted(sender, instance: Alias, origin=None, **kwargs):
    # When the entry itself is being deleted, its own handler relinks once it is gone.
    if deleted_with_an_entry(origin):
        return
    entry = instance.entry
    if entry is not None:
        request_relink(articles_mentioning(entry))


@receiver(post_save, sender=Actor)
@receiver(post_save, sender=BackgroundNote)
def relink_after_entry_saved(sender, instance, created: bool, **kwargs):
    if created:
        return
    # Stories that link it (its address or kind may have changed), and, should it have just
    # been published, the stories that contain its aliases but could not link it yet.
    containing = set()
    for normalized in instance.aliases.values_list("normalized", flat=True):
        containing |= articles_containing(normalized)
    request_relink(articles_mentioning(instance) | containing)


@receiver(pre_delete, sender=Actor)
@receiver(pre_delete, sender=BackgroundNote)
def unlink_entry_before_delete(sender, instance, **kwargs):
    # The entry's aliases and mentions point at it through nullable keys, so Django may
    # delete the entry before them; unlink the stories first, while everything is whole.
    instance._related_entries = entries_related_to(instance)
    with deferred_relinking():
        request_relink(articles_mentioning(instance))
        Mention.objects.filter(**{instance.entry_field: instance}).delete()
        Alias.objects.filter(**{instance.entry_field: instance}).delete()


def deleted_with_an_entry(origin) -> bool:
    origin_model = origin.model if isinstance(origin, QuerySet) else type(origin)
    return origin_model in (Actor, BackgroundNote)


@receiver(post_save, sender=Alias)
@receiver(post_delete, sender=Alias)
@receiver(post_save, sender=Source)
@receiver(post_delete, sender=Source)
@receiver(post_save, sender=Role)
@receiver(post_delete, sender=Role)
@receiver(post_save, sender=NoteUpdate)
@receiver(post_delete, sender=NoteUpdate)
def refresh_entry_after_child_changed(sender, instance, origin=None, **kwargs):
    if origin is not None and deleted_with_an_entry(origin):
        return
    entry = (
        Actor.objects.filter(pk=instance.actor_id).first()
        if getattr(instance, "actor_id", None)
        else BackgroundNote.objects.filter(pk=getattr(instance, "note_id", None)).first()
    )
    if entry is not None:
        entry_refresh_context(entry)


@receiver(post_save, sender=Actor)
@receiver(post_save, sender=BackgroundNote)
def refresh_entries_after_entry_saved(sender, instance, **kwargs):
    # Its own snapshot, and those of the entries whose cards name it.
    for entry in [instance, *entries_related_to(instance)]:
        entry_refresh_context(entry)


@receiver(m2m_changed, sender=BackgroundNote.actors.through)
@receiver(m2m_changed, sender=BackgroundNote.related_notes.through)
def refresh_entries_after_relations_changed(sender, instance, action, pk_set, model, **kwargs):
    if not action.startswith("post_"):
        return
    # Both sides show the relation: a note's card lists its actors, an actor's its notes.
    for entry in [instance, *model.objects.filter(pk__in=pk_set or ())]:
        entry_refresh_context(entry)


@receiver(post_delete, sender=Actor)
@receiver(post_delete, sender=BackgroundNote)
def refresh_entries_after_entry_deleted(sender, instance, **kwargs):
    for entry in getattr(instance, "_related_entries", []):
        entry_refresh_context(entry)


@receiver(post_save, sender=Figure)
@receiver(post_delete, sender=Figure)
def touch_story_after_figure_changed(sender, instance, **kwargs):
    # The cached story page shows its figures.
    Article.objects.filter(pk=instance.article_id).update(rendered_at=timezone.now())
