"""Every trigger in one place: what an edit to a story or to the context library asks for.

Stories are relinked by background workers (``scheduling.request_relink``); entries'
snapshots are refreshed once per request (``scheduling.request_snapshot``); the linker's
library version moves whenever what it matches changes."""

from django.db.models import QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from .linking import normalize_alias
from .models import (
    Actor,
    Alias,
    Article,
    BackgroundNote,
    Figure,
    LibraryVersion,
    Mention,
    NoteUpdate,
    Role,
    Source,
)
from .relinking import mark_stories_changed
from .scheduling import request_relink, request_snapshot
from .services import articles_mentioning
from .snapshots import entries_related_to

# What the linker's library holds of an entry: a change to one of these is a new version.
LIBRARY_FIELDS = ("slug", "kind", "is_published")


@receiver(post_save, sender=Article)
def relink_after_story_saved(sender, instance: Article, **kwargs):
    request_relink(
        stories=[instance.pk],
        reason=f"Story saved: {instance.headline[:200]}",
        subject=instance,
    )


@receiver(post_save, sender=Alias)
def relink_after_alias_saved(sender, instance: Alias, **kwargs):
    LibraryVersion.bump()
    entry = instance.entry
    request_relink(
        phrases=[instance.normalized],
        entries=[entry.entry_key],
        reason=f"Alias “{instance.text}” saved for {entry}",
        subject=entry,
    )


@receiver(post_delete, sender=Alias)
def relink_after_alias_deleted(sender, instance: Alias, origin=None, **kwargs):
    LibraryVersion.bump()
    # When the entry itself is being deleted, its own handler asks for the relink.
    if deleted_with_an_entry(origin):
        return
    entry = instance.entry
    if entry is not None:
        request_relink(
            entries=[entry.entry_key],
            reason=f"Alias “{instance.text}” removed from {entry}",
            subject=entry,
        )


@receiver(pre_save, sender=Actor)
@receiver(pre_save, sender=BackgroundNote)
def note_library_fields_before_save(sender, instance, **kwargs):
    if instance.pk is None:
        return
    before = sender.objects.filter(pk=instance.pk).values_list(*LIBRARY_FIELDS).first()
    instance._library_changed = before != tuple(getattr(instance, name) for name in LIBRARY_FIELDS)


@receiver(post_save, sender=Actor)
@receiver(post_save, sender=BackgroundNote)
def relink_after_entry_saved(sender, instance, created: bool, **kwargs):
    # Its own snapshot, and those of the entries whose cards name it.
    related = [] if created else entries_related_to(instance)
    for entry in [instance, *related]:
        request_snapshot(entry)
    if created:
        return
    phrases = []
    if getattr(instance, "_library_changed", False):
        LibraryVersion.bump()
        # Just published, or renamed: the stories that contain its aliases but could
        # not link it until now.
        phrases = list(instance.aliases.values_list("normalized", flat=True))
    # Stories that show it: its description in the sidebar, its address in links, its
    # title and date in "How we got here".
    request_relink(
        entries=[instance.entry_key, *timelines_showing(instance, related)],
        phrases=phrases,
        reason=f"Entry edited: {instance}",
        subject=instance,
    )


def timelines_showing(entry, related: list) -> list[str]:
    """The notes whose stories show ``entry`` in "How we got here" without mentioning it:
    its related notes, if it is a note. Those stories must drop it once it is unpublished
    or deleted, or they link to a page readers cannot open."""
    if not isinstance(entry, BackgroundNote):
        return []
    return [other.entry_key for other in related if isinstance(other, BackgroundNote)]


@receiver(pre_delete, sender=Actor)
@receiver(pre_delete, sender=BackgroundNote)
def unlink_entry_before_delete(sender, instance, **kwargs):
    # The entry's aliases and mentions point at it through nullable keys, so Django may
    # delete the entry before them; find the stories first, while everything is whole.
    instance._related_entries = entries_related_to(instance)
    instance._linked_stories = articles_mentioning(instance)
    Mention.objects.filter(**{instance.entry_field: instance}).delete()
    Alias.objects.filter(**{instance.entry_field: instance}).delete()
    LibraryVersion.bump()


@receiver(post_save, sender=Role)
@receiver(post_delete, sender=Role)
def relink_after_role_changed(sender, instance: Role, origin=None, **kwargs):
    # A role's titles and phrases are in the linker's library ("President Moon", "the
    # secretary of state"): stories that contain them may now name someone else.
    LibraryVersion.bump()
    if origin is not None and deleted_with_an_entry(origin):
        return
    try:
        actor = instance.actor
    except Actor.DoesNotExist:
        return
    surnames = actor.aliases.filter(is_short_form=True).values_list("normalized", flat=True)
    request_relink(
        entries=[actor.entry_key],
        phrases=[*map(normalize_alias, instance.holder_phrase_list), *surnames],
        reason=f"Role edited: {instance} of {actor}",
        subject=actor,
    )


def deleted_along_with(origin, *models) -> bool:
    """Whether a deletion comes from deleting one of ``models`` (Django's ``origin``): its
    own handlers then speak for it, and relinking what is going away would only fail."""
    origin_model = origin.model if isinstance(origin, QuerySet) else type(origin)
    return origin_model in models


def deleted_with_an_entry(origin) -> bool:
    return deleted_along_with(origin, Actor, BackgroundNote)


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
    try:
        # The row's own entry, loaded once: an alias's relink handler has it already.
        entry = getattr(instance, "actor", None) or getattr(instance, "note", None)
    except (Actor.DoesNotExist, BackgroundNote.DoesNotExist):
        return
    if entry is None:
        return
    request_snapshot(entry)
    if sender is not Alias:
        # The cards are fresh at once; the story pages that show the entry follow.
        request_relink(
            entries=[entry.entry_key],
            reason=f"Entry edited: {entry}",
            subject=entry,
        )


@receiver(m2m_changed, sender=BackgroundNote.actors.through)
@receiver(m2m_changed, sender=BackgroundNote.related_notes.through)
def refresh_entries_after_relations_changed(sender, instance, action, pk_set, model, **kwargs):
    if not action.startswith("post_"):
        return
    # Both sides show the relation: a note's card lists its actors, an actor's its notes.
    entries = [instance, *model.objects.filter(pk__in=pk_set or ())]
    for entry in entries:
        request_snapshot(entry)
    # "How we got here" on the stories that mention a note shows its related notes.
    request_relink(
        entries=[entry.entry_key for entry in entries if isinstance(entry, BackgroundNote)],
        reason=f"Relations edited: {instance}",
    )


@receiver(post_delete, sender=Actor)
@receiver(post_delete, sender=BackgroundNote)
def relink_after_entry_deleted(sender, instance, **kwargs):
    related = getattr(instance, "_related_entries", [])
    for entry in related:
        request_snapshot(entry)
    request_relink(
        stories=getattr(instance, "_linked_stories", ()),
        entries=timelines_showing(instance, related),
        reason=f"Entry deleted: {instance}",
    )


@receiver(post_save, sender=Figure)
@receiver(post_delete, sender=Figure)
def touch_story_after_figure_changed(sender, instance, origin=None, **kwargs):
    # The story page shows its figures: readers' pages are fresh at once (rendered in
    # full), and the relink stores the page again.
    if origin is not None and deleted_along_with(origin, Article):
        return
    mark_stories_changed([instance.article_id])
    request_relink(stories=[instance.article_id], reason=f"Figure changed: {instance}")
