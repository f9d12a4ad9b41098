"""The API documentation page: the OpenAPI document of /api/v1/ rendered as HTML by us (no
script, nothing from a CDN), with a link to the JSON."""
from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from logs.api.openapi import openapi_document

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_text(schema: dict, components: dict) -> str:
    """A schema in a few words: a type, an enum, an array of a named schema."""
    if not schema:
        return _("any")
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = schema.get("type") or _("any")
    if kind == "array":
        return _("array of %(items)s") % {"items": _schema_text(schema.get("items", {}), components)}
    if schema.get("enum"):
        values = [v for v in schema["enum"] if v is not None]
        return f"{kind}: " + " | ".join(map(str, values))
    bounds = {"minimum": _("minimum %(value)s"), "maximum": _("maximum %(value)s"),
              "default": _("default %(value)s")}
    extra = ", ".join(text % {"value": schema[k]} for k, text in bounds.items() if k in schema)
    fmt = f" ({schema['format']})" if "format" in schema else ""
    return f"{kind}{fmt}" + (f"; {extra}" if extra else "")


def _operations(doc: dict) -> list[dict]:
    components = doc.get("components", {}).get("schemas", {})
    ops = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [{**p, "schema_text": _schema_text(p.get("schema", {}), components)}
                      for p in op.get("parameters", [])]
            body = []
            for media, content in (op.get("requestBody") or {}).get("content", {}).items():
                body.append({"media": media, "schema_text": _schema_text(content.get("schema", {}), components)})
            responses = []
            for code, resp in op.get("responses", {}).items():
                schema = next(iter(resp.get("content", {}).values()), {}).get("schema", {})
                responses.append({"code": code, "description": resp.get("description", ""),
                                  "schema_text": _schema_text(schema, components) if schema else ""})
            ops.append({"method": method.upper(), "path": doc["servers"][0]["url"].rstrip("/") + path,
                        "anchor": f"{method}-{path.strip('/').replace('/', '-').replace('{', '').replace('}', '') or 'index'}",
                        "summary": op.get("summary", ""), "description": op.get("description", ""),
                        "auth": bool(op.get("security", doc.get("security", [{}]))),
                        "params": params, "body": body, "responses": responses})
    return ops


def _schemas(doc: dict) -> list[dict]:
    components = doc.get("components", {}).get("schemas", {})
    out = []
    for name, schema in components.items():
        props = [{"name": k, "schema_text": (_("%(type)s, or null") % {"type": _schema_text(v, components)} if v.get("nullable")
                                 else _schema_text(v, components)),
                  "description": v.get("description", ""), "required": k in schema.get("required", [])}
                 for k, v in schema.get("properties", {}).items()]
        out.append({"name": name, "props": props})
    return out


def api_docs(request):
    doc = openapi_document(server_url="")
    return render(request, "logs/api_docs.html", {
        "doc": doc, "operations": _operations(doc), "schemas": _schemas(doc),
        "base_url": request.build_absolute_uri("/api/v1/"),
    })
