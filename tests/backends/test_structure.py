"""Structural parity: both backends render every component the plan lists, attribute every
resource to the component it was rendered for, and render each component with the key
properties the plan gives it (expected.py), read from each output (rendered.py).

No property is read from one backend to judge the other: each is held to the plan, so a
component one backend renders differently, twice, or not at all fails on that backend (and
a value both get wrong the same way fails on both).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from expected import EXPECT, expected, peering
from outputs import SPECS, VARIANTS, Built
from rendered import (
    CFN,
    CFN_STRUCTURE,
    TF,
    TF_STRUCTURE,
    Found,
    Resource,
    cloudformation,
    terraform,
)

from replgen.backends.cloudformation import NOT_RENDERED as CFN_NOT_RENDERED
from replgen.backends.provenance import Origin
from replgen.plan import model
from replgen.plan.components import listed
from replgen.plan.model import Plan, Site

NAMES = [s.stem for s in SPECS] + list(VARIANTS)
_READ: dict[str, dict[str, list[Resource]]] = {}


def _resources(
    both: dict[str, Path], built: dict[str, Built], spec: str
) -> dict[str, list[Resource]]:
    """Each backend's resources for `spec`, read once per session."""
    if spec not in _READ:
        root, provenance = both[spec], built[spec].provenance
        _READ[spec] = {
            "cloudformation": cloudformation(root / "cloudformation", provenance["cloudformation"]),
            "cdktf": terraform(root / "cdktf", provenance["cdktf"]),
        }
    return _READ[spec]


def _not_rendered(backend: str) -> dict[type, str]:
    if backend == "cloudformation":
        return CFN_NOT_RENDERED
    from replgen.backends.cdktf.app import NOT_RENDERED  # loaded by the session's compile

    return NOT_RENDERED


def _alone(resources: list[Resource]) -> dict[Origin, list[Resource]]:
    """Resources by the one component they were rendered for (shared ones left out)."""
    found: dict[Origin, list[Resource]] = {}
    for r in resources:
        if r.origin is not None and len(r.origin.keys) == 1:
            found.setdefault(r.origin, []).append(r)
    return found


def _components(plan: Plan, backend: str) -> dict[Origin, tuple[object, Site]]:
    """Origin -> (component, its site) for every component the backend renders."""
    skipped = _not_rendered(backend)
    return {
        Origin(site.id, (key,)): (component, site)
        for site in plan.sites
        for key, component in listed(site)
        if type(component) not in skipped
    }


@pytest.mark.parametrize("spec", NAMES)
def test_every_resource_is_rendered_for_a_component_of_the_plan(
    both: dict[str, Path], built: dict[str, Built], spec: str
) -> None:
    plan = built[spec].plan
    keys: dict[str | None, set[str]] = {s.id: {k for k, _ in listed(s)} for s in plan.sites}
    keys[None] = {f"peering:{p.id}" for p in plan.peerings}
    keys[None] |= {f"bootstrap:{b.slug}" for b in plan.bootstrap}
    for backend, resources in _resources(both, built, spec).items():
        orphans = [f"{r.file}: {r.address}" for r in resources if r.origin is None]
        assert not orphans, f"{backend} renders these for no component: {orphans}"
        origins = {r.origin for r in resources if r.origin is not None}
        strays = {o for o in origins if not o.keys or not set(o.keys) <= keys[o.site]}
        assert not strays, f"{backend} attributes resources to no component of the plan: {strays}"
        recorded = sum(len(p) for p in built[spec].provenance[backend].values())
        assert recorded == len(resources), f"{backend} records resources its files do not hold"


@pytest.mark.parametrize("spec", NAMES)
def test_every_component_of_the_plan_is_rendered_by_each_backend(
    both: dict[str, Path], built: dict[str, Built], spec: str
) -> None:
    plan = built[spec].plan
    for backend, resources in _resources(both, built, spec).items():
        rendered = set(_alone(resources))
        wanted = set(_components(plan, backend))
        missing = sorted(wanted - rendered)
        assert not missing, f"{backend} renders nothing of its own for {missing}"
        skipped = {
            Origin(site.id, (key,))
            for site in plan.sites
            for key, component in listed(site)
            if type(component) in _not_rendered(backend)
        }
        assert not skipped & {r.origin for r in resources}, (
            f"{backend} renders what it says it does not"
        )
        peerings = {Origin(None, (f"peering:{p.id}",)) for p in plan.peerings}
        assert peerings <= rendered, f"{backend} renders no {sorted(peerings - rendered)}"


@pytest.mark.parametrize("spec", NAMES)
def test_both_backends_render_the_same_components(
    both: dict[str, Path], built: dict[str, Built], spec: str
) -> None:
    read = _resources(both, built, spec)
    skipped = {*_not_rendered("cloudformation"), *_not_rendered("cdktf")}
    plan = built[spec].plan
    kinds = {Origin(s.id, (k,)): type(c) for s in plan.sites for k, c in listed(s)}

    def components(backend: str) -> set[Origin]:
        # Bootstraps are CloudFormation stacks for both (`replgen bootstrap`), not compared.
        found = {o for o in _alone(read[backend]) if kinds.get(o) not in skipped}
        return {o for o in found if not o.keys[0].startswith("bootstrap:")}

    cfn, tf = components("cloudformation"), components("cdktf")
    assert cfn == tf, f"only CloudFormation: {sorted(cfn - tf)}; only CDKTF: {sorted(tf - cfn)}"


def _found(resources: list[Resource], categories: set[str]) -> Counter[Found]:
    return Counter(f for r in resources for f in r.found if f[0] in categories)


