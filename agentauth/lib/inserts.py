"""Saving a new row with an INSERT built once per model, for the writes on every token.

`Model.save()` compiles its INSERT afresh on every call; for the two rows each token writes
(the token and its audit record) compiling cost more CPU than PostgreSQL spent storing them.
`insert()` sends the same statement with the same values: each field's own `pre_save` (timestamps,
DOT's token checksum) and `get_db_prep_save` (JSON, time zones), as Django's compiler does.
Like `bulk_create` it sends no signals, so it refuses a model that has save receivers.
"""

from django.db import connections, router
from django.db.models.signals import post_save, pre_save

_statements = {}  # (model, database alias) -> (fields, SQL)


def insert(instance):
    """Save the new `instance` in one INSERT and set its primary key; returns it."""
    model = type(instance)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        raise TypeError(f"{model.__name__} has save receivers: use save(), which sends them the signals")
    using = router.db_for_write(model, instance=instance)
    connection = connections[using]
    fields, sql = _statements.get((model, using)) or _statement(model, using)
    params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding, instance._state.db = False, using
    return instance


def _statement(model, using):
    quote = connections[using].ops.quote_name
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values}) RETURNING {quote(meta.pk.column)}"  # noqa: S608
    _statements[model, using] = fields, sql
    return fields, sql
