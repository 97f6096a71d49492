"""Everything that talks to the outside world: the database (engine, tables, migrations, the write revision), AWS
(the only place boto3 is called) and email. Use cases reach these through `core.context.Gatehouse`."""
