"""Indexes for the ledger searches at county size (docs/ledger.md).

- (unit, house_number): a house number within the grids of one township.
- PostgreSQL only: `gridgov_bigrams(text)`, the set of two-character pieces of a text, and a GIN
  index on it over household addresses, so an address fragment of two or more characters (龙泉,
  三组) is found through the index. pg_trgm needs three characters, too many for Chinese place
  names. SQLite keeps searching addresses with LIKE.
"""

from django.db import migrations, models

BIGRAMS = """
CREATE OR REPLACE FUNCTION gridgov_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}')
  FROM generate_series(1, char_length(t) - 1) AS i
$$;
CREATE INDEX IF NOT EXISTS household_address_bigram_idx
  ON residents_household USING gin (gridgov_bigrams(address));
-- Statistics of the indexed expression: without them the planner guesses the fragment's share
-- and may compute gridgov_bigrams for every household of a scope instead of using the index.
ANALYZE residents_household;
"""

DROP_BIGRAMS = """
DROP INDEX IF EXISTS household_address_bigram_idx;
DROP FUNCTION IF EXISTS gridgov_bigrams(text);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BIGRAMS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_BIGRAMS)


class Migration(migrations.Migration):
    dependencies = [("residents", "0002_builtin_tags")]
    operations = [
        migrations.AddIndex(
            model_name="household",
            index=models.Index(fields=["unit", "house_number"], name="household_unit_house_idx"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
