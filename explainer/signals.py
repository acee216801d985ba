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


def touch_entry(*, actor_id=None, note_id=None) -> None:
    """Bump the entry's ``updated_at`` (its cached card and page parts are keyed by it) and
    the ``rendered_at`` of the stories that mention it (their cached pages show its
    relations and dated updates in "How we got here")."""
    now = timezone.now()
    if actor_id:
        Actor.objects.filter(pk=actor_id).update(updated_at=now)
        Article.objects.filter(mentions__actor_id=actor_id).update(rendered_at=now)
    if note_id:
        BackgroundNote.objects.filter(pk=note_id).update(updated_at=now)
        Article.objects.filter(mentions__note_id=note_id).update(rendered_at=now)


@receiver(post_save, sender=Alias)
@receiver(post_delete, sender=Alias)
@receiver(post_save, sender=Source)
@receiver(post_delete, sender=Source)
@receiver(post_save, sender=Role)
@receiver(post_delete, sender=Role)
@receiver(post_save, sender=NoteUpdate)
@receiver(post_delete, sender=NoteUpdate)
def touch_entry_after_child_changed(sender, instance, **kwargs):
    touch_entry(
        actor_id=getattr(instance, "actor_id", None), note_id=getattr(instance, "note_id", None)
    )


@receiver(m2m_changed, sender=BackgroundNote.actors.through)
@receiver(m2m_changed, sender=BackgroundNote.related_notes.through)
def touch_entries_after_relations_changed(sender, instance, action, pk_set, model, **kwargs):
    if not action.startswith("post_"):
        return
    # Both sides show the relation: the note's card lists its actors, an actor's its notes.
    touch_entry(note_id=instance.pk)
    for pk in pk_set or ():
        touch_entry(**{"actor_id" if model is Actor else "note_id": pk})


@receiver(post_save, sender=Figure)
@receiver(post_delete, sender=Figure)
def touch_story_after_figure_changed(sender, instance, **kwargs):
    # The cached story page shows its figures.
    Article.objects.filter(pk=instance.article_id).update(rendered_at=timezone.now())
