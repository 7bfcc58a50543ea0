"""GECCO, its complete-graph variant and the Enhanced GECCO; the batch-dependence audit."""
from __future__ import annotations

import pytest
import torch

from mnistlib.data import Split
from mnistlib.training.evaluate import batch_dependence_audit
from mnistlib.models import count_params, get_model
from mnistlib.models.gecco import (GECCO, complete_edge_index, gated_conv_dense, gated_conv_self_loops,
                                   published_edge_index)


@pytest.mark.parametrize("name, expected", [("gecco", 67_338), ("gecco_complete", 67_338),
                                            ("gecco_enhanced", 68_394)])
def test_exact_parameter_counts(name, expected):
    assert count_params(get_model(name)) == expected


@pytest.mark.parametrize("features", [32, 64, 128])
def test_parameter_formula(features):
    # Att 785F + graph conv 4F^2 + 4F + BN 2F + head 5F + 10; at F = 32 that is 29,578 (the notes' 29,642
    # counts GECCO's unused LayerNorm, 2F more).
    assert count_params(get_model("gecco", features=features)) == 4 * features ** 2 + 796 * features + 10


def test_published_edge_index_is_self_loops_repeated_batch_size_times():
    b = 5
    # The published code, literally: a B x B table of 0..B-1, one row, stacked with its flip along dim 0.
    literal = torch.tensor([[i for i in range(b)] for _ in range(b)]).reshape(1, -1)
    literal = torch.cat((literal, torch.flip(literal, [0])), dim=0)
    edges = published_edge_index(b)
    assert torch.equal(edges, literal) and edges.shape == (2, b * b)
    assert torch.equal(edges[0], edges[1])  # every edge is (i, i)
    assert edges[0].bincount().tolist() == [b] * b  # each self-loop B times


def test_complete_edge_index_links_every_pair_once():
    edges = complete_edge_index(4)
    pairs = set(map(tuple, edges.T.tolist()))
    assert len(pairs) == edges.shape[1] == 12 and all(i != j for i, j in pairs)


def test_dense_and_sparse_complete_graph_agree():
    torch.manual_seed(0)
    conv = GECCO(features=32).conv
    x = torch.randn(50, 32)
    sparse = conv(x, complete_edge_index(50))
    assert torch.allclose(gated_conv_dense(conv, x), sparse, atol=1e-5)
    assert torch.allclose(gated_conv_dense(conv, x, chunk_elements=32 * 50 * 7), sparse, atol=1e-5)  # chunked
    dense_model = get_model("gecco_complete", dense=True).eval()
    sparse_model = get_model("gecco_complete", dense=False).eval()
    sparse_model.load_state_dict(dense_model.state_dict())
    images = torch.randn(40, 1, 28, 28)
    assert torch.allclose(dense_model(images), sparse_model(images), atol=1e-5)


def test_published_graph_closed_form_matches_torch_geometric():
    torch.manual_seed(1)
    conv = GECCO(features=16).conv
    x = torch.randn(30, 16)
    assert torch.allclose(gated_conv_self_loops(conv, x), conv(x, published_edge_index(30)), atol=1e-5)


@pytest.mark.parametrize("batch", [64, 1000])
def test_gecco_closed_form_trains_as_torch_geometric_does(batch):
    """Outputs and every gradient of GECCO in training mode (same dropout masks) equal PyG's message passing,
    in float64 (the same function: float32 differs by the rounding of PyG's sum of B messages, ~4e-5 at 1,000)."""
    torch.manual_seed(3)
    images, labels = torch.randn(batch, 1, 28, 28, dtype=torch.float64), torch.randint(0, 10, (batch,))
    closed = get_model("gecco").double()
    pyg = get_model("gecco", dense=False).double()
    pyg.load_state_dict(closed.state_dict())
    results = []
    for model in (closed, pyg):
        torch.manual_seed(4)
        out = model(images)
        torch.nn.functional.cross_entropy(out, labels).backward()
        results.append((out.detach(), {n: p.grad for n, p in model.named_parameters()}))
    (out_a, grads_a), (out_b, grads_b) = results
    assert torch.allclose(out_a, out_b, rtol=1e-10, atol=1e-12)
    for name, grad in grads_a.items():
        assert torch.allclose(grad, grads_b[name], rtol=1e-9, atol=1e-12), name


def test_published_graph_conv_never_mixes_images_but_scales_with_the_batch():
    torch.manual_seed(2)
    conv = GECCO(features=16).conv
    x = torch.randn(8, 16)
    full = conv(x, published_edge_index(8))
    x_changed = x.clone()
    x_changed[1:] = torch.randn(7, 16)
    assert torch.allclose(conv(x_changed, published_edge_index(8))[0], full[0], atol=1e-6)  # no mixing
    assert not torch.allclose(conv(x[:4], published_edge_index(4))[0], full[0], atol=1e-3)  # B matters


def test_enhanced_gecco_follows_listing_1():
    model = get_model("gecco_enhanced")
    assert model.attention_fc.in_features == 32 and model.extra_dropout
    assert model(torch.randn(6, 1, 28, 28)).shape == (6, 10)
    from mnistlib.training.config import resolve_config
    assert resolve_config("gecco_enhanced", "full").weight_decay == 1e-4
    assert resolve_config("gecco", "full").weight_decay == 0.0


def random_split(n=300, seed=0) -> Split:
    g = torch.Generator().manual_seed(seed)
    return Split(torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g))


def test_audit_finds_no_batch_dependence_in_a_cnn():
    torch.manual_seed(0)
    audit = batch_dependence_audit(get_model("shao_cnn"), random_split(), batch_sizes=(1, 16, 300), compositions=3)
    assert audit.changed_count == 0 and audit.changed_fraction == 0.0
    assert len(set(audit.accuracy_by_batch_size.values())) == 1
    assert len(set(audit.composition_accuracies)) == 1


def test_audit_measures_the_batch_dependence_of_gecco():
    torch.manual_seed(0)
    audit = batch_dependence_audit(get_model("gecco"), random_split(), batch_sizes=(1, 16, 300), compositions=3)
    assert audit.changed_count > 0 and audit.n == 300
    assert list(audit.accuracy_by_batch_size) == [1, 16, 300]
    with pytest.raises(ValueError, match="compositions"):
        batch_dependence_audit(get_model("gecco"), random_split(), compositions=1)


def test_odd_feature_count_is_refused():
    with pytest.raises(ValueError, match="even"):
        get_model("gecco", features=33)
