"""Top-most ancestors in a self-referencing tree (role groups, regions).

The one recursive CTE shape of the project. The walk starts at every node and follows
``parent_id`` one step per iteration; a node's top is the ancestor whose ``parent_id``
is NULL. Dirty input is expected:

- a chain that reaches a missing row stops there, with no root: no top;
- a loop (A→B→A) never reaches a root: no top. The guard is the depth: a chain without a
  loop visits each node at most once, so ``depth < node count`` never cuts a real chain
  and stops every loop after at most ``node count`` steps.
"""
from __future__ import annotations

from sqlalchemy import FromClause, func, literal, select
from sqlalchemy.sql.selectable import CTE


def top_ancestors(tree: FromClause, name: str) -> CTE:
    """Rows (``node_id``, ``top_id``): each node of ``tree`` (a table or any selectable with
    ``id`` and ``parent_id``) that has a top, and its top.

    Nodes without a top (missing ancestor, loop) are absent: callers outer-join to this
    CTE and read a NULL top for them.
    """
    node_count = select(func.count()).select_from(tree).scalar_subquery()
    walk = (
        select(
            tree.c.id.label("node_id"),
            tree.c.id.label("ancestor_id"),
            tree.c.parent_id.label("ancestor_parent_id"),
            literal(0).label("depth"),
        )
        .cte(f"{name}_walk", recursive=True)
    )
    parent = tree.alias(f"{name}_parent")
    walk = walk.union_all(
        select(walk.c.node_id, parent.c.id, parent.c.parent_id, walk.c.depth + 1)
        .join_from(walk, parent, parent.c.id == walk.c.ancestor_parent_id)
        .where(walk.c.depth < node_count)  # loop guard, see module docstring
    )
    return (
        select(walk.c.node_id, walk.c.ancestor_id.label("top_id"))
        .where(walk.c.ancestor_parent_id.is_(None))
        .cte(name)
    )
