"""Saving new rows with INSERTs built once per model, for the writes on every token.

`Model.save()` compiles its INSERT afresh on every call; for the two rows each token writes
(the token and its audit record) compiling cost more CPU than PostgreSQL spent storing them.
`insert()` sends the same statement with the same values: each field's own `pre_save` (timestamps,
DOT's token checksum) and `get_db_prep_save` (JSON, time zones), as Django's compiler does.
Like `bulk_create` it sends no signals, so it refuses a model that has save receivers.

`insert_while()` saves several rows only while another row is as it was read (a token and its
audit record, while the consent they rest on is unchanged). On PostgreSQL that is one statement:
the row is share-locked in it, so a change that holds the row waits for the insert to commit
(and then sees the new rows), and an insert that waits for a change sees the change and writes
nothing. Elsewhere (SQLite, whose transactions take the write lock when they begin) it is a check
and the inserts in one transaction.
"""

from django.db import connections, router, transaction
from django.db.models.signals import post_save, pre_save

# (model, database alias) -> (fields, the INSERT, the same INSERT taking its values from a `guard` CTE)
_statements = {}
_guarded = {}  # (guard model, guard fields, row models, database alias) -> SQL


class Changed(Exception):
    """The row the inserts depended on changed (or went) since it was read: nothing was written."""


def insert(instance):
    """Save the new `instance` in one INSERT and set its primary key; returns it."""
    using, (fields, sql, _) = _prepare(instance)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(instance, fields, connection))
        _saved(instance, cursor.fetchone()[0], using)
    return instance


def insert_while(unchanged, fields, *instances):
    """Save the new `instances` only while the stored `unchanged` row still has the values its
    `fields` have on the instance; raise `Changed` (writing nothing) when it does not."""
    using = router.db_for_write(type(unchanged), instance=unchanged)
    connection = connections[using]
    if connection.vendor != "postgresql":
        stored = type(unchanged)._base_manager.using(using).filter(pk=unchanged.pk, **_current(unchanged, fields))
        with transaction.atomic(using=using, savepoint=False):
            still = stored.exists()
            for instance in instances if still else ():
                insert(instance)
        if not still:  # raised outside the block, which an enclosing transaction outlives
            raise Changed
        return list(instances)
    statements = [_prepare(instance)[1] for instance in instances]
    key = (type(unchanged), tuple(fields), tuple(type(instance) for instance in instances), using)
    sql = _guarded.get(key) or _guarded_statement(key, connection, statements)
    params = [unchanged.pk, *(_guard_value(unchanged, name, connection) for name in fields)]
    for instance, (row_fields, _, _) in zip(instances, statements, strict=True):
        params += _values(instance, row_fields, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pks = cursor.fetchone()
    if pks[0] is None:
        raise Changed
    for instance, pk in zip(instances, pks, strict=True):
        _saved(instance, pk, using)
    return list(instances)


def _current(instance, fields):
    return {name: getattr(instance, instance._meta.get_field(name).attname) for name in fields}


def _guard_value(instance, name, connection):
    field = instance._meta.get_field(name)
    return field.get_db_prep_value(getattr(instance, field.attname), connection)


def _prepare(instance):
    model = type(instance)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        raise TypeError(f"{model.__name__} has save receivers: use save(), which sends them the signals")
    using = router.db_for_write(model, instance=instance)
    return using, _statements.get((model, using)) or _statement(model, using)


def _values(instance, fields, connection):
    return [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]


def _saved(instance, pk, using):
    instance.pk = pk
    instance._state.adding, instance._state.db = False, using


def _statement(model, using):
    quote = connections[using].ops.quote_name
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    into = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
    values = ", ".join(["%s"] * len(fields))
    returning = f"RETURNING {quote(meta.pk.column)}"
    from_guard = f"{into} SELECT {values} FROM guard {returning}"  # noqa: S608 - quoted names, %s values
    statement = fields, f"{into} VALUES ({values}) {returning}", from_guard
    _statements[model, using] = statement
    return statement


def _guarded_statement(key, connection, statements):
    """WITH guard AS (SELECT 1 ... FOR SHARE), row0 AS (INSERT ... SELECT ... FROM guard), ...
    SELECT the new primary keys (NULL when the guard found nothing)."""
    guard_model, guard_fields, models, _ = key
    quote = connection.ops.quote_name
    meta = guard_model._meta
    columns = [meta.pk.column, *(meta.get_field(name).column for name in guard_fields)]
    conditions = " AND ".join(f"{quote(column)} = %s" for column in columns)
    parts = [f"guard AS (SELECT 1 FROM {quote(meta.db_table)} WHERE {conditions} FOR SHARE)"]  # noqa: S608
    parts += [f"row{index} AS ({from_guard})" for index, (_, _, from_guard) in enumerate(statements)]
    pks = ", ".join(f"(SELECT {quote(m._meta.pk.column)} FROM row{i})" for i, m in enumerate(models))  # noqa: S608
    sql = f"WITH {', '.join(parts)} SELECT {pks}"  # noqa: S608
    _guarded[key] = sql
    return sql
