"""replsync: schema migrations, schema diffs and reference-data sync between environments."""
