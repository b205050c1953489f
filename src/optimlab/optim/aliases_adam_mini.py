r"""Adam-mini (issue 18), tested step by step against ``pytorch_optimizer.AdamMini`` 4.1.

pytorch_optimizer splits the model into blocks by parameter *name*: names containing
``embed``, ``embd``, ``wte``, ``lm_head.weight`` or ``output.weight`` get Adam's
per-element second moment; ``q_proj.weight``, ``k_proj.weight``, ``wq.weight``,
``wk.weight`` one per attention head (``num_embeds**2 / num_heads`` elements);
``attn.attn.weight`` / ``attn.qkv.weight`` one per head of each query group; every other
parameter **one for the whole tensor**. Names containing ``norm`` or ``ln_f`` get no
weight decay. The names optimlab's models produce (``weight``, ``bias``, ``theta``, and
the dotted ``1.weight``, ``0.bias`` of ``named_parameters``) and the harness's ``p0``...
hit none of these patterns, so under the reference's rule every optimlab parameter, of
any number of dims (0-D, vectors, matrices, 4-D kernels alike), is one block and is
decayed: that is what ``adam-mini`` does (transforms see arrays, not names). Give
parameters that should not decay a parameter group with ``weight_decay=0``.
"""

from __future__ import annotations

from optimlab.optim import search
from optimlab.optim import spec as checks
from optimlab.optim.base import Chain, chain
from optimlab.optim.registry import register
from optimlab.optim.transforms import DecoupledWeightDecay, ScaleByLearningRate
from optimlab.optim.transforms.adam_mini import ScaleByAdamMini


def _adam_mini(lr: float, betas: tuple, weight_decay: float, eps: float) -> Chain:
    r"""Adam-mini (Zhang, Chen, Li, Ding, Chen, Kingma, Luo and Sun, "Adam-mini: Use Fewer
    Learning Rates To Gain More", arXiv:2406.16793), as ``pytorch_optimizer.AdamMini``
    for parameters outside embeddings, output layers and attention: one second moment
    per parameter tensor of :math:`n` elements.

    .. math::

        \theta &\leftarrow (1 - \eta\lambda)\theta \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) \frac{1}{n}\sum_i g_{t,i}^2 \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,
            \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    :math:`t` counts the group's steps (the reference makes one group per parameter
    and counts every ``step()`` call in it, also those without a gradient: the same
    unless the whole group has no gradient). Weight decay always decoupled, before the
    step. Not offered: ``num_embeds``, ``num_heads``, ``num_query_groups`` (they shape
    the attention blocks, chosen by name, that optimlab's parameters never are) and
    ``model_sharding``. Demon (``demon-adam-mini``) decays :math:`\beta_1`.
    """
    b1, b2 = betas
    return chain(
        DecoupledWeightDecay(weight_decay, lr),
        ScaleByAdamMini(b1, b2, eps),
        ScaleByLearningRate(lr),
    )


def _register() -> None:
    register(
        "adam-mini", _adam_mini,
        defaults={"lr": 1.0, "betas": (0.9, 0.999), "weight_decay": 0.1, "eps": 1e-8},
        checks={"lr": checks.nonnegative, "betas": checks.BETAS2,
                "weight_decay": checks.nonnegative, "eps": checks.positive},
        momentum="betas", step_counts="group", decoupled_weight_decay=0.1,
        reference="pytorch_optimizer.AdamMini (4.1), every parameter one block",
        paper="Zhang, Chen, Li, Ding, Chen, Kingma, Luo and Sun, 'Adam-mini: Use Fewer "
        "Learning Rates To Gain More', arXiv:2406.16793",
        search={"lr": search.log(1e-5, 1e-1)},
    )  # fmt: skip


_register()
