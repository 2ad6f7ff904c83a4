"""`column IN ids` for any number of ids, bound as one parameter on every database.

SQLite gets the ids as one JSON array expanded by `json_each`; PostgreSQL as one integer
array (`= ANY(:ids)`). Either way one statement for 100k ids, without compiling 100k bound
parameters, and the choice is made when the statement is compiled for its database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Integer, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler


class IdIn(ColumnElement[bool]):
    """`column IN ids`, compiled per dialect (below)."""

    inherit_cache = False  # the ids are part of the element: never reuse a compiled form
    type = Boolean()

    def __init__(self, column: ColumnElement[int], ids: Sequence[int]) -> None:
        self.column = column
        self.ids = [int(i) for i in ids]


def id_in(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    return IdIn(column, ids)


@compiles(IdIn)
def _json_each(element: IdIn, compiler: SQLCompiler, **kw: Any) -> str:
    listed = func.json_each(json.dumps(element.ids)).table_valued("value")
    return compiler.process(element.column.in_(select(listed.c.value)), **kw)


@compiles(IdIn, "postgresql")
def _any_array(element: IdIn, compiler: SQLCompiler, **kw: Any) -> str:
    ids = bindparam(None, element.ids, type_=ARRAY(Integer))
    return compiler.process(element.column == any_(ids), **kw)
