"""Moving the context library between databases: export_context and import_context."""

import datetime as dt
import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.db.models.fields.files import FieldFile

from explainer.management.commands.load_demo import CONTEXT_LIBRARY
from explainer.models import Actor, Alias, Article, BackgroundNote, NoteUpdate, Role, Source
from tests.factories import make_actor, make_note

pytestmark = pytest.mark.django_db

LIBRARY_MODELS = [
    Actor,
    BackgroundNote,
    Alias,
    Source,
    Role,
    NoteUpdate,
    BackgroundNote.actors.through,
    BackgroundNote.related_notes.through,
]
LAVROV = {
    "slug": "sergei-lavrov",
    "name": "Sergei Lavrov",
    "kind": "person",
    "description": "Foreign minister of Russia since 2004",
    "aliases": [{"text": "Lavrov", "case_sensitive": False}],
    "roles": [{"title": "Foreign Minister", "organization": "Russia", "starts_on": "2004-03"}],
}


# Columns a library file does not carry: row ids, timestamps, the editor who last saved
# (users are not part of the library) and what the last import wrote.
NOT_IN_FILE = {"id", "created_at", "updated_at", "last_edited_by", "imported_at", "import_digest"}


def library_rows() -> dict[str, list[dict]]:
    """Every other column of every row of the library, derived ones included, read straight
    from the database (not through the exporter), each foreign key as the slug it names."""
    rows = {}
    for model in LIBRARY_MODELS:
        found = []
        for obj in model.objects.all():
            row = {}
            for column in model._meta.concrete_fields:
                if column.name in NOT_IN_FILE:
                    continue
                value = getattr(obj, column.name)
                if column.is_relation:
                    value = None if value is None else value.slug
                elif isinstance(value, FieldFile):
                    value = value.name
                row[column.name] = value
            found.append(row)
        rows[model._meta.label] = sorted(found, key=repr)
    return rows


def export() -> str:
    stdout = io.StringIO()
    call_command("export_context", stdout=stdout)
    return stdout.getvalue()


def import_context(path) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_context", str(path), stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def write_json(tmp_path, data, name="library.json"):
    path = tmp_path / name
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in LIBRARY_MODELS}


def empty_the_database() -> None:
    Article.objects.all().delete()
    Actor.objects.all().delete()
    BackgroundNote.objects.all().delete()
    assert not any(row_counts().values())


def entry_details() -> dict[str, dict]:
    """What each entry holds, read straight from the models (not through the exporter)."""
    details = {}
    for actor in Actor.objects.all():
        details[actor.slug] = {
            "roles": [
                (r.title, r.organization, r.starts_on, r.ends_on, r.succeeded_by)
                for r in actor.roles.all()
            ],
            "aliases": {(a.text, a.case_sensitive) for a in actor.aliases.all()},
            "sources": [(s.label, s.url) for s in actor.sources.all()],
        }
    for note in BackgroundNote.objects.all():
        details[note.slug] = {
            "updates": [(u.happened_on, u.text) for u in note.updates.all()],
            "actors": {a.slug for a in note.actors.all()},
            "related": {n.slug for n in note.related_notes.all()},
            "aliases": {(a.text, a.case_sensitive) for a in note.aliases.all()},
            "sources": [(s.label, s.url) for s in note.sources.all()],
            "dates": (note.starts_on, note.ends_on),
        }
    return details


@pytest.fixture
def library():
    kim = make_actor(name="Kim Jong-un", slug="kim-jong-un", aliases=("김정은", "Ким Чен Ын"))
    Alias.objects.create(actor=kim, text="Kim", case_sensitive=True)
    Source.objects.create(actor=kim, label="Yonhap", url="https://en.yna.co.kr/kim", position=1)
    Source.objects.create(actor=kim, label="Reuters", url="https://reuters.com/kim", position=2)
    Role.objects.create(
        actor=kim, title="Supreme leader", organization="North Korea", starts_on="2011-12"
    )
    ri = make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    Role.objects.create(
        actor=ri,
        title="Foreign Minister",
        organization="North Korea",
        starts_on="2016-05",
        ends_on="2020-01",
        succeeded_by="Ri Son-gwon",
    )
    hanoi = make_note(
        title="Hanoi summit",
        slug="hanoi-summit",
        starts_on="2019-02-27",
        ends_on="2019-02-28",
        body="<p>The talks ended early.</p>",
    )
    NoteUpdate.objects.create(note=hanoi, happened_on="2019-06", text="Trump and Kim meet again.")
    NoteUpdate.objects.create(note=hanoi, happened_on="2019", text="Talks stall.")
    hanoi.actors.set([kim, ri])
    talks = make_note(title="Six-party talks", slug="six-party-talks", kind="process")
    hanoi.related_notes.add(talks)


