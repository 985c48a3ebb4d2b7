"""Loading the price table: shipped YAML (compiled), the updated data `costcalc prices update`
keeps in the user data folder (``costcalc.prices.overlay`` says which price wins), user
overrides, the schema."""

import datetime as dt
import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costcalc._version import PACKAGE_DIR
from costcalc.errors import PriceTableError, UsageError, arg, path_argument, path_arguments
from costcalc.prices.schema import PRICES_ENV, Model, Provider, ProviderOverride
from costcalc.prices.table import PriceTable, _normal
from costcalc.shipped import AUDIT_KNOWN as AUDIT_KNOWN
from costcalc.shipped import COMPILED as COMPILED
from costcalc.shipped import UPDATE_FILE as UPDATE_FILE
from costcalc.shipped import builtin_price_files as builtin_price_files
from costcalc.shipped import builtin_pricing_dir as builtin_pricing_dir
from costcalc.shipped import compiled_document, file_sha256, forget_compiled
from costcalc.userdata import override_paths_from_env

if TYPE_CHECKING:
    from costcalc.prices.catalog import Catalog

# --- loading --------------------------------------------------------------------------------


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


def compile_price_table() -> str:
    """``pricing/compiled.json`` for the current YAML files (see ``COMPILED``)."""
    import json

    from costcalc.yamlfile import load_mapping

    files = builtin_price_files()
    providers = {f: load_provider_file(f) for f in files}  # only valid files are compiled
    table = PriceTable(
        {p.provider: p for p in providers.values()},
        {p.provider: str(f) for f, p in providers.items()},
    )
    document = {
        "sources": {f.name: file_sha256(f) for f in files},
        "providers": {f.name: load_mapping(f, "price file")[0] for f in files},
        "tokenizers": {name: table.tokenizer_fields(name) for name in table.names()},
    }
    return json.dumps(document, indent=1, sort_keys=True, default=str) + "\n"


UpdateStamp = tuple[str, int, int, int]
"""The updated data's file, inode, modification time and size: a new update (written to a new
file, then renamed) is read afresh."""


def price_update_file(
    home: str | os.PathLike[str] | None = None, function: str = "price_update_file"
) -> Path:
    """Where ``costcalc prices update`` keeps the data it read: in the user data folder, or
    in the folder ``home`` (str or os.PathLike)."""
    from costcalc.userdata import user_data_dir

    if home is None:
        return user_data_dir() / UPDATE_FILE
    return Path(path_argument(home, "home", function)) / UPDATE_FILE


