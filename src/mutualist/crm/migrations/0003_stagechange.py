import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_lead_country_lead_industry"),
    ]

    operations = [
        migrations.CreateModel(
            name="StageChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("source_system", models.CharField(blank=True, default="", max_length=32)),
                ("external_id", models.CharField(blank=True, default="", max_length=64)),
                ("stage", models.CharField(max_length=64)),
                (
                    "amount",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=18, null=True),
                ),
                ("close_date", models.DateField(blank=True, null=True)),
                (
                    "probability",
                    models.DecimalField(blank=True, decimal_places=2, max_digits=5, null=True),
                ),
                ("changed_at", models.DateTimeField(db_index=True)),
                (
                    "opportunity",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stage_changes",
                        to="crm.opportunity",
                    ),
                ),
            ],
            options={
                "ordering": ["changed_at", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("external_id", ""), _negated=True),
                        fields=("source_system", "external_id"),
                        name="stage_change_external_id_unique",
                    )
                ],
            },
        ),
    ]
