"""Which expressions hold Poincaré-ball points: sources, propagation and sanitizers.

A `Taint` is the claim "this value is a ball point", with a confidence and the chain of
evidence that led to it. `ValueTaint.of` answers that claim for one expression given an
environment of names (built by `vaeaudit.scan.dataflow`, which owns the order of statements):

- sources: calls of configured producers (`exp_map_zero`, geoopt's `expmap0`/`projx`, ...),
  calls of modules whose class is a configured hyperbolic projection, string-keyed reads
  whose key matches a pattern (`outputs["z_A_hyp"]`, `.get("z_hyp")`), names matching a
  pattern (low confidence), annotated/documented parameters (set up by the dataflow), methods
  of a manifold object that return its points (`manifold.random(...)`, `ball.geodesic(...)`)
  unless that object was built as another manifold (`geoopt.Sphere()`, SPD, Lorentz, ...);
- propagation: `.detach() .cpu() .numpy() .clone() .to() .float()` and friends, indexing,
  slicing, `.data`, `torch.cat/stack` of points (literal lists or lists appended to),
  tensor conversions, Euclidean means (a mean of ball points stays inside the ball), dict
  and tuple literals read back by key or position, `F.embedding` rows, returns of project
  functions (`vaeaudit.scan.summaries`), and attributes of instances of project classes
  (`code_emb.emb` where `code_emb = HyperbolicCodeEmbedding(...)` set `self.emb` to ball points);
- sanitizers: `log_map_zero`/`logmap0` and friends return Euclidean tangent vectors, and
  `.grad` is a gradient, never a point.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import libcst as cst

from vaeaudit.scan.artifacts import loaded_path
from vaeaudit.scan.consumers import DECLARING, declared_manifold, is_manifold
from vaeaudit.scan.names import ImportMap, dotted, last_name
from vaeaudit.scan.settings import HIGH, LOW, MEDIUM, Settings
from vaeaudit.scan.vocabulary import PROJECTION_ONTO_THE_BALL

_PROPAGATING_METHODS = frozenset(
    "detach cpu cuda numpy clone to float double half bfloat16 contiguous view view_as reshape reshape_as "
    "squeeze unsqueeze flatten permute transpose t expand expand_as index_select requires_grad_ type type_as "
    "repeat narrow select gather masked_select squeeze_ unsqueeze_ detach_ copy astype tolist "
    "get_vector word_vec".split()  # gensim's keyed vectors: a row of the points
)
# `vectors`: gensim's keyed vectors; `tensor`: the coordinates of a hypll ManifoldTensor
_PROPAGATING_ATTRIBUTES = frozenset({"data", "T", "mT", "real", "values", "vectors", "tensor"})
_GENSIM_MODELS = frozenset({"gensim.models.poincare.PoincareModel", "gensim.models.poincare.PoincareModel.load"})
_GENSIM_VECTORS = frozenset(
    {"gensim.models.poincare.PoincareKeyedVectors.load", "gensim.models.poincare.PoincareKeyedVectors.load_word2vec_format"}
)
# Methods of an `nn.Module` that return the module itself: `Embedding(...).to(device)` is still that instance.
MODULE_SELF_METHODS = frozenset("to cuda cpu float double half bfloat16 train eval requires_grad_ type share_memory".split())
# Wrappers whose call runs the module they wrap (`nn.DataParallel(model)(x)` is `model(x)`; its `.module` is `model`).
_MODULE_WRAPPERS = frozenset(
    {
        "torch.nn.DataParallel",
        "torch.nn.parallel.DataParallel",
        "torch.nn.parallel.DistributedDataParallel",
        "torch.nn.parallel.distributed.DistributedDataParallel",
        "torch.compile",
        "torch.jit.script",
    }
)
# Containers whose call returns what their last module returns: `nn.Sequential(nn.Linear(d, d), ToBall())(x)`.
_MODULE_CHAINS = frozenset({"torch.nn.Sequential"})
# Averages of ball points: still inside the ball (convex), so their norm is a radius too.
_MEANS = frozenset({"torch.mean", "numpy.mean", "numpy.average", "torch.Tensor.mean"})
_COMBINING_FUNCTIONS = frozenset(
    {
        "torch.cat",
        "torch.concat",
        "torch.concatenate",
        "torch.stack",
        "torch.vstack",
        "torch.hstack",
        "numpy.concatenate",
        "numpy.stack",
        "numpy.vstack",
        "numpy.hstack",
    }
)
_CONVERTING_FUNCTIONS = frozenset(
    {
        "torch.as_tensor",
        "torch.tensor",
        "torch.from_numpy",
        "torch.FloatTensor",
        "torch.DoubleTensor",
        "numpy.asarray",
        "numpy.array",
        "numpy.asanyarray",
        "geoopt.ManifoldTensor",  # the data, declared to lie on a manifold
        "geoopt.ManifoldParameter",
        "torch.index_select",  # rows of the table: `torch.index_select(entity_embedding, 0, idx)`
    }
)
# Methods of a manifold object (`manifold.random(10, 2)`, `ball.geodesic(t, x, y)`) that return its points.
_MANIFOLD_PRODUCERS = frozenset("random random_normal random_uniform random_naive wrapped_normal geodesic geodesic_unit origin".split())
# Constructors of manifolds other than the Poincaré ball (geoopt, hypll, hgcn names, and a project's own
# `CustomLorentz`): their points are not ball points.
_OTHER_MANIFOLD = re.compile(
    r"(Sphere|SphereProjection|Stiefel|CanonicalStiefel|EuclideanStiefel|SymmetricPositiveDefinite|SPD|Euclidean|Lorentz|"
    r"Hyperboloid|Product|ProductManifold|Siegel\w*|UpperHalf\w*|BoundedDomain\w*|Grassmann\w*|BirkhoffPolytope)(Exact)?$"
)
# A module of another model of hyperbolic space (MERU's `geometry.lorentz`, `manifolds.hyperboloid`): its maps'
# results are that model's points, whatever the function is called (`lorentz.exp_map0`, `L.expmap0`).
_OTHER_GEOMETRY_MODULE = re.compile(r"lorentz|hyperboloid|spher|klein|minkowski", re.IGNORECASE)


def from_other_geometry(qualified: str | None) -> bool:
    """Whether the imported function `qualified` (`geometry.lorentz.exp_map0`) lives in such a module; not its
    conversions into the ball (`geometry.lorentz.lorentz_to_poincare`)."""
    if qualified is None:
        return False
    module, _, name = qualified.rpartition(".")
    return _OTHER_GEOMETRY_MODULE.search(module) is not None and _INTO_THE_BALL.search(name) is None


_INTO_THE_BALL = re.compile(r"poincar|ball", re.IGNORECASE)


_LOOKUPS = frozenset({"torch.nn.functional.embedding", "torch.embedding"})
# Builtins that hand back the rows (or the tensors) of what they are given: `list(table.parameters())[0]`.
_PASSING_BUILTINS = frozenset({"list", "tuple", "iter", "next"})
# Results that are Euclidean by construction: assigning one to `z_hyp` makes it clean.
_EUCLIDEAN_CONSTRUCTORS = frozenset(
    "zeros ones empty full rand randn randint arange linspace eye zeros_like ones_like empty_like full_like rand_like randn_like".split()
)


@dataclass(frozen=True)
class Step:
    """One piece of evidence; `node` gives its line once positions are known."""

    text: str
    node: cst.CSTNode | None = None


# geoopt's Poincaré-ball classes: their `dist`/`dist0` are the ball's own distances, learnable c included.
BALL_MANIFOLDS = frozenset({"PoincareBall", "PoincareBallExact"})
# κ-stereographic classes: a ball only when k < 0, which only a negative literal `k` tells statically.
STEREOGRAPHIC_MANIFOLDS = frozenset({"Stereographic", "StereographicExact"})


@dataclass(frozen=True)
class Manifold:
    """The manifold object a ball point lies on, so that a fix can call that object's own `dist`/`dist0`.

    `expression` names the object where the point is used (`ball`, `self.manifold`, `code_emb.manifold`);
    on an attribute of an instance (a part `.emb`) it is relative to that instance (`self.manifold`).
    `kind` is the geoopt class, `origin` the step that built it (its node; from another file, its `path:line`).
    `c` is the ball's curvature when its constructor fixes it for good (`literal_curvature`): a property of the
    points, not of a name, so a function they are passed to can use it where the object is out of reach.
    """

    expression: str
    kind: str
    origin: Step
    c: str | None = None

    @staticmethod
    def of_parameter(name: str) -> Manifold:
        """A marker, not an object: "whatever manifold the caller's argument for `name` lies on"
        (a function returning it passes its argument's manifold through; see `passed_parameter`)."""
        return Manifold(f"<{name}>", "", Step(name))

    def passed_parameter(self) -> str | None:
        """The parameter this marker stands for, else None (a real manifold object)."""
        return self.expression[1:-1] if self.expression.startswith("<") else None


# Loss modules whose call is a mean squared error (`criterion = nn.MSELoss(); criterion(a, b)`).
MSE_LOSS_MODULES = frozenset({"torch.nn.MSELoss", "torch.nn.modules.loss.MSELoss"})


@dataclass(frozen=True)
class Taint:
    """A value is a ball point (`kind="point"`), a module that returns them ("projector"), an embedding table
    whose rows are ball points ("table": `vaeaudit.scan.tables`),
    a loss module whose call measures a squared Euclidean distance ("mse-loss"), a dict/tuple or
    project object holding ball points ("container"), or a manifold other than the ball ("other-manifold")."""

    confidence: int
    steps: tuple[Step, ...] = ()
    kind: str = "point"
    # For kind "container": ("key", taint) of dict keys, ("#0", taint) of tuple positions and
    # (".emb", taint) of attributes of an instance of a project class (`self.emb = ManifoldParameter(...)`).
    parts: tuple[tuple[str, Taint], ...] = ()
    # For an instance of a project class: ("local", "Model") or ("external", "pkg.models.Model"), so that
    # `model.encode(z)` reaches the method's summary; its parts are then its ball-point `.attributes`.
    klass: tuple[str, str] | None = None
    # For a point: the manifold object it lies on, when one certain binding tells it; for kind
    # "ball-manifold" (a geoopt ball itself): its class and where it was built (expression "").
    on: Manifold | None = None

    def then(self, step: Step) -> Taint:
        return replace(self, steps=self.steps + (step,))

    def weaker(self, step: Step) -> Taint:
        """One branch only, or a guess: the weakest level (the issue's calibration); a container's parts too."""
        return replace(self, confidence=LOW, steps=self.steps + (step,), parts=tuple((key, part.weaker(step)) for key, part in self.parts))

    def along(self, step: Step) -> Taint:
        """`then` for a point; for a container, each part gets the step (its parts are what findings show)."""
        if self.kind != "container":
            return self.then(step)
        return replace(self, parts=tuple((key, part.along(step)) for key, part in self.parts))

    def at_most(self, confidence: int) -> Taint:
        """The same evidence, no stronger than `confidence` (a type guessed from a method's name), parts too."""
        parts = tuple((key, part.at_most(confidence)) for key, part in self.parts)
        return replace(self, confidence=min(self.confidence, confidence), parts=parts)

    def portable(self) -> Taint:
        """What another scope may keep: a point's manifold is spelled in this scope's names (dropped);
        an instance's parts keep theirs, spelled relative to the instance (`self.manifold`)."""
        if self.is_instance():
            return self
        return replace(self, on=None, parts=tuple((key, part.portable()) for key, part in self.parts))

    def seen_through(self, owner: str) -> Taint:
        """A part of the instance `owner` (`code_emb`) as read there: its manifold `self.manifold` becomes `code_emb.manifold`."""
        if self.on is None or not self.on.expression.startswith("self."):
            return replace(self, on=None)
        return replace(self, on=replace(self.on, expression=owner + self.on.expression[4:]))

    def is_instance(self) -> bool:
        """A project object known by its attributes (every part an `.attribute`)."""
        return self.kind == "container" and (self.klass is not None or all(key.startswith(".") for key, _ in self.parts))

    def part(self, key: str) -> Taint | None:
        """The part at `key`, else the part every key holds (EVERY_KEY), if any."""
        every = None
        for name, taint in self.parts:
            if name == key:
                return taint
            if name == EVERY_KEY:
                every = taint
        return every


Env = dict[str, "Taint | None"]
_STATE_KEY = re.compile(r"[A-Za-z_]\w*(\.\w+)+")  # `lt.weight`, `module.encoder.0.weight`
EVERY_KEY = "*"  # the part of a container whose values all come from one site (`store[name] = f(x)` in a loop)
# Names that say hyperbolic but hold a number about points, not points (`hyp_dists`, `hyp_loss`, `d_hyp`).
MEASUREMENT_NAME = re.compile(
    r"dist|loss|radi|norm|score|sim|err|acc|metric|energy|curv|weight|grad|lr(?![a-z])|(?<![a-z])(c|k|d|eps)(?![a-z])", re.IGNORECASE
)


# Calls that measure points (`self.manifold.dist_mat(z)`, `compute_loss(...)`): what they return is a number about points,
# whatever name it is bound to (`hyp = ball.dist_mat(z)` holds distances).
_MEASURING_CALL = re.compile(r"dist|loss|radi|score|norm(?!al)|similar", re.IGNORECASE)


def join(first: Taint, second: Taint, step: Step) -> Taint:
    """What a value is when two paths give it different taints: the weaker one, or, for instances
    of two classes (`EuclideanEmbedding(...) if flat else HyperbolicEmbedding(...)`), the one with
    ball-point attributes on some paths only."""
    if first.klass != second.klass:
        return (first if len(first.parts) >= len(second.parts) else second).weaker(step)
    weaker = first if first.confidence <= second.confidence else second
    return weaker if first.on == second.on else replace(weaker, on=None)


def point(confidence: int, text: str, node: cst.CSTNode | None) -> Taint:
    return Taint(confidence, (Step(text, node),))


class ValueTaint:
    """Evaluates expressions against an environment of names (see module docstring)."""

    def __init__(
        self,
        settings: Settings,
        imports: ImportMap,
        code: Callable[[cst.CSTNode], str],
        returns: Returns | None = None,
        returns_tuple: Callable[[cst.Call, Env], bool] | None = None,
    ) -> None:
        self.imports = imports
        self.code = code
        self.returns = returns or (lambda call, env: None)
        self.returns_tuple = returns_tuple or (lambda call, env: False)  # a project function that returns tuples
        self.producers = frozenset(settings.producers)
        self.sanitizers = frozenset(settings.sanitizers)
        self.projection_classes = frozenset(settings.projection_classes)
        self.name_patterns = [re.compile(p, re.IGNORECASE) for p in settings.name_patterns]
        self.key_patterns = [re.compile(p, re.IGNORECASE) for p in settings.key_patterns]
        self.euclidean_patterns = [re.compile(p, re.IGNORECASE) for p in settings.euclidean_patterns]
        self.dotted_keys: set[str] = set()  # `state["lt.weight"]`: keys that may name a saved module's parameter
        self.state_keys: dict[str, Taint] = {}  # such keys that name a ball parameter of the project (project-wide)
        self.opened: dict[str, str] = {}  # name -> the artifact path it was opened from (`with open("e.pkl") as f`)
        self.artifacts_read: set[str] = set()  # the artifacts (`vaeaudit.scan.artifacts`) this file loads
        self.artifact_facts: dict[str, Taint] = {}  # such artifacts that another file proves to hold ball points
        # What a name's words say, by name: the patterns are searched ~10 times per name read, and names repeat.
        self._euclidean_names: dict[str, bool] = {}
        self._hyperbolic_names: dict[str, bool] = {}

    # -- names and keys -------------------------------------------------------------------

    def is_sanitizer(self, name: str | None) -> bool:
        """A log map and friends, also as a class's private helper (`self._logmap0(x)`: H2CL's Grad-CAM)."""
        return name is not None and (name in self.sanitizers or name.lstrip("_") in self.sanitizers)

    def is_euclidean_name(self, name: str) -> bool:
        said = self._euclidean_names.get(name)
        if said is None:
            said = self._euclidean_names[name] = any(pattern.search(name) for pattern in self.euclidean_patterns)
        return said

    def name_taint(self, name: str, node: cst.CSTNode | None) -> Taint | None:
        """Low-confidence taint for a name like `z_hyp`; None for `z` or `z_hyp_euc`."""
        short = name.rpartition(".")[2]
        says = self._hyperbolic_names.get(short)
        if says is None:
            says = self._hyperbolic_names[short] = not (
                self.is_euclidean_name(short)
                or MEASUREMENT_NAME.search(short)
                or not any(pattern.search(short) for pattern in self.name_patterns)
            )
        return Taint(MEDIUM, (Step(f"{name}: the name says hyperbolic", node),)) if says else None

    def key_taint(self, key: str) -> Taint | None:
        if key in self.state_keys:
            return self.state_keys[key]
        if self.is_euclidean_name(key) or MEASUREMENT_NAME.search(key) or not any(pattern.search(key) for pattern in self.key_patterns):
            return None
        return Taint(MEDIUM)

    def lookup(self, env: Env, key: str, node: cst.CSTNode | None) -> Taint | None:
        """The reaching definition of `key`, or what its name says when nothing reaches."""
        if key in env:
            return env[key]
        return self.name_taint(key, node)

    # -- expressions ----------------------------------------------------------------------

    def of(self, node: cst.BaseExpression, env: Env) -> Taint | None:
        """The taint of `node`'s value; None for values not known to be ball points."""
        if isinstance(node, cst.Name):
            return self.lookup(env, node.value, node)
        if isinstance(node, cst.Attribute):
            return self._attribute(node, env)
        if isinstance(node, cst.Subscript):
            return self._subscript(node, env)
        if isinstance(node, cst.Call):
            return self._call(node, env)
        if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            # `[model.kv[n] for n in nodes]`: a collection of ball points when its element is one (the loop
            # targets shadow outer names: nothing is known of them here)
            shadowed = _comprehension_targets(node)
            inner = {key: value for key, value in env.items() if key.partition(".")[0] not in shadowed}
            element = self.of(node.elt, inner)
            return element if element is not None and element.kind == "point" else None
        if isinstance(node, cst.IfExp):
            body, orelse = self.of(node.body, env), self.of(node.orelse, env)
            if body and orelse:
                return join(body, orelse, Step(f"`{self.short(node)}` is an instance of another class on some paths", node))
            either = body or orelse
            return either.weaker(Step(f"only one branch of `{self.short(node)}` is hyperbolic", node)) if either else None
        if isinstance(node, cst.Dict):
            return self._container(
                ((_literal_string(element.key), element.value) for element in node.elements if isinstance(element, cst.DictElement)),
                env,
                node,
            )
        if isinstance(node, (cst.Tuple, cst.List)) and not any(isinstance(element, cst.StarredElement) for element in node.elements):
            parts = [(f"#{index}", element.value) for index, element in enumerate(node.elements)]
            container = self._container(parts, env, node)
            if container is not None and isinstance(node, cst.List):
                # a list of points is also a batch of points (`torch.tensor([z1, z2])`)
                first = container.parts[0][1]
                return Taint(first.confidence, first.steps, "container", container.parts)
            return container
        return None

    def _container(self, items, env: Env, node: cst.CSTNode) -> Taint | None:
        """A dict/tuple literal holding ball points: each part keeps its own evidence."""
        parts = []
        for key, value in items:
            if key is None:
                continue
            taint = self.of(value, env)
            if taint is not None and taint.kind in ("point", "container"):
                parts.append((key, taint))
        if not parts:
            return None
        return Taint(min(taint.confidence for _, taint in parts), (), "container", tuple(parts))

    def point_of(self, node: cst.BaseExpression, env: Env) -> Taint | None:
        """The taint of `node` when it holds ball points (a list literal of points counts)."""
        taint = self.of(node, env)
        if taint is None:
            return None
        if taint.kind == "point" or (taint.kind == "container" and isinstance(node, cst.List)):
            return taint
        return None

    def is_known_euclidean(self, node: cst.BaseExpression | None) -> bool:
        """Values that are not ball points whatever name they get (sanitizer outputs, constructors, numbers, the
        maps of a Lorentz module: `x_hyp = lorentz.exp_map0(u)`, measurements: `hyp = ball.dist_mat(z)`)."""
        if node is None:
            return False
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString)):
            return True
        if isinstance(node, cst.Call):
            name = last_name(node.func)
            return (
                self.is_sanitizer(name)
                or name in _EUCLIDEAN_CONSTRUCTORS
                or from_other_geometry(self.imports.qualify(node.func))
                or (name is not None and _MEASURING_CALL.search(name) is not None)
            )
        key = string_key(node) if isinstance(node, cst.Subscript) else None
        return key is not None and self.is_euclidean_name(key)

    def carrier(self, node: cst.BaseExpression) -> str | None:
        """The name whose values `node` views, converts or indexes: `grid` for `torch.from_numpy(grid).float()`,
        `emb` for `emb[i].unsqueeze(0)`. A ball point there means the name holds ball points."""
        while True:
            key = dotted(node)
            while key is not None and key.rpartition(".")[2] in _PROPAGATING_ATTRIBUTES and "." in key:
                key = key.rpartition(".")[0]  # `emb.tensor`, `x.data`: the coordinates of what `emb` holds
            if key is not None:
                return key
            if isinstance(node, cst.Subscript):
                node = node.value
            elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _PROPAGATING_METHODS:
                node = node.func.value
            elif isinstance(node, cst.Call) and node.args and self.imports.qualify(node.func) in _CONVERTING_FUNCTIONS:
                node = node.args[0].value
            else:
                return None

    def short(self, node: cst.CSTNode, limit: int = 60) -> str:
        text = " ".join(self.code(node).split())
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def _attribute(self, node: cst.Attribute, env: Env) -> Taint | None:
        key = dotted(node)
        if key is not None and key in env:
            return env[key]
        attribute = node.attr.value
        base = self.of(node.value, env)
        if attribute in _PROPAGATING_ATTRIBUTES and (base is None or not base.is_instance()):
            return base  # `z.data`, `emb.tensor`: the same points (a project object's own `.tensor` is its part, below)
        if base is not None and base.kind == "table" and attribute == "weight":
            return Taint(base.confidence, base.steps)
        instance, path = node.value, f".{attribute}"
        if base is None and isinstance(instance, cst.Attribute) and isinstance(instance.value, cst.Name):
            # `model.lt.weight`: a table's weight, across files (from a name only: a lookup, never a second walk)
            base, path, instance = self.of(instance.value, env), f".{instance.attr.value}{path}", instance.value
        if base is not None and base.kind == "container":
            part = base.part(path)  # `code_emb.emb` of `code_emb = HyperbolicCodeEmbedding(...)`
            if part is not None:
                owner = dotted(instance)
                part = part.seen_through(owner) if owner is not None else replace(part, on=None)
                return part.then(Step(f"{self.short(node)}: attribute of {self.short(instance, 30)}", node))
        if attribute == "module" and base is not None and base.is_instance():
            return base  # `model.module` of `model = nn.DataParallel(Encoder())`: the wrapped instance
        if key is None:
            return None
        return self.name_taint(key, node)

    def _subscript(self, node: cst.Subscript, env: Env) -> Taint | None:
        key = string_key(node)
        if key is not None and _STATE_KEY.fullmatch(key):
            self.dotted_keys.add(key)
        if key is None:
            index = _integer_index(node)
            key = f"#{index}" if index is not None else None
        base = self.of(node.value, env)
        if base is not None and base.kind == "container":
            part = base.part(key if key is not None else EVERY_KEY)
            if part is not None:
                return part
        if key is not None and not key.startswith("#"):
            return self.key_taint(key)
        return base if base is not None and base.kind == "point" else None

    def ball_manifold(self, call: cst.Call) -> Taint | None:
        """`geoopt.PoincareBall(c=...)` (or a κ-stereographic manifold with a negative literal k): a ball object."""
        qualified = self.imports.qualify(call.func) or ""
        kind = qualified.rpartition(".")[2]
        if not qualified.startswith("geoopt.") or kind not in BALL_MANIFOLDS | STEREOGRAPHIC_MANIFOLDS:
            return None
        if kind in STEREOGRAPHIC_MANIFOLDS and not negative_k(call):
            return None  # the sign of k is unknown: maybe a sphere
        return Taint(HIGH, kind="ball-manifold", on=Manifold("", kind, Step(kind, call), literal_curvature(call, kind)))

    def gensim_poincare(self, call: cst.Call) -> Taint | None:
        """gensim's Poincaré embeddings (Nickel & Kiela in the unit ball): a `PoincareModel` whose `.kv` holds
        ball points (`model.kv[node]`, `model.kv.get_vector(node)`, `model.kv.vectors`), or those vectors loaded."""
        qualified = self.imports.qualify(call.func) or ""
        if qualified in _GENSIM_MODELS:
            vectors = Taint(HIGH, (Step(f"{self.short(call, 40)}: gensim's Poincaré model, its .kv vectors lie in the unit ball", call),))
            return Taint(HIGH, kind="container", parts=((".kv", vectors),))
        if qualified in _GENSIM_VECTORS:
            return Taint(HIGH, (Step(f"{self.short(call, 40)}: gensim's Poincaré vectors lie in the unit ball", call),))
        return None

    def annotated_ball(self, param: cst.Param) -> Taint | None:
        """`manifold: geoopt.PoincareBall`: the parameter holds a ball object (a κ-stereographic one may be a sphere);
        `manifold: CustomLorentz` holds another manifold."""
        annotation = _optional_inner(param.annotation.annotation) if param.annotation is not None else None
        qualified = (self.imports.qualify(annotation) if isinstance(annotation, (cst.Name, cst.Attribute)) else None) or ""
        kind = qualified.rpartition(".")[2]
        if kind and _OTHER_MANIFOLD.search(kind):
            return Taint(HIGH, kind="other-manifold")
        if not qualified.startswith("geoopt.") or kind not in BALL_MANIFOLDS:
            return None
        return Taint(HIGH, kind="ball-manifold", on=Manifold("", kind, Step(kind, param)))

    def manifold_of(self, node: cst.BaseExpression | None, env: Env) -> Manifold | None:
        """The ball object `node` names (`ball`, `self.manifold`), as a `Manifold` spelled by that name."""
        expression = dotted(node) if node is not None else None
        taint = self.of(node, env) if node is not None and expression is not None else None
        if taint is None or taint.kind != "ball-manifold" or taint.on is None or expression is None:
            return None
        return replace(taint.on, expression=expression)

    def other_manifold(self, node: cst.BaseExpression, env: Env) -> bool:
        """Whether `node` holds a manifold that is not the ball (`manifold = geoopt.Sphere()`, an instance of the
        project's `class CustomLorentz(Lorentz)`)."""
        taint = self.of(node, env)
        if taint is not None and taint.klass is not None and _OTHER_MANIFOLD.search(taint.klass[1].rpartition(".")[2]):
            return True
        return taint is not None and taint.kind == "other-manifold"

    def _call(self, node: cst.Call, env: Env) -> Taint | None:
        name = self.imports.called_name(node.func)
        if self.is_sanitizer(name):
            return None
        artifact = loaded_path(node, self.imports, self.opened)
        if artifact is not None:
            self.artifacts_read.add(artifact)
            proven = self.artifact_facts.get(artifact)
            if proven is not None:
                return proven.then(Step(f"{self.short(node)} loads {artifact}", node))
        if name is not None and (_OTHER_MANIFOLD.search(name) or _CONVERSION_OUT_OF_THE_BALL.search(name)):
            return Taint(HIGH, kind="other-manifold")
        known = name in self.producers or (name is not None and _CONVERSION_INTO_THE_BALL.search(name) is not None)
        # A name that only says "onto the ball" is evidence by name (medium): a plotting helper's `map_to_ball` too.
        named = not known and name is not None and PROJECTION_ONTO_THE_BALL.search(name) is not None
        producer = known or named
        if producer and not self.returns_tuple(node, env) and not from_other_geometry(self.imports.qualify(node.func)):
            owner = node.func.value if isinstance(node.func, cst.Attribute) else None
            declared = declared_manifold(node, self.imports)
            if name in DECLARING and declared is None:  # `geoopt.ManifoldParameter(x)`: the manifold of x, else Euclidean
                return self.point_of(node.args[0].value, env) if node.args else None
            if any(other is not None and self.other_manifold(other, env) for other in (owner, declared)):
                return None  # `sphere.projx(x)`, `ManifoldParameter(x, manifold=spd)`: points of another manifold
            return Taint(HIGH if known else MEDIUM, on=self.manifold_of(declared if declared is not None else owner, env))
        ball = self.ball_manifold(node)
        if ball is not None:
            return ball
        trained = self.gensim_poincare(node)
        if trained is not None:
            return trained
        if (
            name in _MANIFOLD_PRODUCERS
            and isinstance(node.func, cst.Attribute)
            and is_manifold(node.func.value)
            and not self.other_manifold(node.func.value, env)
        ):
            return Taint(
                HIGH, (Step(f"{self.short(node)} returns points of the manifold", node),), on=self.manifold_of(node.func.value, env)
            )
        if name in self.projection_classes:
            return Taint(HIGH, kind="projector")
        if self.imports.qualify(node.func) in MSE_LOSS_MODULES:
            return Taint(HIGH, kind="mse-loss")
        if isinstance(node.func, cst.Attribute):
            receiver = self.of(node.func.value, env)
            if receiver is not None and receiver.kind == "point" and name in _PROPAGATING_METHODS:
                return receiver
            if receiver is not None and receiver.is_instance() and name in MODULE_SELF_METHODS:
                return receiver
            if receiver is not None and receiver.kind == "table" and name == "parameters":  # an embedding's only parameter
                return Taint(receiver.confidence, receiver.steps)
            if receiver is not None and receiver.kind == "point" and name == "mean" and not _over_coordinates(node, 0):
                return _mean_of(receiver, Step(f"{self.short(node)}: a Euclidean mean of ball points stays in the ball", node))
            if name == "get" and node.args:
                key = _literal_string(node.args[0].value)
                if key is not None:
                    return self.key_taint(key)
        callee = dotted(node.func)
        module = env.get(callee) if callee is not None else None
        if module is not None and module.kind in ("projector", "table"):  # a table's call looks rows up
            return Taint(module.confidence, module.steps)
        if isinstance(node.func, cst.Name) and node.func.value in _PASSING_BUILTINS and node.args and callee not in env:
            return self.point_of(node.args[0].value, env)
        qualified = self.imports.qualify(node.func)
        if qualified in _COMBINING_FUNCTIONS and node.args:
            parts = node.args[0].value
            if isinstance(parts, (cst.List, cst.Tuple)):
                points = [
                    taint for element in parts.elements if (taint := self.of(element.value, env)) is not None and taint.kind == "point"
                ]
                if not points:
                    return None
                return points[0] if all(taint.on == points[0].on for taint in points) else replace(points[0], on=None)
            return self.point_of(parts, env)
        if qualified in _MODULE_WRAPPERS or qualified in _MODULE_CHAINS:
            modules = [argument.value for argument in node.args if argument.keyword is None and not argument.star]
            wrapped = self.of(modules[-1 if qualified in _MODULE_CHAINS else 0], env) if modules else None
            return wrapped if wrapped is not None and (wrapped.is_instance() or wrapped.kind == "projector") else None
        if qualified in _LOOKUPS and len(node.args) > 1:  # `F.embedding(idx, points)`: rows of the table
            return self.point_of(node.args[1].value, env)
        if qualified in _CONVERTING_FUNCTIONS and node.args:
            return self.point_of(node.args[0].value, env)
        if qualified in _MEANS and node.args and not _over_coordinates(node, 1):
            inner = self.point_of(node.args[0].value, env)
            return _mean_of(inner, Step(f"{self.short(node)}: a Euclidean mean of ball points stays in the ball", node)) if inner else None
        return self.returns(node, env)