def file_stamp(path: Path) -> UpdateStamp | None:
    """The stamp of the updated data at ``path``; None when there is none to be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return str(path), st.st_ino, st.st_mtime_ns, st.st_size


def _update_stamp() -> UpdateStamp | None:
    path = price_update_file()
    stamp = file_stamp(path)
    if stamp is None and os.path.lexists(path):
        # there, but not to be read (a symlink loop, a dangling link): reading it says why,
        # where passing it over would quote with other prices than the user updated to
        return str(path), -1, -1, -1
    return stamp  # None: no update, the shipped prices


def forget_loaded() -> None:
    """Price tables loaded in this process are read again (the data under them changed)."""
    _load.cache_clear()
    updated_index.cache_clear()
    forget_compiled()


@functools.lru_cache(maxsize=4)
def updated_index(stamp: UpdateStamp) -> dict[str, Any]:
    """The index of the updated data (a ``CostcalcError`` when it cannot be used)."""
    from costcalc.errors import CostcalcError
    from costcalc.prices.catalog import read_index
    from costcalc.prices.genai import INDEX_FORMAT

    path = stamp[0]
    try:
        index = read_index(Path(path))
        if index.get("format") != INDEX_FORMAT:
            raise ValueError(f"index format {index.get('format')!r}, expected {INDEX_FORMAT}")
        if not isinstance(index.get("providers"), dict) or "read" not in index["source"]:
            raise ValueError("not a price index")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CostcalcError(
            f"{path}: the updated prices cannot be read ({exc}): run `costcalc prices update` "
            "again, or `costcalc prices update --remove` to use the shipped prices"
        ) from None
    return index


@functools.lru_cache(maxsize=8)
def _load(
    paths: tuple[str, ...], update: UpdateStamp | None = None, stamps: tuple[object, ...] = ()
) -> PriceTable:
    """The table of the shipped files, the updated data and ``paths``, kept per list of files,
    the update's stamp and the files' ``stamps`` (so a price file edited since makes a table
    of its own, with its own caches)."""
    providers: dict[str, Provider] = {}
    origins: dict[str, str] = {}
    files = builtin_price_files()
    document = compiled_document()
    compiled = None if document is None else document["providers"]
    for builtin in files:
        if compiled is not None:
            prov = Provider.model_validate(compiled[builtin.name])
        else:
            prov = load_provider_file(builtin)
        providers[prov.provider] = prov
        origins[prov.provider] = str(builtin)
    if update is not None:
        from costcalc.prices.catalog import Catalog, origin_of
        from costcalc.prices.overlay import apply_update

        index = updated_index(update)
        providers = apply_update(providers, Catalog(index, origin_of(index["source"])))
    for path in paths:
        apply_override(providers, origins, load_override_file(path), path)
    return PriceTable(providers, origins, catalog=functools.partial(_catalog, update))


def _catalog(update: UpdateStamp | None = None) -> "Catalog | None":
    """The models behind the curated table: the updated data's (when there is some), then
    the index compiled from the pinned genai-prices (``pricing/genai-prices.json``), read the
    first time a name needs it."""
    from costcalc.prices.catalog import Catalog, layered, load_catalog, origin_of, read_index
    from costcalc.prices.genai import INDEX_FILE

    path = builtin_pricing_dir() / INDEX_FILE
    if update is None:
        return load_catalog(path) if path.is_file() else None
    index = updated_index(update)
    if path.is_file():
        index = layered(index, read_index(path))
    return Catalog(index, origin_of(index["source"]))


def compile_target(out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where ``costcalc prices compile`` writes: ``out_dir`` when given, else the source
    checkout's pricing/. An installed package (no pyproject.toml beside the costcalc/ folder)
    is refused, and so is an ``out_dir`` inside it (through a symlink too): an upgrade
    replaces its files, and they are not the user's to rewrite."""
    installed = not (PACKAGE_DIR.parent / "pyproject.toml").is_file()
    if out_dir is not None:
        out = Path(path_argument(out_dir, "out_dir", "compile_target"))
        if installed and out.resolve().is_relative_to(PACKAGE_DIR.resolve()):
            raise UsageError(
                f"{arg('out_dir', both=True)}: {out} is inside the installed package "
                f"{PACKAGE_DIR}, whose files are not the user's to rewrite; give another folder"
            )
        return out
    if installed:
        raise UsageError(
            f"{PACKAGE_DIR} is an installed package, not a source checkout (no pyproject.toml "
            f"beside it): prices compile writes only into a checkout's pricing/; give "
            f"{arg('out_dir DIR')} to write the files elsewhere"
        )
    return builtin_pricing_dir()


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


def load_price_table(
    overrides: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = (),
    use_env: bool = True,
    updated: bool = True,
) -> PriceTable:
    """The shipped price table, with updated data over it and user price files applied in
    order.

    Precedence, highest first (``costcalc.prices.overlay`` has the rules): user price files
    (files in ``$COSTCALC_PRICES`` come first, then ``overrides``, so a file given on the
    command line wins); the updated data that ``costcalc prices update`` keeps in the user
    data folder, for every price it states (``updated=False``: none); the curated YAML; the
    shipped genai-prices index. The result is cached per list of files and updated data,
    until one of them changes.
    """
    from_env = override_paths_from_env() if use_env else []
    for path in from_env:  # a stale setting is not the user's command line: say where it is
        if not os.path.exists(path):
            raise PriceTableError(path, f"no such price file (named in ${PRICES_ENV})")
    stamp = _update_stamp() if updated else None
    paths = tuple(from_env + path_arguments(overrides, "overrides", "load_price_table"))
    return _load(paths, stamp, tuple(map(_stamp, paths)))


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
    override = load_override_file(path_argument(path, "path", "validate_price_file"))
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
