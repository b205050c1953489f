"""The post-Adam names: registration, compositions and the errors for bad hyperparameters."""

from __future__ import annotations

import numpy as np
import pytest

from optimlab import optim
from optimlab.nn import Parameter

PAPERS = {
    "lion": "arXiv:2302.06675",
    "adabelief": "arXiv:2010.07468",
    "adan": "arXiv:2208.06677",
    "adopt": "arXiv:2411.02853",
    "lamb": "arXiv:1904.00962",
    "yogi": "NeurIPS 2018",
    "ademamix": "arXiv:2409.03137",
    "schedulefree-sgd": "arXiv:2405.15682",
    "schedulefree-adamw": "arXiv:2405.15682",
    "muon": "arXiv:2502.16982",
}
REFERENCES = {
    "lion": "Lion",
    "adabelief": "AdaBelief",
    "adan": "Adan",
    "adopt": "ADOPT",
    "lamb": "Lamb",
    "yogi": "Yogi",
    "ademamix": "AdEMAMix",
    "schedulefree-sgd": "ScheduleFreeSGD",
    "schedulefree-adamw": "ScheduleFreeAdamW",
    "muon": "Muon",
}


def params() -> list[Parameter]:
    rng = np.random.default_rng(0)
    return [Parameter(rng.standard_normal(s), f"p{i}") for i, s in enumerate([(4, 3), (5,)])]


@pytest.mark.parametrize("name", PAPERS)
def test_registered_with_paper_reference_and_equations(name):
    spec = optim.resolve(name)
    assert PAPERS[name] in spec.paper
    assert spec.reference.startswith(f"pytorch_optimizer.{REFERENCES[name]} (4.1)")
    assert r"\theta" in spec.equations or r"z_t" in spec.equations
    composed = ["lookahead-" + name]
    if not name.endswith("w"):  # schedulefree-adamw has its decoupled decay already
        composed += [name + "w", "lookahead-" + name + "w"]
    for c in composed:
        assert c in optim.available()


def test_demon_decays_beta1_only_where_it_needs_no_bias_correction():
    capable = set(optim.demon_capable())
    assert {"lion", "adopt"} <= capable
    assert not capable & {"adabelief", "adan", "lamb", "yogi", "ademamix", "muon",
                          "schedulefree-sgd", "schedulefree-adamw"}  # fmt: skip