Returns = Callable[[cst.Call, Env], "Taint | None"]


# `lorentz_to_poincare`, `hyperboloid_to_ball`, `loid2poincare`: a conversion from another model of hyperbolic space
# into the ball is a producer by its name (high); a name that only says "onto the ball" (`map_to_ball`, a plotting
# helper's too) is evidence by name (`PROJECTION_ONTO_THE_BALL`, medium).
_CONVERSION_INTO_THE_BALL = re.compile(r"(?:lorentz|hyperboloid|loid|klein|minkowski)_?(?:to_|2)(?:poincare|ball)$", re.IGNORECASE)
# `_to_hyperboloid`, `poincare_to_lorentz`, `ball2klein`: points lifted out of the ball into another model, whatever
# the name they are bound to says (`sub_hyp = self._to_hyperboloid(x)` holds hyperboloid coordinates).
_CONVERSION_OUT_OF_THE_BALL = re.compile(r"(?:^|_|2)(?:to_|into_|onto_)?(?:hyperboloid|lorentz(?:ian)?|loid|klein)$", re.IGNORECASE)


def _optional_inner(annotation: cst.BaseExpression) -> cst.BaseExpression:
    """`X` of `Optional[X]`, `Union[X, None]` and `X | None`; anything else as it is."""
    if isinstance(annotation, cst.Subscript) and last_name(annotation.value) in ("Optional", "Union"):
        inner = [element.slice.value for element in annotation.slice if isinstance(element.slice, cst.Index)]
        named = [node for node in inner if not (isinstance(node, cst.Name) and node.value == "None")]
        return named[0] if len(named) == 1 else annotation
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        sides = [side for side in (annotation.left, annotation.right) if not (isinstance(side, cst.Name) and side.value == "None")]
        return sides[0] if len(sides) == 1 else annotation
    return annotation


