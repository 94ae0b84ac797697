# The measures read cases by report and closing time (today's figures, charts by day, heat), open cases by
# place (a snapshot read from the index alone) and the worst overdue in deadline order.

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
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('status__in', ['acknowledged', 'dispatched', 'feedback', 'handling', 'reported', 'resolved', 'returned'])), fields=['unit_path'], include=('owner_path', 'status', 'resolve_due', 'id'), name='case_open_place_idx', opclasses=['varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('status__in', ['acknowledged', 'dispatched', 'handling', 'reported', 'returned'])), fields=['resolve_due'], name='case_clocked_due_idx'),
        ),
    ]
