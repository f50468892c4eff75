"""The best one-to-one assignment of rows to columns of a score matrix (Hungarian method).

Used to pair source entities with target entities: by the reference endpoint (labels and
positions) and by the alignment check (transliteration and exact-match evidence).

>>> best_assignment([[0.1, 0.9], [0.8, 0.2]])
[1, 0]
>>> best_assignment([[1.0], [0.5]])  # more rows than columns: a row may stay unassigned
[0, None]
"""

from __future__ import annotations

from collections.abc import Sequence


def best_assignment(scores: Sequence[Sequence[float]]) -> list[int | None]:
    """For each row, its column in the assignment of greatest total score (None: unassigned).

    Every row gets a column while columns last; O(n^3) for an n x n matrix.
    """
    rows = len(scores)
    cols = max((len(r) for r in scores), default=0)
    if rows == 0 or cols == 0:
        return [None] * rows
    transpose = rows > cols  # the method below needs rows <= columns
    matrix = (
        [list(r) for r in zip(*scores, strict=True)] if transpose else [list(r) for r in scores]
    )
    n, m = len(matrix), len(matrix[0])
    top = max(max(r) for r in matrix)
    cost = [[top - v for v in r] for r in matrix]  # maximise score = minimise cost
    inf = float("inf")
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    owner, way = [0] * (m + 1), [0] * (m + 1)  # owner[j]: the row (1-based) holding column j
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        least, used = [inf] * (m + 1), [False] * (m + 1)
        while owner[j0]:
            used[j0] = True
            i0, delta, j1 = owner[j0], inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    reduced = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if reduced < least[j]:
                        least[j], way[j] = reduced, j0
                    if least[j] < delta:
                        delta, j1 = least[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    least[j] -= delta
            j0 = j1
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    if transpose:
        result: list[int | None] = [None] * rows
        for j in range(1, m + 1):
            if owner[j]:
                result[j - 1] = owner[j] - 1
        return result
    assigned: list[int | None] = [None] * n
    for j in range(1, m + 1):
        if owner[j]:
            assigned[owner[j] - 1] = j - 1
    return assigned