def _mean_of(points: Taint, step: Step) -> Taint:
    """A Euclidean mean of ball points is a ball point, at most medium: its norm measures how far the cloud sits
    off the origin (a centring or collinearity diagnostic as often as a radius)."""
    return points.then(step).at_most(MEDIUM)


def _over_coordinates(mean: cst.Call, position: int) -> bool:
    """A mean over the last axis (`z.mean(dim=-1)`, `np.mean(z, axis=-1)`) averages each point's coordinates:
    a number per point, not a point. `position`: where `dim` stands among the positional arguments."""
    positional = [argument for argument in mean.args if argument.keyword is None and not argument.star]
    axis = next((a.value for a in mean.args if a.keyword is not None and a.keyword.value in ("dim", "axis")), None)
    if axis is None and len(positional) > position:
        axis = positional[position].value
    return (
        isinstance(axis, cst.UnaryOperation)
        and isinstance(axis.operator, cst.Minus)
        and isinstance(axis.expression, cst.Integer)
        and axis.expression.value == "1"
    )


def negative_k(call: cst.Call) -> bool:
    """`Stereographic(k=-1.0)`: a κ-stereographic manifold whose literal k < 0 says it is a ball (k > 0 is a sphere)."""
    k = next((arg.value for arg in call.args if arg.keyword is None or arg.keyword.value == "k"), None)
    return (
        isinstance(k, cst.UnaryOperation)
        and isinstance(k.operator, cst.Minus)
        and isinstance(k.expression, (cst.Integer, cst.Float))
        and float(k.expression.value.replace("_", "")) > 0
    )