@pytest.fixture
def full_library(library):
    """The library with every field the file carries set away from its default somewhere:
    an unpublished, reviewed actor with a picture; an unpublished note; aliases with both
    flags; sources with titles, dates and positions that are not 1, 2, 3; a role with
    title forms and holder phrases."""
    kim = Actor.objects.get(slug="kim-jong-un")
    kim.is_published = False
    kim.reviewed_on = dt.date(2026, 11, 30)
    kim.wikidata_id = "Q56226"
    kim.image = "actors/kim.jpg"
    kim.image_alt = "Kim Jong-un at the summit"
    kim.image_credit = "AP-Yonhap"
    kim.save()
    Alias.objects.create(actor=kim, text="김", is_short_form=True)
    for source, position in zip(kim.sources.all(), (5, 9), strict=True):
        source.position = position
        source.title = f"{source.label} on Kim"
        source.published_on = "2019-04-12"
        source.save()
    role = kim.roles.get()
    role.title_forms = "Chairman\n위원장"
    role.holder_phrases = "the North Korean leader"
    role.save()
    make_actor(name="North Korea", slug="north-korea", kind=Actor.Kind.COUNTRY)
    hanoi = BackgroundNote.objects.get(slug="hanoi-summit")
    hanoi.is_published = False
    hanoi.reviewed_on = dt.date(2026, 10, 1)
    hanoi.save()
    Source.objects.create(
        note=hanoi,
        label="Yonhap",
        title="Hanoi summit ends without a deal",
        published_on="2019-02-28",
        url="https://en.yna.co.kr/hanoi",
        position=3,
    )


@pytest.fixture
def library_file(library, tmp_path):
    """The library exported, with one new entry added, so that a write would show."""
    data = json.loads(export())
    data["actors"].append(json.loads(json.dumps(LAVROV)))
    return data


# export_context


def test_export_context_writes_editor_fields_in_the_demo_shape(library):
    data = json.loads(export())

    kim = next(actor for actor in data["actors"] if actor["slug"] == "kim-jong-un")
    hanoi = next(note for note in data["notes"] if note["slug"] == "hanoi-summit")
    # Every editable field of the models, in their order (library_file derives the list).
    assert list(kim) == [
        "slug",
        "description",
        "summary",
        "is_published",
        "reviewed_on",
        "name",
        "kind",
        "image",
        "image_alt",
        "image_credit",
        "wikidata_id",
        "aliases",
        "sources",
        "roles",
    ]
    assert list(hanoi) == [
        *["slug", "description", "summary", "is_published", "reviewed_on", "title", "kind"],
        *["body", "starts_on", "ends_on", "aliases", "sources", "updates", "actors", "related"],
    ]
    assert kim["aliases"][0] == {
        "text": "Kim Jong-un",
        "case_sensitive": False,
        "is_short_form": False,
    }
    assert {"text": "Kim", "case_sensitive": True, "is_short_form": False} in kim["aliases"]
    assert kim["sources"] == [
        {
            "label": "Yonhap",
            "title": "",
            "published_on": "",
            "url": "https://en.yna.co.kr/kim",
            "position": 1,
        },
        {
            "label": "Reuters",
            "title": "",
            "published_on": "",
            "url": "https://reuters.com/kim",
            "position": 2,
        },
    ]
    assert kim["roles"] == [
        {
            "title": "Supreme leader",
            "organization": "North Korea",
            "starts_on": "2011-12",
            "ends_on": "",
            "succeeded_by": "",
            "title_forms": "",
            "holder_phrases": "",
        }
    ]
    assert hanoi["updates"] == [
        {"happened_on": "2019", "text": "Talks stall."},
        {"happened_on": "2019-06", "text": "Trump and Kim meet again."},
    ]
    assert hanoi["actors"] == ["kim-jong-un", "ri-yong-ho"]
    assert hanoi["related"] == ["six-party-talks"]
    assert (hanoi["starts_on"], hanoi["ends_on"]) == ("2019-02-27", "2019-02-28")


