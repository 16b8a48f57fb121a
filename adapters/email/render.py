"""Alert emails from Jinja2 templates: an HTML part with its CSS inlined, and a text part."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from adapters.email.view import CONTRIBUTOR_TITLES, AlertView, build_view
from application.ports import AlertRenderer, OutgoingEmail
from domain.alerts import Alert, AlertKind

TEMPLATES = Path(__file__).parent / "templates"
KIND_TITLES = {
    AlertKind.THRESHOLD: "Threshold reached",
    AlertKind.EXCEEDED: "Cap exceeded",
    AlertKind.BLOCKED: "Calls blocked",
    AlertKind.FORECAST: "Forecast",
}


def template_environment(directory: Path = TEMPLATES) -> Environment:
    # Autoescape for HTML only: customer ids and agent names are user data and may hold
    # markup; the text part is not HTML, so escaping it would only garble it.
    # StrictUndefined turns a template typo into an error the dispatcher records.
    return Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class AlertEmailRenderer(AlertRenderer):
    def __init__(self, templates: Path = TEMPLATES) -> None:
        self._environment = template_environment(templates)
        # Mail clients drop <style> blocks (Gmail among them): every rule goes inline.
        self._inliner = css_inline.CSSInliner(keep_style_tags=False)

    def render(self, alert: Alert, context: Mapping[str, object]) -> OutgoingEmail:
        view = build_view(alert, context)
        return OutgoingEmail(
            to=alert.recipients,
            subject=view.subject,
            text=self._template("alert.txt", view),
            html=self._inliner.inline(self._template("alert.html", view)),
            alert_id=alert.id,
        )

    def _template(self, name: str, view: AlertView) -> str:
        return self._environment.get_template(name).render(
            view=view,
            kind_title=KIND_TITLES[AlertKind(view.kind)],
            contributor_titles=CONTRIBUTOR_TITLES,
        )
