"""The operations the whole-sequence kernels of ``cells/fused.py`` implement, in two tables.

``ops.py`` says what an operation computes; the kernels compute it again, into preallocated
buffers and with a hand-written backward, so they keep their own explicit table per kind:

- ``ACTIVATION_KERNELS``: activation name -> f(z) into ``out`` and grad * f'(z) into ``out``
  (through f's output a = f(z), one fused kernel each);
- ``BINARY_KERNELS``: binary op name -> m = op(a, b) into ``m``, its backward, and which of
  a, b it reads.

Each entry names the function of the ops registry it implements (``reference``). A plan of
``fused.py`` looks every operation of its cell up through :func:`activation_kernel` /
:func:`binary_kernel` when it is made, so an operation the kernels lack (a new entry of
``ops.py``, or an entry replaced by another function) raises :class:`UnsupportedOperationError`
there instead of being computed as something else in the time loop. The step path
(``RecurrentEncoder.fused = False``) runs any operation of the registries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from autoforecast.cells import ops

aten = torch.ops.aten


class UnsupportedOperationError(NotImplementedError, ValueError):
    """An operation of a cell that the fused kernels do not implement."""


@dataclass(frozen=True)
class ActivationKernel:
    reference: Callable  # the function of ops.ACTIVATIONS computed here
    forward: Callable  # (z, out) -> out = f(z)
    backward: Callable  # (grad, a, out) -> out = grad * f'(z), from a = f(z)


@dataclass(frozen=True)
class BinaryKernel:
    reference: Callable  # the function of ops.BINARY_OPS computed here
    forward: Callable  # (a, b, m, gate) -> None; gate: (sigmoid(a), tanh(b)) buffers or None
    backward: Callable  # (node, dm, t) -> None: writes node.du and node.dq[t] (see _NodeBackward)
    reads_a: bool = True  # False: a = f_a(u) is neither computed nor differentiated
    reads_b: bool = True
    keeps_gate: bool = False  # the forward keeps sigmoid(a) and tanh(b) for the backward


def _tanh(z, out):
    return torch.tanh(z, out=out)


def _tanh_grad(grad, a, out):
    return aten.tanh_backward.grad_input(grad, a, grad_input=out)


def _sigmoid(z, out):
    return torch.sigmoid(z, out=out)


def _sigmoid_grad(grad, a, out):
    return aten.sigmoid_backward.grad_input(grad, a, grad_input=out)


def _relu(z, out):
    return torch.clamp_min(z, 0, out=out)


def _relu_grad(grad, a, out):
    return aten.threshold_backward.grad_input(grad, a, 0, grad_input=out)


def _identity(z, out):
    return out.copy_(z)


def _identity_grad(grad, a, out):
    return out.copy_(grad)


ACTIVATION_KERNELS = {
    "tanh": ActivationKernel(torch.tanh, _tanh, _tanh_grad),
    "relu": ActivationKernel(torch.relu, _relu, _relu_grad),
    "sigmoid": ActivationKernel(torch.sigmoid, _sigmoid, _sigmoid_grad),
    "identity": ActivationKernel(ops.identity, _identity, _identity_grad),
}


# binary ops: m = op(a, b) with a = f_a(u), b = f_b(q); backward from dm = dL/dm into du, dq[t]
def _add(a, b, m, gate):
    torch.add(a, b, out=m)


def _add_backward(node, dm, t):
    node.grad_a(dm, node.a[t], node.du)
    node.grad_b(dm, node.b[t], node.dq[t])


def _hadamard(a, b, m, gate):
    torch.mul(a, b, out=m)


def _hadamard_backward(node, dm, t):
    node.grad_a(torch.mul(dm, node.b[t], out=node.tmp), node.a[t], node.du)
    node.grad_b(torch.mul(dm, node.a[t], out=node.tmp), node.b[t], node.dq[t])


def _gate(a, b, m, gate):
    sa, tb = gate  # m = sigmoid(a) tanh(b)
    torch.mul(torch.sigmoid(a, out=sa), torch.tanh(b, out=tb), out=m)


def _gate_backward(node, dm, t):
    sa, tb, tmp = node.sa[t], node.tb[t], node.tmp
    aten.sigmoid_backward.grad_input(torch.mul(dm, tb, out=tmp), sa, grad_input=tmp)
    node.grad_a(tmp, node.a[t], node.du)
    aten.tanh_backward.grad_input(torch.mul(dm, sa, out=tmp), tb, grad_input=tmp)
    node.grad_b(tmp, node.b[t], node.dq[t])


def _left(a, b, m, gate):
    m.copy_(a)


def _left_backward(node, dm, t):
    node.grad_a(dm, node.a[t], node.du)


def _right(a, b, m, gate):
    m.copy_(b)


def _right_backward(node, dm, t):
    node.grad_b(dm, node.b[t], node.dq[t])


BINARY_KERNELS = {
    "add": BinaryKernel(ops.add, _add, _add_backward),
    "hadamard": BinaryKernel(ops.hadamard, _hadamard, _hadamard_backward),
    "gate": BinaryKernel(ops.gate, _gate, _gate_backward, keeps_gate=True),
    "left": BinaryKernel(ops.left, _left, _left_backward, reads_b=False),
    "right": BinaryKernel(ops.right, _right, _right_backward, reads_a=False),
}


def activation_kernel(name: str) -> ActivationKernel:
    """The kernels of activation ``name``; UnsupportedOperationError when there are none."""
    return _lookup(name, "activation", ACTIVATION_KERNELS, "ACTIVATION_KERNELS", ops.ACTIVATIONS,
                   "ACTIVATIONS")


def binary_kernel(name: str) -> BinaryKernel:
    """The kernels of binary op ``name``; UnsupportedOperationError when there are none."""
    return _lookup(name, "binary op", BINARY_KERNELS, "BINARY_KERNELS", ops.BINARY_OPS, "BINARY_OPS")


def _lookup(name: str, what: str, table: dict, table_name: str, registry: dict, registry_name: str):
    kernel = table.get(name)
    fix = (f"Add it to {table_name} in autoforecast/cells/fused_ops.py, or run the cell step by "
           "step (set `fused = False` on its RecurrentEncoder).")
    if kernel is None:
        raise UnsupportedOperationError(
            f"the fused cell kernels have no {what} {name!r}; they implement {sorted(table)}. {fix}")
    if registry.get(name) is not kernel.reference:
        raise UnsupportedOperationError(
            f"the fused cell kernels compute {what} {name!r} as {kernel.reference.__name__}, but "
            f"ops.{registry_name}[{name!r}] is {registry.get(name)!r}. {fix}")
    return kernel