def test_export_context_sorts_by_slug_and_leaves_out_derived_fields(library):
    text = export()

    data = json.loads(text)
    assert [actor["slug"] for actor in data["actors"]] == ["kim-jong-un", "ri-yong-ho"]
    assert [note["slug"] for note in data["notes"]] == ["hanoi-summit", "six-party-talks"]
    for name in ("summary_html", "body_html", "context_json", "created_at", "updated_at", "id"):
        assert f'"{name}"' not in text


def test_export_context_keeps_non_ascii_literal_and_is_byte_stable(library, tmp_path):
    path = tmp_path / "library.json"

    call_command("export_context", str(path), stdout=io.StringIO())

    assert "김정은" in path.read_text(encoding="utf-8")
    assert "Ким Чен Ын" in path.read_text(encoding="utf-8")
    assert "\\u" not in path.read_text(encoding="utf-8")
    assert path.read_bytes() == export().encode("utf-8")
    assert export() == export()


def test_export_context_of_empty_library_is_empty_lists():
    assert json.loads(export()) == {"actors": [], "notes": []}


# import_context: round trips and idempotence


def test_export_import_into_empty_database_export_round_trips(library, tmp_path):
    first = export()
    path = write_json(tmp_path, first)
    empty_the_database()

    stdout, stderr = import_context(path)

    assert export() == first
    assert "4 created, 0 updated, 0 unchanged" in stdout
    assert stderr == ""
    assert Alias.objects.get(text="Kim").case_sensitive is True


def test_import_context_twice_changes_no_rows(library_file, tmp_path):
    path = write_json(tmp_path, library_file)
    import_context(path)
    counts, exported = row_counts(), export()
    ids = sorted(Role.objects.values_list("pk", flat=True))

    stdout, _ = import_context(path)

    assert row_counts() == counts
    assert export() == exported
    assert sorted(Role.objects.values_list("pk", flat=True)) == ids
    assert "0 created, 0 updated, 5 unchanged" in stdout


def test_import_context_counts_created_and_updated_entries(library_file, tmp_path):
    kim = next(actor for actor in library_file["actors"] if actor["slug"] == "kim-jong-un")
    kim["description"] = "Leader of North Korea"
    path = write_json(tmp_path, library_file)

    stdout, _ = import_context(path)

    assert "Imported 5 entries" in stdout
    assert "1 created, 1 updated, 3 unchanged" in stdout
    assert Actor.objects.get(slug="kim-jong-un").description == "Leader of North Korea"
    assert Actor.objects.get(slug="sergei-lavrov").roles.get().starts_on == "2004-03"


def test_import_context_relation_may_name_an_entry_only_in_the_database(library, tmp_path):
    note = {
        "slug": "lavrov-visit-2018",
        "title": "Lavrov's visit to Pyongyang",
        "kind": "event",
        "description": "Sergei Lavrov's visit to Pyongyang, May 2018",
        "actors": ["ri-yong-ho"],
        "related": ["hanoi-summit"],
    }
    path = write_json(tmp_path, {"notes": [note]})

    import_context(path)

    visit = BackgroundNote.objects.get(slug="lavrov-visit-2018")
    assert [actor.slug for actor in visit.actors.all()] == ["ri-yong-ho"]
    assert [related.slug for related in visit.related_notes.all()] == ["hanoi-summit"]


def test_unpublished_actor_through_export_delete_and_import_keeps_its_state_and_review_date(
    tmp_path,
):
    make_actor(name="Choe Son-hui", slug="choe-son-hui", is_published=False)
    Actor.objects.update(reviewed_on=dt.date(2026, 11, 30))
    path = write_json(tmp_path, export())
    empty_the_database()

    import_context(path)

    actor = Actor.objects.get(slug="choe-son-hui")
    assert actor.is_published is False
    assert actor.reviewed_on == dt.date(2026, 11, 30)


