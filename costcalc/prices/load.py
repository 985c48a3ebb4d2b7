"""Loading the price table: shipped YAML (compiled), user overrides, the schema."""

import datetime as dt
import functools
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costcalc._version import PACKAGE_DIR
from costcalc.errors import PriceTableError
from costcalc.prices.schema import PRICES_ENV, Model, Provider, ProviderOverride
from costcalc.prices.table import PriceTable, _normal

if TYPE_CHECKING:
    from costcalc.prices.catalog import Catalog

# --- loading --------------------------------------------------------------------------------


def builtin_pricing_dir() -> Path:
    """The shipped price table: inside the package when installed, pricing/ in a checkout."""
    packaged = PACKAGE_DIR / "pricing"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "pricing"


def builtin_price_files() -> list[Path]:
    return sorted(builtin_pricing_dir().glob("*.yaml"))


def load_provider_file(path: Path | str) -> Provider:
    """Load and validate one provider price file."""
    from costcalc.yamlfile import load_mapping, validate

    data, text = load_mapping(path, "price file")
    provider = validate(Provider, data, path, text, PriceTableError)
    _check_unique_names(provider.models, path, text)
    stem = Path(path).stem
    if Path(path).parent == builtin_pricing_dir() and stem != provider.provider:
        raise PriceTableError(path, f"provider: {provider.provider!r} must match the file name")
    return provider


def load_override_file(path: Path | str) -> ProviderOverride:
    """Load and validate one user price file (``--prices FILE``)."""
    from costcalc.yamlfile import load_mapping, validate

    data, text = load_mapping(path, "price file")
    override = validate(ProviderOverride, data, path, text, PriceTableError)
    _check_unique_names(override.models, path, text)
    return override


def _check_unique_names(models: Sequence[Model], path: Path | str, text: str) -> None:
    from costcalc.yamlfile import line_of

    seen: dict[str, int] = {}
    for i, model in enumerate(models):
        for name in model.names():
            key = _normal(name)
            if key in seen:
                first = models[seen[key]].id
                raise PriceTableError(
                    path,
                    f"models[{i}]: duplicate model name {name!r} (also used by {first}, "
                    f"models[{seen[key]}])",
                    line=line_of(text, ("models", i)),
                )
            seen[key] = i


_REQUIRED_FOR_NEW = ("name", "source", "speed", "rate_limits")


def apply_override(
    providers: dict[str, Provider],
    origins: dict[str, str],
    override: ProviderOverride,
    path: Path | str,
) -> None:
    """Merge a user price file into ``providers`` in place."""
    from costcalc.yamlfile import validate

    settings = override.model_dump(exclude={"models"}, exclude_unset=True)
    current = providers.get(override.provider)
    if current is None:
        missing = [k for k in _REQUIRED_FOR_NEW if getattr(override, k) is None]
        if missing:
            raise PriceTableError(
                path,
                f"provider {override.provider!r} is new, so it needs {', '.join(missing)} "
                f"(known providers: {', '.join(sorted(providers))})",
            )
        if not override.models:
            raise PriceTableError(path, f"provider {override.provider!r} is new and has no models")
        merged: dict[str, Any] = settings
        models = list(override.models)
    else:
        merged = current.model_dump(exclude={"models"}, exclude_unset=True)
        merged.update(settings)
        by_id = {m.id: m for m in current.models}
        for m in override.models:
            by_id[m.id] = m
        models = list(by_id.values())
    merged["models"] = [m.model_dump(exclude_unset=True) for m in models]
    merged["provider"] = override.provider
    providers[override.provider] = validate(Provider, merged, path, None, PriceTableError)
    origins[override.provider] = str(path)


def override_paths_from_env() -> list[str]:
    raw = os.environ.get(PRICES_ENV, "")
    return [p for p in raw.split(os.pathsep) if p.strip()]


COMPILED = "compiled.json"
"""The shipped YAML files as JSON, with the SHA-256 of each file they came from.

Parsing JSON takes a millisecond where importing PyYAML and parsing the YAML takes twenty,
and a quote is a command people run in loops. The YAML stays the source: when a file's
hash differs from the one recorded (an edited checkout), the YAML is read instead.
"""


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def compile_price_table() -> str:
    """``pricing/compiled.json`` for the current YAML files (see ``COMPILED``)."""
    import json

    from costcalc.yamlfile import load_mapping

    files = builtin_price_files()
    for f in files:
        load_provider_file(f)  # only valid files are compiled
    document = {
        "sources": {f.name: _sha256(f) for f in files},
        "providers": {f.name: load_mapping(f, "price file")[0] for f in files},
    }
    return json.dumps(document, indent=1, sort_keys=True, default=str) + "\n"


