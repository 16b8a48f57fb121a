"""The dashboard as one Litestar plugin: its pages, static files and HTML error handling.

The app factory registers it with `plugins=[DashboardPlugin()]`. Pages opt out of the
API's bearer-key middleware (`exclude_from_auth`) because they sign in by cookie and
send a signed-out visitor to the sign-in page instead of answering 401.
"""

from __future__ import annotations

from litestar import Router
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.plugins import InitPluginProtocol
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from entrypoints.dashboard.errors import exception_handlers
from entrypoints.dashboard.rendering import STATIC, STATIC_PATH
from entrypoints.dashboard.services import provide_services
from entrypoints.dashboard.viewer import resolve_viewer
from entrypoints.dashboard.views import (
    admin,
    alerts,
    caps,
    customers,
    keys,
    overview,
    profile,
    recovery,
    sign_in,
    team,
    tenancy,
)

PUBLIC = {"exclude_from_auth": True}

PAGES: list[ControllerRouterHandler] = [
    sign_in.sign_in_page,
    sign_in.sign_in,
    sign_in.sign_up_page,
    sign_in.sign_up,
    sign_in.sign_out,
    recovery.forgot_password_page,
    recovery.forgot_password,
    recovery.reset_password_page,
    recovery.reset_password,
    recovery.magic_link_page,
    recovery.magic_link,
    tenancy.welcome,
    tenancy.new_tenant,
    tenancy.create_tenant,
    tenancy.switch_tenant,
    tenancy.invitation_page,
    tenancy.accept_invitation,
    overview.overview,
    overview.overview_csv,
    overview.timeseries_csv,
    customers.customers,
    customers.customers_csv,
    customers.customer,
    caps.caps_page,
    caps.caps_progress,
    caps.caps_csv,
    caps.new_cap,
    caps.create_cap,
    caps.edit_cap,
    caps.update_cap,
    caps.delete_cap,
    alerts.alerts_page,
    alerts.alerts_csv,
    keys.keys_page,
    keys.create_key,
    keys.revoke_key,
    team.team,
    team.team_settings,
    team.invite,
    team.change_role,
    team.remove_member,
    team.revoke_invitation,
    admin.all_tenants,
    profile.profile,
    profile.change_password,
]


def dashboard_router() -> Router:
    return Router(
        path="/",
        route_handlers=PAGES,
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "viewer": Provide(resolve_viewer),
        },
        exception_handlers=exception_handlers(),
        opt=PUBLIC,
        include_in_schema=False,
    )


def static_router() -> Router:
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC],
        opt=PUBLIC,
        include_in_schema=False,
        name="dashboard-static",
    )


class DashboardPlugin(InitPluginProtocol):
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend([dashboard_router(), static_router()])
        return app_config
