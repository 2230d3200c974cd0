"""Does a new AsyncAPI document break a consumer written against the released one?

The rule it enforces (docs/integrating.md, "Evolution"): within a topic version fields may be
added, as optional fields (records already on the topic lack them), and consumers ignore what
they do not know; removing or renaming a field, making it optional, changing its type, format
or allowed values, or dropping a message type breaks a consumer and needs a new topic version.

The comparison is from the reader's side: every record the NEW document allows must still be
one the OLD document promised. So a schema may narrow (a type fewer, an enum value fewer), never
widen, except by new optional properties. Descriptions, titles and examples are free to change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

JsonObject = dict[str, Any]


class _Doc:
    def __init__(self, document: JsonObject) -> None:
        self.document = document

    def resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#/"):
                raise ValueError(f"only local references are supported: {ref!r}")
            node: Any = self.document
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**node, **rest} if rest else node
            seen += 1
            if seen > 50:
                raise ValueError(f"reference loop at {ref}")
        return schema

    def flatten(self, schema: Any) -> Any:
        """Resolve ``$ref`` and merge ``allOf`` parts into one schema (properties and required united)."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or "allOf" not in schema:
            return schema
        merged: JsonObject = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = self.flatten(part)
            for key, value in part.items():
                if key == "properties":
                    props = dict(merged.get("properties", {}))
                    for name, sub in value.items():
                        props[name] = {"allOf": [props[name], sub]} if name in props else sub
                    merged["properties"] = props
                elif key == "required":
                    merged["required"] = sorted(set(merged.get("required", [])) | set(value))
                else:
                    merged.setdefault(key, value)
        return merged


def _types(schema: JsonObject) -> set[str] | None:
    t = schema.get("type")
    if t is None:
        return None
    return {t} if isinstance(t, str) else set(t)


def _values(schema: JsonObject) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


class Checker:
    def __init__(self, old: JsonObject, new: JsonObject) -> None:
        self.old, self.new = _Doc(old), _Doc(new)

    def problems(self) -> list[str]:
        return list(self._documents())

    def _documents(self) -> Iterator[str]:
        old_channels = self.old.document.get("channels", {})
        new_channels = self.new.document.get("channels", {})
        for name, old_channel in old_channels.items():
            new_channel = new_channels.get(name)
            if new_channel is None:
                yield f"channel {name}: removed"
                continue
            if old_channel.get("address") != new_channel.get("address"):
                yield f"channel {name}: address {old_channel.get('address')!r} -> {new_channel.get('address')!r}"
            new_messages = new_channel.get("messages", {})
            for message_name, old_ref in old_channel.get("messages", {}).items():
                if message_name not in new_messages:
                    yield f"channel {name}: message {message_name} removed"
                    continue
                old_message = self.old.resolve(old_ref)
                new_message = self.new.resolve(new_messages[message_name])
                where = f"{name} {message_name}"
                for part in ("payload", "headers"):
                    if part in old_message:
                        if part not in new_message:
                            yield f"{where}: {part} schema removed"
                        else:
                            yield from self._schema(old_message[part], new_message[part], f"{where} {part}")
                old_key = old_message.get("bindings", {}).get("kafka", {}).get("key")
                new_key = new_message.get("bindings", {}).get("kafka", {}).get("key")
                if old_key is not None:
                    if new_key is None:
                        yield f"{where}: Kafka key binding removed"
                    else:
                        yield from self._schema(old_key, new_key, f"{where} key")

    def _schema(self, old: Any, new: Any, path: str, depth: int = 0) -> Iterator[str]:
        if depth > 40:
            return
        old, new = self.old.flatten(old), self.new.flatten(new)
        if not isinstance(old, dict) or not isinstance(new, dict):
            if old != new:
                yield f"{path}: schema changed"
            return
        new_union = new.get("anyOf") or new.get("oneOf")
        if new_union is not None:
            # every alternative the new schema allows must be allowed by the old one
            for i, alternative in enumerate(new_union):
                base = {k: v for k, v in new.items() if k not in ("anyOf", "oneOf")}
                alternative = self.new.flatten(alternative)
                candidate = {**base, **alternative} if isinstance(alternative, dict) else alternative
                yield from self._one_of_old(old, candidate, f"{path}[{i}]", depth)
            return
        old_union = old.get("anyOf") or old.get("oneOf")
        if old_union is not None:
            yield from self._one_of_old(old, new, path, depth)
            return
        yield from self._plain(old, new, path, depth)

    def _one_of_old(self, old: JsonObject, new: Any, path: str, depth: int) -> Iterator[str]:
        old_union = old.get("anyOf") or old.get("oneOf")
        if old_union is None:
            yield from self._schema(old, new, path, depth + 1)
            return
        base = {k: v for k, v in old.items() if k not in ("anyOf", "oneOf")}
        attempts: list[list[str]] = []
        for alternative in old_union:
            alternative = self.old.flatten(alternative)
            candidate = {**base, **alternative} if isinstance(alternative, dict) else alternative
            issues = list(self._schema(candidate, new, path, depth + 1))
            if not issues:
                return
            attempts.append(issues)
        yield min(attempts, key=len)[0] if attempts else f"{path}: no alternative matches"

    def _plain(self, old: JsonObject, new: JsonObject, path: str, depth: int) -> Iterator[str]:
        old_types, new_types = _types(old), _types(new)
        if old_types is not None:
            if new_types is None:
                yield f"{path}: type {sorted(old_types)} no longer stated (any type allowed)"
            elif not new_types <= old_types:
                yield f"{path}: type {sorted(old_types)} -> {sorted(new_types)}"
                return
        old_values, new_values = _values(old), _values(new)
        if old_values is not None:
            if new_values is None:
                yield f"{path}: allowed values {old_values} no longer restricted"
            else:
                added = [v for v in new_values if v not in old_values]
                if added:
                    yield f"{path}: new values {added} (a consumer handling {old_values} does not know them)"
        for keyword in ("format", "pattern"):
            if keyword in old and old.get(keyword) != new.get(keyword):
                yield f"{path}: {keyword} {old.get(keyword)!r} -> {new.get(keyword)!r}"
        for keyword, wider in (("minimum", -1), ("maximum", 1), ("minLength", -1), ("maxLength", 1)):
            if keyword in old:
                if keyword not in new:
                    yield f"{path}: {keyword} {old[keyword]} removed"
                elif (new[keyword] - old[keyword]) * wider > 0:
                    yield f"{path}: {keyword} {old[keyword]} -> {new[keyword]}"
        old_props: JsonObject = old.get("properties", {})
        new_props: JsonObject = new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name, sub in old_props.items():
            if name not in new_props:
                yield f"{path}: field {name!r} removed"
                continue
            if name in old_required and name not in new_required:
                yield f"{path}: field {name!r} no longer always present"
            yield from self._schema(sub, new_props[name], f"{path}.{name}", depth + 1)
        for name in sorted(set(new_props) - set(old_props)):
            if name in new_required:
                yield f"{path}: new field {name!r} is required (records already on the topic lack it: add it optional)"
        if "items" in old:
            if "items" not in new:
                yield f"{path}: items schema removed"
            else:
                yield from self._schema(old["items"], new["items"], f"{path}[]", depth + 1)


def breaking_changes(old: JsonObject, new: JsonObject) -> list[str]:
    """What in ``new`` breaks a consumer of ``old`` (empty when compatible)."""
    return Checker(old, new).problems()
