"""Moving an installation's data into another database (SQLite → PostgreSQL): `registry transfer-data`."""
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import Connection, Engine

from registry.core.config import normalise_database_url
from registry.core import row_counts
from registry.core.db import UNMODELLED_TABLES, db

VERSION_TABLE = "alembic_version"


class TransferError(Exception):
    """The copy was refused or failed; the target transaction was rolled back, so the target is unchanged."""


@click.command("transfer-data")
@click.option("--to", "target_url", required=True, help="Target database URL, already migrated with init-db.")
@click.option("--batch-size", default=1000, type=click.IntRange(min=1), show_default=True,
              help="Rows read and inserted per round trip.")
@with_appcontext
def transfer_command(target_url: str, batch_size: int) -> None:
    """Copy every table of this database into an empty database migrated to the same revision."""
    try:
        target = sa.create_engine(normalise_database_url(target_url))
    except sa.exc.ArgumentError as error:
        raise click.ClickException(f"目标数据库地址无效：{error}") from None
    click.echo(f"源数据库：{_shown(db.engine)}")
    click.echo(f"目标数据库：{_shown(target)}")
    try:
        counts = transfer_data(db.engine, target, batch_size, report=click.echo)
    except TransferError as error:
        raise click.ClickException(str(error)) from None
    except sa.exc.SQLAlchemyError as error:
        raise click.ClickException(f"数据库出错，目标数据库未作任何改动：{getattr(error, 'orig', None) or error}") from None
    finally:
        target.dispose()
    click.echo(f"完成：{len(counts)} 张表共 {sum(counts.values())} 行已复制，源库与目标库逐表行数一致。")


def transfer_data(source: Engine, target: Engine, batch_size: int = 1000,
                  report: Callable[[str], None] = print) -> dict[str, int]:
    """Copy all rows in one target transaction and return the row count of each table."""
    if _same_database(source, target):
        raise TransferError("目标数据库就是当前数据库：请用 --to 指定另一个数据库。")
    with source.connect() as reader, target.begin() as writer:
        if reader.dialect.name == "postgresql":
            # One snapshot of the source, so tables copied minutes apart still agree with each other.
            reader.execution_options(isolation_level="REPEATABLE READ")
        _check_revisions(reader, writer)
        _check_empty(writer)
        counts = {}
        for table in _copied_tables():
            counts[table.name] = _copy_table(reader, writer, table, batch_size)
            report(f"  {table.name}: {counts[table.name]} 行")
        _verify_counts(reader, writer, counts)
        if writer.dialect.name == "postgresql":
            _reset_sequences(writer)
    return counts


def _copied_tables() -> list[sa.Table]:
    """Every table but the row counts, which the target's triggers keep as the rows arrive (copied as well,
    they would count every row twice)."""
    return [table for table in db.metadata.sorted_tables if table.name not in row_counts.KEPT_BY_TRIGGERS]


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _same_database(source: Engine, target: Engine) -> bool:
    if source.url.get_backend_name() == target.url.get_backend_name() == "sqlite":
        files = [engine.url.database for engine in (source, target)]
        return all(files) and Path(files[0]).resolve() == Path(files[1]).resolve()
    return _shown(source) == _shown(target)