def test_lookahead_lionw_builds_and_steps():
    ps = params()
    start = [p.data.copy() for p in ps]
    opt = optim.create("lookahead-lionw", ps, lr=1e-3, weight_decay=0.1, k=2)
    for _ in range(4):
        for p in ps:
            p.grad = p.data.copy()
        opt.step()
    assert all(not np.array_equal(p.data, s) for p, s in zip(ps, start, strict=True))


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("lion", {"betas": (1.0, 0.99)}, r"lion: beta1 must be in \[0, 1\); received beta1=1.0"),
        ("lion", {"betas": (0.9,)}, r"lion: betas must be a tuple of 2 numbers"),
        ("lion", {"weight_decouple": "yes"}, r"lion: weight_decouple must be true or false"),
        ("lion", {"weight_decay": -0.1}, r"lion: weight_decay must be >= 0"),
        ("adabelief", {"n_sma_threshold": 3}, r"adabelief: n_sma_threshold must be >= 4"),
        ("adabelief", {"eps": 0.0}, r"adabelief: eps must be > 0; received eps=0.0"),
        ("adabelief", {"ams_bound": 1}, r"adabelief: ams_bound must be true or false"),
        ("adan", {"betas": (0.9, 0.9)}, r"adan: betas must be a tuple of 3 numbers"),
        ("adan", {"betas": (0.9, 0.9, 1.0)}, r"adan: beta3 must be in \[0, 1\); received beta3=1"),
        ("adan", {"max_grad_norm": -1.0}, r"adan: max_grad_norm must be >= 0"),
        ("adopt", {"clip_exponent": -0.5}, r"adopt: clip_exponent must be >= 0"),
        ("adopt", {"clip_exponent": "sqrt"}, r"adopt: clip_exponent must be a number"),
        ("adopt", {"betas": (0.9, -0.1)}, r"adopt: beta2 must be in \[0, 1\)"),
        ("lamb", {"max_grad_norm": -1.0}, r"lamb: max_grad_norm must be >= 0"),
        ("lamb", {"pre_norm": "no"}, r"lamb: pre_norm must be true or false"),
        ("lamb", {"n_sma_threshold": 2}, r"lamb: n_sma_threshold must be >= 4"),
        ("yogi", {"initial_accumulator": -1e-6}, r"yogi: initial_accumulator must be >= 0"),
        ("ademamix", {"t_alpha_beta3": 0}, r"ademamix: t_alpha_beta3 must be > 0"),
        ("ademamix", {"alpha": -1.0}, r"ademamix: alpha must be >= 0"),
        ("ademamix", {"t_alpha_beta3": 100, "betas": (0.0, 0.999, 0.9999)},
         r"ademamix: t_alpha_beta3 schedules beta3 through log\(beta1\)"),
        ("schedulefree-sgd", {"momentum": 0.0}, r"schedulefree-sgd: momentum must be in \(0, 1\)"),
        ("schedulefree-sgd", {"momentum": 1.0}, r"schedulefree-sgd: momentum must be in \(0, 1\)"),
        ("schedulefree-sgd", {"warmup_steps": 2.5},
         r"schedulefree-sgd: warmup_steps must be an integer >= 0"),
        ("schedulefree-sgd", {"r": -1.0}, r"schedulefree-sgd: r must be >= 0"),
        ("schedulefree-adamw", {"betas": (0.0, 0.999)},
         r"schedulefree-adamw: beta1 must be in \(0, 1\)"),
        ("schedulefree-adamw", {"decoupling_c": -1.0},
         r"schedulefree-adamw: decoupling_c must be >= 0"),
        ("muon", {"momentum": 1.0}, r"muon: momentum must be in \[0, 1\)"),
        ("muon", {"ns_steps": 0}, r"muon: ns_steps must be an integer >= 1"),
        ("muon", {"ns_coeffs": "cubic"}, r"muon: ns_coeffs must be one of 'original', 'quintic'"),
        ("muon", {"ns_coeffs": (1.0, 2.0)}, r"muon: ns_coeffs must be one of"),
        ("muon", {"adamw_betas": (1.0, 0.95)},
         r"muon: adamw_beta1 must be in \[0, 1\); received adamw_beta1=1.0"),
        ("muon", {"adamw_eps": 0.0}, r"muon: adamw_eps must be > 0"),
        ("muon", {"adamw_lr": -1.0}, r"muon: adamw_lr must be >= 0"),
        ("muon", {"maximize": True}, r"muon: unknown hyperparameter 'maximize'"),
        ("lion", {"foreach": True}, r"lion: unknown hyperparameter 'foreach'"),
    ],
)  # fmt: skip
def test_rejects_bad_hyperparameters(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.create(name, params(), **kwargs)


@pytest.mark.parametrize(
    "name", [*PAPERS, "adan-decoupled", "lamb-coupled", "muon-coupled", "adan-clipped"]
)
def test_gradients_are_never_written_to(name):
    variants = {
        "adan-decoupled": ("adan", {"weight_decay": 0.1, "weight_decouple": True}),
        "adan-clipped": ("adan", {"max_grad_norm": 0.5, "weight_decay": 0.1}),
        "lamb-coupled": ("lamb", {"weight_decay": 0.1, "weight_decouple": False, "pre_norm": True}),
        "muon-coupled": ("muon", {"weight_decay": 0.1, "weight_decouple": False, "adamw_wd": 0.1}),
    }
    name, kwargs = variants.get(name, (name, {"weight_decay": 0.1}))
    ps = params()
    opt = optim.create(name, ps, **kwargs)
    rng = np.random.default_rng(3)
    for _ in range(4):
        grads = [rng.standard_normal(p.shape) for p in ps]
        for p, g in zip(ps, grads, strict=True):
            p.grad = g
        saved = [g.copy() for g in grads]
        opt.step()
        for g, s in zip(grads, saved, strict=True):
            np.testing.assert_array_equal(g, s)
