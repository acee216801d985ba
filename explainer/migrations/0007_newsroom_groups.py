"""Create the two newsroom groups with their permissions.

Editors may do everything, publishing included. Contributors write stories and submit them
for review: they may add and change stories, their figures and mentions, but never publish,
edit a published story, or delete anything. The admin enforces the publishing rule on the
server (see ArticleAdmin); these permissions are the rest of it."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = [
    "article",
    "figure",
    "mention",
    "actor",
    "backgroundnote",
    "alias",
    "source",
    "role",
    "noteupdate",
]
CONTRIBUTOR_CODENAMES = [
    "add_article",
    "change_article",
    "view_article",
    "add_figure",
    "change_figure",
    "view_figure",
    "add_mention",
    "change_mention",
    "view_mention",
    *(
        f"view_{model}"
        for model in ["actor", "backgroundnote", "alias", "source", "role", "noteupdate"]
    ),
]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    explainer = Permission.objects.filter(content_type__app_label="explainer")
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.set(explainer.filter(content_type__model__in=MODELS))
    contributors, _ = Group.objects.get_or_create(name="Contributors")
    contributors.permissions.set(explainer.filter(codename__in=CONTRIBUTOR_CODENAMES))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editors", "Contributors"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("explainer", "0006_review_status_and_publish_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