def _compare(backend: str, origin: Origin, want: Counter[Found], got: list[Resource]) -> str:
    have = _found(got, {category for category, _ in want})
    if have == want:
        return ""
    return (
        f"{backend} {origin}: missing {sorted(want - have, key=repr)}, "
        f"unexpected {sorted(have - want, key=repr)}"
    )


@pytest.mark.parametrize("spec", NAMES)
def test_each_component_has_the_key_properties_the_plan_gives_it(
    both: dict[str, Path], built: dict[str, Built], spec: str
) -> None:
    plan = built[spec].plan
    wrong = []
    for backend, resources in _resources(both, built, spec).items():
        alone = _alone(resources)
        for origin, (component, site) in _components(plan, backend).items():
            want = expected(component, site)
            wrong.append(_compare(backend, origin, want, alone.get(origin, [])))
        for p in plan.peerings:
            origin = Origin(None, (f"peering:{p.id}",))
            wrong.append(_compare(backend, origin, peering(p), alone.get(origin, [])))
    wrong = [w for w in wrong if w]
    assert not wrong, "\n".join(wrong)


# The helpers a backend deploys for what its language cannot do, in categories the plan does
# not list for them: CloudFormation writes SecureStrings, invokes functions at deploy time
# and empties a destroyable stack through functions of its own (their role and queue).
HELPED = (model.ParameterWriter, model.Invoker, model.Emptier)


@pytest.mark.parametrize("spec", NAMES)
def test_nothing_is_rendered_beyond_what_the_plan_lists(
    both: dict[str, Path], built: dict[str, Built], spec: str
) -> None:
    """Over each whole output, every category read holds exactly what the components'
    expectations add up to: an extra resource fails wherever it is attributed."""
    plan = built[spec].plan
    for backend, resources in _resources(both, built, spec).items():
        want: Counter[Found] = Counter()
        listed_here = _components(plan, backend)
        for component, site in listed_here.values():
            want += expected(component, site)
        for p in plan.peerings:
            want += peering(p)
        kinds = {o: type(c) for o, (c, _) in listed_here.items()}
        have: Counter[Found] = Counter()
        for r in resources:
            assert r.origin is not None
            if r.origin.keys[0].startswith("bootstrap:"):
                continue  # deployment machinery, not the topology (`replgen bootstrap`)
            origins = [Origin(r.origin.site, (key,)) for key in r.origin.keys]
            helped = all(kinds.get(o) in HELPED for o in origins)
            listed_categories = {
                c for o in origins if o in listed_here for c, _ in expected(*listed_here[o])
            }
            have += Counter(f for f in r.found if not helped or f[0] in listed_categories)
        assert have == want, (
            f"{backend}: beyond the plan {sorted(have - want, key=repr)}, "
            f"missing {sorted(want - have, key=repr)}"
        )


def test_every_resource_type_is_read_or_declared_structure(
    both: dict[str, Path], built: dict[str, Built]
) -> None:
    """A type neither read nor declared would be attributed and never compared."""
    known = {"cloudformation": {*CFN, *CFN_STRUCTURE}, "cdktf": {*TF, *TF_STRUCTURE}}
    seen: dict[str, set[str]] = {backend: set() for backend in known}
    for spec in NAMES:
        for backend, resources in _resources(both, built, spec).items():
            unknown = sorted({r.type for r in resources} - known[backend])
            assert not unknown, f"{spec}: {backend} renders {unknown}, neither read nor declared"
            seen[backend] |= {r.type for r in resources}
    for backend, types in known.items():
        assert types <= seen[backend], f"{backend}: no output has {sorted(types - seen[backend])}"


def test_every_property_read_is_compared(both: dict[str, Path], built: dict[str, Built]) -> None:
    """A category the readers find that no expectation names would be compared nowhere."""
    compared: set[str] = set()
    found: set[str] = set()
    for spec in NAMES:
        plan = built[spec].plan
        for site in plan.sites:
            compared |= {c for _, component in listed(site) for c, _ in expected(component, site)}
        compared |= {c for p in plan.peerings for c, _ in peering(p)}
        for resources in _resources(both, built, spec).values():
            found |= {c for r in resources for c, _ in r.found}
    assert found <= compared, f"read but never compared: {sorted(found - compared)}"
    assert set(EXPECT) == {type(c) for s in built["dr"].plan.sites for _, c in listed(s)} | {
        type(c) for s in built["prod"].plan.sites for _, c in listed(s)
    }, "a kind of component no example spec has is held to nothing"


def test_the_single_template_attributes_every_resource_too() -> None:
    """`--layout single` renders every site into one template, the same windows apply."""
    from cfn_templates import ARTIFACTS
    from test_cfn_network import SINGLE

    from replgen.backends import Options
    from replgen.backends.cloudformation import BACKEND
    from replgen.plan.build import build
    from replgen.spec.load import validate
    from replgen.spec.source import parse

    data, source = parse(SINGLE, "single.yaml")
    plan = build(validate(data, source).spec, ARTIFACTS)
    files = BACKEND.render(plan, Options(layout="single"))
    (name,) = files.provenance
    template = json.loads(files[name])
    origins = files.provenance[name]
    assert set(origins) == set(template["Resources"])
    wanted = set(_components(plan, "cloudformation"))
    wanted |= {Origin(None, (f"peering:{p.id}",)) for p in plan.peerings}
    alone = {o for o in origins.values() if len(o.keys) == 1}
    assert plan.peerings and wanted <= alone, sorted(wanted - alone)