def test_full_library_sets_every_field_the_file_carries(full_library):
    # Else the round trip below could pass while a field is lost.
    for model in (Actor, BackgroundNote, Alias, Source, Role, NoteUpdate):
        for column in model._meta.concrete_fields:
            if column.name in NOT_IN_FILE or column.is_relation or not column.editable:
                continue
            values = {str(getattr(obj, column.name)) for obj in model.objects.all()}
            default = column.get_default()
            assert values - {str(default), "", "None"}, f"{model.__name__}.{column.name}"


def test_export_delete_import_gives_back_every_field_of_every_row(full_library, tmp_path):
    rows, first = library_rows(), export()
    path = write_json(tmp_path, first)
    empty_the_database()

    stdout, _ = import_context(path)

    assert library_rows() == rows
    assert export() == first
    assert "5 created, 0 updated, 0 unchanged." in stdout


def test_demo_file_reads_as_the_exporter_writes_it(demo):
    exported = json.loads(export())
    records = {item["slug"]: item for key in ("actors", "notes") for item in exported[key]}

    for key in ("actors", "notes"):
        for item in json.loads(CONTEXT_LIBRARY.read_text(encoding="utf-8"))[key]:
            record = records[item["slug"]]
            for name, value in item.items():
                if name == "sources":
                    value = [{**source, "position": n} for n, source in enumerate(value, 1)]
                if name == "aliases":
                    value, record[name] = sorted(map(str, value)), sorted(map(str, record[name]))
                if name == "related":
                    # Related both ways: a note lists the notes that list it.
                    value = sorted(set(value) | set(record[name]))
                if name == "actors":
                    value = sorted(value)
                if name in {"roles", "updates"}:
                    # Shown, and so written, in date order (the models' ordering).
                    date = "starts_on" if name == "roles" else "happened_on"
                    value = sorted(value, key=lambda row, date=date: row.get(date, ""))
                assert record[name] == value, (item["slug"], name)


def test_export_demo_then_import_into_fresh_database_reproduces_every_row(demo, tmp_path):
    details, rows, first = entry_details(), library_rows(), export()
    path = write_json(tmp_path, first)
    empty_the_database()

    import_context(path)

    assert library_rows() == rows
    assert entry_details() == details
    assert export() == first
    assert any(detail.get("roles") for detail in details.values())
    assert any(detail.get("updates") for detail in details.values())
    assert any(detail.get("related") for detail in details.values())


# import_context: invalid files


def _without_slug(data):
    del data["actors"][0]["slug"]


def _bad_kind(data):
    data["actors"][0]["kind"] = "wizard"


def _bad_date(data):
    data["actors"][0]["roles"][0]["starts_on"] = "2019-13"


def _impossible_day(data):
    data["notes"][0]["updates"][0]["happened_on"] = "2019-02-30"


def _ends_before_it_starts(data):
    data["notes"][0]["ends_on"] = "2019-01"


def _duplicate_slug(data):
    data["notes"][1]["slug"] = "kim-jong-un"


def _slug_of_other_kind_in_database(data):
    data["actors"][-1]["slug"] = "hanoi-summit"


def _unknown_relation(data):
    data["notes"][0]["actors"].append("nobody")


def _common_word_full_form(data):
    data["actors"][1]["aliases"].append({"text": "the North", "case_sensitive": True})


def _missing_description(data):
    del data["actors"][-1]["description"]


def _image_without_alt_text(data):
    data["actors"][0]["image"] = "actors/kim.jpg"


def _markup_in_plain_text(data):
    data["actors"][0]["description"] = "Leader <b>of</b> North Korea"


def _not_a_boolean(data):
    data["actors"][0]["aliases"][0]["is_short_form"] = "yes"


def _source_without_url(data):
    del data["actors"][0]["sources"][0]["url"]


