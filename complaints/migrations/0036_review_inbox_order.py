"""The review inbox's order as an index: reviews needing a reply first, then
the newest. The inbox pages by keyset along it and reads 25 rows instead of
sorting every review (models.reviews.needs_reply)."""

import complaints.sql
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('complaints', '0035_search_trigram_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='review',
            index=models.Index(models.Case(models.When(models.Q(('rating__lte', complaints.sql.Literal(3)), ('replied_at__isnull', True)), then=complaints.sql.Literal(1)), default=complaints.sql.Literal(0), output_field=models.IntegerField()), models.F('posted_at'), models.F('id'), name='review_inbox_order'),
        ),
    ]
