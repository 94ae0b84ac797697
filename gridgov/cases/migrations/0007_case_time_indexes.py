# The measures read cases by report and closing time (insights: today's figures, charts by day, heat).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_queue_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['created_at'], name='case_created_idx'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('closed_at__isnull', False)), fields=['closed_at'], name='case_closed_idx'),
        ),
    ]
