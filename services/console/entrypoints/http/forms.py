"""Forms: one description per form, one way to submit it.

A form is a list of ``Field``s rendered by ``templates/form.html`` (a label for every input,
the API's message under the field it names, what was typed kept). ``submit`` sends the body
to the service as the signed-in person; a refusal re-renders the form with the service's own
messages (the console does not validate the business rules a second time); success redirects
to the page that shows the result, passing the write's ``position`` so that page waits for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from services.console.application.ports import Json, Refused, User
from services.console.entrypoints.http.web import field_errors, form, render


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, date, number, email, select, checkbox, textarea, datetime-local
    required: bool = True
    options: tuple[str, ...] = ()
    hint: str | None = None
    default: str = ""


def body_of(fields: list[Field], values: dict[str, str]) -> Json:
    """The JSON body: what was typed, as typed; empty optional fields left out."""
    body: Json = {}
    for f in fields:
        raw = values.get(f.name, "")
        if f.kind == "checkbox":
            body[f.name] = raw in ("on", "true", "1")
        elif raw.strip() or f.required:
            body[f.name] = raw.strip()
    return body


def show(
    request: Request,
    user: User,
    title: str,
    fields: list[Field],
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
    back: str | None = None,
    intro: str | None = None,
) -> Response:
    given = values if values is not None else {f.name: f.default for f in fields}
    return render(
        request,
        "form.html",
        user,
        status=status,
        title=title,
        fields=fields,
        values=given,
        errors=errors or {},
        general=general or [],
        back=back,
        intro=intro,
    )


async def submit(
    request: Request,
    user: User,
    title: str,
    fields: list[Field],
    call: Callable[[Json], Awaitable[Json]],
    done: Callable[[Json], str],
    *,
    back: str | None = None,
    shape: Callable[[Json], Json] | None = None,
) -> Response:
    values = await form(request)
    body = body_of(fields, values)
    if shape is not None:
        body = shape(body)
    try:
        answer = await call(body)
    except Refused as exc:
        errors, general = field_errors(exc)
        known = {f.name for f in fields}
        general += [message for name, message in errors.items() if name not in known]
        return show(
            request,
            user,
            title,
            fields,
            values=values,
            errors={k: v for k, v in errors.items() if k in known},
            general=general,
            status=422 if exc.status in (400, 422) else exc.status,
            back=back,
        )
    return RedirectResponse(done(answer), status_code=303)


def with_position(url: str, answer: Any) -> str:
    position = answer.get("position") if isinstance(answer, dict) else None
    if position is None:
        return url
    return f"{url}{'&' if '?' in url else '?'}min_position={position}"