def literal_curvature(call: cst.Call, kind: str) -> str | None:
    """The c of a geoopt ball its constructor fixes: `PoincareBall(c=0.5)`, `PoincareBall()` (geoopt's default
    c = 1.0), `Stereographic(k=-2)` (c = -k); None for a runtime value or a learnable c (training moves it)."""
    if any(arg.star for arg in call.args):
        return None
    positional = [arg.value for arg in call.args if arg.keyword is None]
    keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
    learnable = keywords.get("learnable", positional[1] if len(positional) > 1 else None)
    if learnable is not None and not (isinstance(learnable, cst.Name) and learnable.value == "False"):
        return None
    name = "k" if kind in STEREOGRAPHIC_MANIFOLDS else "c"
    value = keywords.get(name, positional[0] if positional else None)
    if value is None:
        return "1.0" if name == "c" else None
    if name == "k":
        if not (isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus)):
            return None
        value = value.expression
    if not isinstance(value, (cst.Integer, cst.Float)):
        return None
    number = float(value.evaluated_value)
    return repr(number) if 0 < number < float("inf") else None


def _integer_index(node: cst.Subscript) -> int | None:
    """The position of `x[1]` (for tuples read back by position), else None."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    value = node.slice[0].slice.value
    return int(value.value) if isinstance(value, cst.Integer) and value.value.isdigit() else None


def _literal_string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _comprehension_targets(node: cst.ListComp | cst.GeneratorExp | cst.SetComp) -> set[str]:
    names: set[str] = set()
    clause: cst.CompFor | None = node.for_in
    while clause is not None:
        stack: list[cst.CSTNode] = [clause.target]
        while stack:
            target = stack.pop()
            if isinstance(target, cst.Name):
                names.add(target.value)
            elif isinstance(target, (cst.Tuple, cst.List)):
                stack.extend(element.value for element in target.elements)
            elif isinstance(target, cst.StarredElement):
                stack.append(target.value)
        clause = clause.inner_for_in
    return names


def string_key(node: cst.Subscript) -> str | None:
    """The key of `x["key"]`, else None."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return _literal_string(node.slice[0].slice.value)
