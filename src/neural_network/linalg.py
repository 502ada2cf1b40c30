"""Linear algebra: ``matrix_multiply`` from the NumPy article."""

from __future__ import annotations

from neural_network import _validation
from neural_network._validation import Array
from neural_network.errors import ShapeMismatchError


def matrix_multiply(X: object, W: object) -> Array:
    """The matrix product ``X @ W``: inputs of shape (m, n) times weights of shape (n, p).

    A layer's forward pass is ``matrix_multiply(X, W) + b``. Integer and list input
    is computed in float64. The inner dimensions must agree; the message says which
    transpose fixes the classic mix-up.

    Examples
    --------
    >>> print(matrix_multiply([[1.0, 2.0]], [[3.0], [4.0]]))
    [[11.]]
    """
    func = "matrix_multiply"
    xp, device = _validation.namespace(func, X=X, W=W)
    x = _validation.as_real_array(func, "X", X, xp, device)
    w = _validation.as_real_array(func, "W", W, xp, device)
    if x.ndim == 0 or w.ndim == 0:
        raise ShapeMismatchError(
            f"{func}: X and W must have at least one dimension; got X.shape={tuple(x.shape)} "
            f"and W.shape={tuple(w.shape)}. To scale by a number, use X * w."
        )
    inner_x, inner_w = x.shape[-1], w.shape[0] if w.ndim == 1 else w.shape[-2]
    if inner_x != inner_w:
        hint = ""
        if w.ndim == 2 and x.shape[-1] == w.shape[-1]:
            hint = " W looks transposed: use matrix_multiply(X, W.T)."
        raise ShapeMismatchError(
            f"{func}: the columns of X must match the rows of W; got X.shape={tuple(x.shape)} "
            f"({inner_x} columns) and W.shape={tuple(w.shape)} ({inner_w} rows).{hint}"
        )
    if x.dtype != w.dtype:
        common = xp.result_type(x, w)
        x, w = xp.astype(x, common), xp.astype(w, common)
    return xp.matmul(x, w)