def _derived_field(data):
    data["actors"][0]["summary_html"] = "<p>Set by hand</p>"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_without_slug, "actors[1] (“Kim Jong-un”): missing “slug”."),
        (_bad_kind, "kim-jong-un: kind \"wizard\": Value 'wizard' is not a valid choice."),
        (_bad_date, 'kim-jong-un: roles[1]: starts_on "2019-13": Enter a year (2003)'),
        (_impossible_day, 'hanoi-summit: updates[1]: happened_on "2019-02-30": 2019-02-30 is not'),
        (
            _ends_before_it_starts,
            'hanoi-summit: ends_on "2019-01": The end cannot come before the start.',
        ),
        (_duplicate_slug, "kim-jong-un: the slug is used by more than one entry"),
        (
            _slug_of_other_kind_in_database,
            'hanoi-summit: slug "hanoi-summit": “Hanoi summit” already uses the address',
        ),
        (_unknown_relation, "hanoi-summit: actors: no actor “nobody” in the file or the database."),
        (_common_word_full_form, 'ri-yong-ho: aliases[2]: text "the North": “the North” is made'),
        (_missing_description, "sergei-lavrov: description: This field cannot be blank."),
        (_derived_field, "kim-jong-un: unknown key “summary_html”"),
        (
            _image_without_alt_text,
            'kim-jong-un: image_alt "": Describe the image for readers who cannot see it.',
        ),
        (_markup_in_plain_text, 'kim-jong-un: description "Leader <b>of</b> North Korea": Plain'),
        (_not_a_boolean, 'kim-jong-un: aliases[1]: is_short_form "yes": must be true or false.'),
        (_source_without_url, "kim-jong-un: sources[1]: url: This field cannot be blank."),
    ],
)
def test_import_context_invalid_file_names_the_problem_and_writes_nothing(
    library_file, tmp_path, mutate, message
):
    mutate(library_file)
    path = write_json(tmp_path, library_file)
    counts, exported = row_counts(), export()

    with pytest.raises(CommandError, match="nothing was imported") as raised:
        import_context(path)

    assert message in str(raised.value)
    assert row_counts() == counts
    assert export() == exported


def test_import_context_bad_json_names_the_place_and_writes_nothing(library, tmp_path):
    path = write_json(tmp_path, '{"actors": [{"slug": "kim-jong-un",}]}')
    counts = row_counts()

    with pytest.raises(CommandError, match=r"is not valid JSON: .* at line 1, column 36"):
        import_context(path)

    assert row_counts() == counts


def test_import_context_file_without_an_object_is_command_error(library, tmp_path):
    path = write_json(tmp_path, [{"slug": "kim-jong-un"}])

    with pytest.raises(CommandError, match="must hold one JSON object"):
        import_context(path)


def test_import_context_reports_every_problem_at_once(library_file, tmp_path):
    _bad_kind(library_file)
    _bad_date(library_file)
    _unknown_relation(library_file)
    path = write_json(tmp_path, library_file)

    with pytest.raises(CommandError, match="has 3 problems; nothing was imported") as raised:
        import_context(path)

    assert re.findall(r"^  (\S+):", str(raised.value), re.M) == [
        "kim-jong-un",
        "kim-jong-un",
        "hanoi-summit",
    ]
    assert not Actor.objects.filter(slug="sergei-lavrov").exists()


def test_import_context_missing_file_is_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        import_context(tmp_path / "nowhere.json")


# import_context: aliases another entry owns


def test_import_context_gives_a_phrase_to_every_entry_that_lists_it(tmp_path):
    station = make_actor(name="Khasan station", slug="khasan-station", aliases=("Khasan",))
    khasan = {
        "slug": "khasan",
        "name": "Khasan",
        "kind": "place",
        "description": "Russian border village on the Tumen River",
        "aliases": [{"text": "Хасан", "case_sensitive": False}],
    }
    path = write_json(tmp_path, {"actors": [khasan]})

    stdout, stderr = import_context(path)

    assert stderr == ""
    assert "1 created, 0 updated, 0 unchanged." in stdout
    owners = Alias.objects.filter(text="Khasan").values_list("actor", flat=True)
    assert sorted(owners) == sorted([station.pk, Actor.objects.get(slug="khasan").pk])
