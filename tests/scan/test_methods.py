"""The rule for method calls on untyped receivers (`vaeaudit.scan.methods`): which names never resolve."""

from __future__ import annotations

import io

import pytest

from vaeaudit.scan.methods import LIBRARY_METHODS, target_by_name
from vaeaudit.scan.summaries import FileSummary, FunctionSummary, _Index


def test_common_library_names_and_dunders_never_resolve() -> None:
    for name in ("forward", "get", "update", "item", "numpy", "cpu", "detach", "dist", "sample", "fit", "plot", "__call__"):
        assert target_by_name(name) is None, name
    assert target_by_name("embedding") == "*.embedding"


def test_the_list_holds_every_public_method_of_the_installed_libraries() -> None:
    """Regenerate `LIBRARY_METHODS` from `dir()` of these when a library version adds methods."""
    torch = pytest.importorskip("torch")
    numpy = pytest.importorskip("numpy")
    pandas = pytest.importorskip("pandas")
    objects = [torch.Tensor, torch.nn.Module, torch.optim.Optimizer, torch.utils.data.DataLoader, torch.distributions.Distribution]
    objects += [numpy.ndarray, pandas.DataFrame, pandas.Series, dict, list, set, str, bytes, tuple, io.TextIOWrapper]
    public = {f"{kind.__name__}.{name}": name for kind in objects for name in dir(kind) if not name.startswith("_")}
    assert not {method for method, name in public.items() if name not in LIBRARY_METHODS}


def test_a_class_of_an_unanalysed_file_inherits_nothing_by_name() -> None:
    """p-adic-ml: `model.reparameterize(...)` of a `ConditionalBetaVAE` whose file the prefilter skips must not
    resolve to the project's only analysed `reparameterize` (HyperbolicBetaVAE's, returning ball points): the
    skipped class may define its own. A class whose file was analysed and defines none does inherit it."""
    hyperbolic = FileSummary("hyperbolic_vae", {"HyperbolicBetaVAE.reparameterize": FunctionSummary(("mu", "logvar"))})
    flat = FileSummary("beta_vae")  # not analysed: its functions are unknown
    subclass = FileSummary("tuned_vae", {"TunedVAE.__init__": FunctionSummary(())})
    index = _Index({"hyperbolic_vae.py": hyperbolic, "beta_vae.py": flat, "tuned_vae.py": subclass})
    assert index.function("beta_vae.ConditionalBetaVAE.reparameterize") is None
    assert index.function("tuned_vae.TunedVAE.reparameterize") == ("hyperbolic_vae.py", "HyperbolicBetaVAE.reparameterize")
