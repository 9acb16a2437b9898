from django.db import migrations

from mutualist.partners.vocabulary import STARTING_SEGMENTS


def seed(apps, schema_editor):
    Segment = apps.get_model("partners", "Segment")
    for kind, entries in STARTING_SEGMENTS.items():
        for code, name in entries:
            Segment.objects.get_or_create(kind=kind, code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
