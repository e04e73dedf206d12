"""JSON Schema of the whole spec: core sections plus every installed plugin's."""

from __future__ import annotations

import types
import typing
from typing import Any

import attrs

from medmgen.fields import meta
from medmgen.plugins import Registry

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def type_schema(tp: Any) -> dict[str, Any]:
    """JSON Schema of a Python type used in spec classes."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if tp is Any:
        return {}
    if origin in (types.UnionType, typing.Union):
        options = [type_schema(a) for a in args if a is not type(None)]
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is list:
        return {"type": "array", "items": type_schema(args[0]) if args else {}}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": type_schema(args[0])}
        return {"type": "array", "prefixItems": [type_schema(a) for a in args], "minItems": len(args),
                "maxItems": len(args)}
    if origin is dict:
        return {"type": "object", "additionalProperties": type_schema(args[1]) if args else {}}
    if attrs.has(tp):
        return class_schema(tp)
    return {}


def class_schema(cls: type) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required = []
    hints = typing.get_type_hints(cls)
    for f in attrs.fields(cls):
        s = type_schema(hints.get(f.name, Any))
        m = meta(f)
        if m.get("doc"):
            s["description"] = m["doc"]
        target = s["items"] if s.get("type") == "array" and isinstance(s.get("items"), dict) else s
        for key, js in (("ge", "minimum"), ("gt", "exclusiveMinimum"), ("le", "maximum"), ("lt", "exclusiveMaximum")):
            if m.get(key) is not None:
                target[js] = m[key]  # bounds and choices apply to each element of a list
        if m.get("choices"):
            target["enum"] = list(m["choices"])
        if f.default is attrs.NOTHING:
            required.append(f.name)
        elif not isinstance(f.default, attrs.Factory) and f.default is not None:
            s["default"] = f.default
        props[f.name] = s
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if cls.__doc__:
        out["description"] = cls.__doc__.strip().splitlines()[0]
    if required:
        out["required"] = required
    return out


def spec_schema(registry: Registry) -> dict[str, Any]:
    """The schema of a full spec; each block is one of the installed generators' configs."""
    block_variants = []
    for (modality, name), gen in sorted(registry.generators.items()):
        s = class_schema(gen.config)
        s["properties"]["modality"] = {"const": modality}
        s["properties"]["generator"] = {"enum": [name, ""] if gen.default else [name]}
        if not gen.default:
            s.setdefault("required", []).append("generator")
        s["title"] = f"{modality}/{name}"
        block_variants.append(s)
    thresholds = {name: {"type": "number", "minimum": 0, "default": t.default, "description": t.doc}
                  for name, t in sorted(registry.thresholds().items())}
    props: dict[str, Any] = {name: class_schema(sec.schema) | {"description": sec.doc}
                             for name, sec in sorted(registry.sections.items())}
    props["blocks"] = {"type": "object", "minProperties": 1,
                       "additionalProperties": {"anyOf": block_variants},
                       "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_-]*$"}}
    props["thresholds"] = {"type": "object", "properties": thresholds, "additionalProperties": False}
    return {"$schema": DRAFT, "title": "MEDM-GEN spec", "type": "object", "properties": props,
            "required": ["blocks"], "additionalProperties": False}
