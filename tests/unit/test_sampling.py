"""The shared sampler: every row follows its own temperature, top-k and top-p."""

import torch

from genserve.engines.sampling import sample

VOCAB = 1000


def _logits(rows: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(rows, VOCAB, generator=torch.Generator().manual_seed(seed)) * 3


def _draws(logits, temperature, top_k, top_p, n=300):
    rows = logits.shape[0]
    g = torch.Generator().manual_seed(1)
    args = (torch.tensor(temperature), torch.tensor(top_k), torch.tensor(top_p))
    assert all(len(a) == rows for a in args)
    return torch.stack([sample(logits, *args, generator=g) for _ in range(n)], dim=1)  # [rows, n]


def test_each_row_keeps_to_its_own_top_k_and_greedy_rows_take_the_argmax():
    logits = _logits(4)
    draws = _draws(logits, [1.0, 0.0, 1.0, 2.0], [5, 0, 1, 50], [1.0, 1.0, 1.0, 1.0])
    top = logits.argsort(-1, descending=True)
    assert set(draws[0].tolist()) <= set(top[0, :5].tolist())
    assert len(set(draws[0].tolist())) > 1  # row 0 still samples
    assert set(draws[1].tolist()) == {int(top[1, 0])}  # temperature 0
    assert set(draws[2].tolist()) == {int(top[2, 0])}  # top-k 1
    assert set(draws[3].tolist()) <= set(top[3, :50].tolist())
    assert len(set(draws[3].tolist())) > 5


def test_top_p_keeps_the_smallest_set_that_reaches_the_mass():
    logits = torch.full((2, VOCAB), -20.0)
    logits[:, :3] = torch.tensor([2.0, 1.0, 0.0])  # probabilities ≈ 0.665, 0.245, 0.090
    draws = _draws(logits, [1.0, 1.0], [0, 0], [0.5, 0.8])
    assert set(draws[0].tolist()) == {0}  # the first token alone reaches 0.5
    assert set(draws[1].tolist()) == {0, 1}  # 0.665 < 0.8 ≤ 0.91


def test_no_limits_samples_the_whole_distribution_and_temperature_sharpens_it():
    logits = torch.zeros(2, VOCAB)
    logits[:, 0] = 2.0
    draws = _draws(logits, [1.0, 0.05], [0, 0], [1.0, 1.0], n=400)
    assert len(set(draws[0].tolist())) > 100  # most of the mass is spread over the other 999 ids
    assert set(draws[1].tolist()) == {0}  # at temperature 0.05 the 2.0 gap is 40 nats


def test_a_generator_makes_the_draws_repeat():
    logits = _logits(3)
    args = (torch.tensor([1.0] * 3), torch.tensor([0] * 3), torch.tensor([0.95] * 3))
    first = [sample(logits, *args, generator=torch.Generator().manual_seed(7)) for _ in range(2)]
    assert torch.equal(first[0], first[1])