def _compiled_providers(files: list[Path]) -> dict[str, Any] | None:
    """The compiled provider data, if it was compiled from exactly these files."""
    import json

    try:
        document = json.loads((builtin_pricing_dir() / COMPILED).read_text("utf-8"))
        if document["sources"] != {f.name: _sha256(f) for f in files}:
            return None
        data: dict[str, Any] = document["providers"]
        return data
    except (OSError, ValueError, KeyError, TypeError):
        return None


@functools.lru_cache(maxsize=8)
def _load(paths: tuple[str, ...], stamps: tuple[object, ...] = ()) -> PriceTable:
    """The table of the shipped files and ``paths``, kept per list of files and their
    ``stamps`` (so a price file edited since makes a table of its own, with its own caches)."""
    providers: dict[str, Provider] = {}
    origins: dict[str, str] = {}
    files = builtin_price_files()
    compiled = _compiled_providers(files)
    for builtin in files:
        if compiled is not None:
            prov = Provider.model_validate(compiled[builtin.name])
        else:
            prov = load_provider_file(builtin)
        providers[prov.provider] = prov
        origins[prov.provider] = str(builtin)
    for path in paths:
        apply_override(providers, origins, load_override_file(path), path)
    return PriceTable(providers, origins, catalog=_catalog)


def _catalog() -> "Catalog | None":
    """genai-prices' models behind the curated table: the index compiled from the pinned
    genai-prices (``pricing/genai-prices.json``), read the first time a name needs it."""
    from costcalc.prices.catalog import load_catalog
    from costcalc.prices.genai import INDEX_FILE

    path = builtin_pricing_dir() / INDEX_FILE
    return load_catalog(path) if path.is_file() else None


def compiled_files() -> dict[str, str]:
    """What ``costcalc prices compile`` writes into pricing/: file name -> text."""
    from costcalc.prices.genai import INDEX_FILE

    return {COMPILED: compile_price_table(), INDEX_FILE: compile_genai_index()}


def compile_genai_index(today: dt.date | None = None) -> str:
    """``pricing/genai-prices.json``: the installed genai-prices' data as a compact index,
    with its version and the day it was read."""
    import json

    from costcalc.prices.genai import GENAI_PACKAGE, index_from_raw, raw_from_package

    raw, version = raw_from_package()
    read = (today or dt.date.today()).isoformat()
    index = index_from_raw(raw, {"package": GENAI_PACKAGE, "version": version, "read": read})
    return json.dumps(index, separators=(",", ":"), sort_keys=True) + "\n"


def load_price_table(overrides: Iterable[Path | str] = (), use_env: bool = True) -> PriceTable:
    """The shipped price table with user price files applied in order.

    Files in ``$COSTCALC_PRICES`` come first, then ``overrides`` (so a file given on the
    command line wins). The result is cached per list of files, until one of them changes.
    """
    from_env = override_paths_from_env() if use_env else []
    for path in from_env:  # a stale setting is not the user's command line: say where it is
        if not os.path.exists(path):
            raise PriceTableError(path, f"no such price file (named in ${PRICES_ENV})")
    paths = tuple(from_env + [str(p) for p in overrides])
    return _load(paths, tuple(map(_stamp, paths)))


def _stamp(path: str) -> object:
    """What changes when a file is written: its modification time and size (what Python
    checks of a source file before using its .pyc), and its inode (a file put in its place);
    None when it cannot be read (``_load`` says why)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def validate_price_file(path: Path | str) -> str:
    """Check one price file alone and merged over the shipped table; return a summary."""
    override = load_override_file(path)
    base = _load(())
    providers, origins = dict(base.providers), dict(base.origins)
    apply_override(providers, origins, override, path)
    PriceTable(providers, origins)  # raises on a name used twice
    n = len(override.models)
    return f"provider {override.provider}, {n} model{'s' if n != 1 else ''}"


def days_old(model: Model, today: dt.date | None = None) -> int:
    """Days since the current price period of ``model`` was checked."""
    today = today or dt.date.today()
    current = model.prices[-1]
    for p in model.prices:
        if p.effective_from is None or p.effective_from <= today:
            current = p
    return (today - current.as_of).days
