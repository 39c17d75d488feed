"""Walks down self-referencing trees (role groups, regions, the clinic of a location).

The one recursive CTE shape of the project: :func:`walk_down`. The walk starts at the
seed nodes (for top-most ancestors: the roots, ``parent_id IS NULL``) and steps from a
node to its children, carrying the seed it started from. Walking down rather than up
makes the cost linear in the number of nodes (each node is reached once, through its one
parent), where a walk up from every node costs the sum of all depths — quadratic on a
chain thousands deep. It needs an index on ``parent_id`` (``sql/emr_schema.sql``).

Dirty input is expected and handled by the shape itself:

- a chain that reaches a missing row is never reached from a seed above it: no result;
- a loop (A→B→A) with no seed in it is never reached: no result. The walk cannot loop:
  a node is reached only from its parent, so its depth is its distance from the seed,
  and ``depth < node count`` (the guard every recursive CTE here carries) never cuts a
  real chain.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import ColumnElement, FromClause, func, literal, select
from sqlalchemy.sql.selectable import CTE

NodePredicate = Callable[[FromClause], ColumnElement[bool]]


def walk_down(
    tree: FromClause, name: str, *, seed: NodePredicate, stop: NodePredicate | None = None,
    columns: tuple[str, str] = ("node_id", "top_id"),
) -> CTE:
    """Rows (node, seed): every node of ``tree`` (a table or selectable with ``id`` and
    ``parent_id``) reached from a node matching ``seed`` by following children, with the
    seed it was reached from. A child matching ``stop`` is not entered (it is a seed of
    its own, or excluded). Column names are ``columns``."""
    node_count = select(func.count()).select_from(tree).scalar_subquery()
    walk = (
        select(tree.c.id.label("node_id"), tree.c.id.label("seed_id"), literal(0).label("depth"))
        .where(seed(tree))
        .cte(f"{name}_walk", recursive=True)
    )
    child = tree.alias(f"{name}_child")
    step = (
        select(child.c.id, walk.c.seed_id, walk.c.depth + 1)
        .join_from(walk, child, child.c.parent_id == walk.c.node_id)
        .where(walk.c.depth < node_count)  # loop guard, see module docstring
    )
    if stop is not None:
        step = step.where(~stop(child))
    walk = walk.union_all(step)
    node, top = columns
    return select(walk.c.node_id.label(node), walk.c.seed_id.label(top)).cte(name)


def top_ancestors(tree: FromClause, name: str) -> CTE:
    """Rows (``node_id``, ``top_id``): each node of ``tree`` that has a top-most ancestor
    (CONTRACT section 1: a root is its own top), and that top.

    Nodes without a top (missing ancestor, loop) are absent: callers outer-join to this
    CTE and read a NULL top for them.
    """
    return walk_down(tree, name, seed=lambda t: t.c.parent_id.is_(None))