def _revisions(connection: Connection) -> set[str] | None:
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    return set(connection.scalars(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")))


def _named(revisions: set[str]) -> str:
    return "、".join(sorted(revisions)) or "（空）"


def _check_revisions(reader: Connection, writer: Connection) -> None:
    source, target = _revisions(reader), _revisions(writer)
    if source is None:
        raise TransferError("当前数据库没有 alembic_version 表，无法确定其结构版本：请先对它运行 registry init-db。")
    if target is None:
        raise TransferError("目标数据库尚未建表（没有 alembic_version 表）。"
                            "请先运行：REGISTRY_DATABASE_URL=<目标数据库地址> registry init-db")
    if source != target:
        raise TransferError(f"数据库结构版本不一致：当前数据库为 {_named(source)}，目标数据库为 {_named(target)}。"
                            "请对两个数据库都运行 registry init-db，使它们处于同一版本后再复制。")
    # The copy goes through this program's table definitions, which only fit the newest revision.
    heads = _code_heads()
    if source != heads:
        raise TransferError(f"两个数据库都处于版本 {_named(source)}，而当前程序需要版本 {_named(heads)}："
                            "请先对两个数据库运行 registry init-db。")


def _made_by_migrations(name: str) -> bool:
    """A table a freshly migrated database fills itself: its version, its row counts (zeros) and, on SQLite, the
    settings of its name index."""
    return name == VERSION_TABLE or name in row_counts.KEPT_BY_TRIGGERS or name.startswith(UNMODELLED_TABLES)


def _code_heads() -> set[str]:
    config = current_app.extensions["migrate"].migrate.get_config()
    return set(ScriptDirectory.from_config(config).get_heads())


def _check_empty(writer: Connection) -> None:
    filled = []
    for name in sorted(sa.inspect(writer).get_table_names()):
        if not _made_by_migrations(name):
            rows = writer.scalar(sa.select(sa.func.count()).select_from(sa.table(name)))
            if rows:
                filled.append(f"{name}（{rows} 行）")
    if filled:
        raise TransferError(f"目标数据库不是空的：表 {'、'.join(filled)} 已有数据。"
                            "transfer-data 只写入刚用 registry init-db 建好、还没有任何数据的数据库。")


def _copy_table(reader: Connection, writer: Connection, table: sa.Table, batch_size: int) -> int:
    convert = _row_converter(table)
    statement = _in_reference_order(table).execution_options(yield_per=batch_size)
    copied = 0
    try:
        for batch in reader.execute(statement).mappings().partitions():
            writer.execute(table.insert(), [convert(row) for row in batch])
            copied += len(batch)
    except sa.exc.SQLAlchemyError as error:
        raise TransferError(f"复制表 {table.name} 时出错，已全部回滚，目标数据库未作任何改动："
                            f"{getattr(error, 'orig', None) or error}") from error
    return copied


def _in_reference_order(table: sa.Table) -> sa.Select:
    """Rows ordered so that a row referring to another row of the same table comes after it."""
    key_order = list(table.primary_key.columns)
    self_references = [fk for fk in table.foreign_keys if fk.column.table is table]
    if not self_references:
        return sa.select(table).order_by(*key_order)
    if len(self_references) > 1:
        raise TransferError(f"表 {table.name} 有多个指向自身的外键，transfer-data 尚不支持。")
    referring, referred = self_references[0].parent, self_references[0].column
    # Depth 0 refers to nothing; depth n refers to a row of depth n-1. Rows in a cycle are never reached,
    # which the row count check after the copy reports.
    chain = (sa.select(referred.label("key"), sa.literal_column("0", sa.Integer).label("depth"))
             .where(referring.is_(None)).cte("chain", recursive=True))
    later = table.alias("later")
    chain = chain.union_all(
        sa.select(later.c[referred.name], chain.c.depth + 1).where(later.c[referring.name] == chain.c.key))
    return sa.select(table).join(chain, referred == chain.c.key).order_by(chain.c.depth, *key_order)


def _row_converter(table: sa.Table) -> Callable[[sa.RowMapping], dict]:
    stamped = [column.name for column in table.columns
               if isinstance(column.type, sa.DateTime) and column.type.timezone]

    def convert(row: sa.RowMapping) -> dict:
        values = dict(row)
        for name in stamped:
            values[name] = _as_utc(values[name])
        return values

    return convert


def _as_utc(value: datetime | None) -> datetime | None:
    # SQLite stores no offset: its timestamps are the UTC the app wrote. Left naive, PostgreSQL would read
    # them in its session time zone (Asia/Shanghai would shift them by eight hours).
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _count(connection: Connection, table: sa.Table) -> int:
    return connection.scalar(sa.select(sa.func.count()).select_from(table))


def _verify_counts(reader: Connection, writer: Connection, copied: dict[str, int]) -> None:
    for table in _copied_tables():
        in_source, in_target = _count(reader, table), _count(writer, table)
        if in_source == in_target == copied[table.name]:
            continue
        raise TransferError(f"核对失败：表 {table.name} 源库 {in_source} 行、已复制 {copied[table.name]} 行、"
                            f"目标库 {in_target} 行（{_likely_cause(table)}）。已全部回滚，目标数据库未作任何改动。")


def _likely_cause(table: sa.Table) -> str:
    if any(fk.column.table is table for fk in table.foreign_keys):
        return "可能是某些行的自引用外键形成循环或指向不存在的行，也可能是复制期间源库有写入"
    return "复制期间源库有写入：应用是否已停止？"


def _reset_sequences(writer: Connection) -> None:
    """Copied rows keep their ids, so each sequence must continue after the largest one."""
    for table in db.metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None:
            continue
        top = sa.func.max(column)
        sequence = sa.func.pg_get_serial_sequence(table.name, column.name)
        writer.execute(sa.select(sa.func.setval(sequence, sa.func.coalesce(top, 1), top.is_not(None))))
