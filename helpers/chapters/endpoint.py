"""Chapter 02 (workshop 2.1.2, the seed page): the DynamoDB gateway endpoint."""

from __future__ import annotations

from helpers.aws import endpoints, networking
from helpers.aws.checks import Check
from helpers.chapters.base import Chapter
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.views.forms.endpoint import EndpointForm, EndpointFormView
from helpers.views.html import Html
from helpers.views.routes import (
    render_path_costs,
    render_policy_change,
    render_route_changes,
    render_snapshot,
)


class Endpoint(Chapter):
    number, slug, workshop = "02", "create-vpc-endpoint", "2.1.2"
    title_key = "chapters.endpoint"

    def path_costs(self, gb_per_month: float = 10, zones: int = 1) -> Html:
        """What each way out of a private subnet costs: NAT, interface and gateway endpoint."""
        return Html(render_path_costs(gb_per_month=gb_per_month, zones=zones))

    def form(self) -> EndpointFormView:
        return EndpointFormView(EndpointForm())

    def show(self) -> Html:
        """The whole picture, as it is now: the endpoint, its policy, its prefix list and the
        route tables it is attached to (the other verbs show only what they changed)."""
        return Html(render_snapshot(endpoints.current_snapshot()))

    def _lab_endpoint(self) -> dict:
        """The lab's endpoint as just described: the verbs below change it without reading it
        again by its id."""
        found = endpoints.find_lab_endpoint()
        if found is None:
            raise LabError("endpoints.check_exists_missing")
        return found

    def _public_route_tables(self, found: dict) -> list[str]:
        """The lab's public route tables in the endpoint's VPC."""
        public = networking.lab_public_route_table_ids(found["VpcId"])
        if not public:
            raise LabError("networking.no_network")
        return public

    def attach_public(self) -> Html:
        """Attach the endpoint to the public route table too (its routes before and after)."""
        found = self._lab_endpoint()
        snapshot = endpoints.set_route_tables(found, add=self._public_route_tables(found))
        return Html(render_route_changes(snapshot))

    def detach_public(self) -> Html:
        """Take the public route table off the endpoint again (its routes before and after)."""
        found = self._lab_endpoint()
        snapshot = endpoints.set_route_tables(found, remove=self._public_route_tables(found))
        return Html(render_route_changes(snapshot))

    def set_policy(self, document: dict | str | None) -> Html:
        """Give the endpoint ``document`` as its policy (None: back to full access); shows the
        new policy."""
        return Html(render_policy_change(endpoints.set_policy(self._lab_endpoint(), document)))

    def checks(self) -> list[Check]:
        return endpoints.check_chapter()

    def catch_up(self, choices: dict) -> str:
        """Make the lab's DynamoDB endpoint if it is missing (through the form's checks);
        wait for it and repair its routes if it is half made."""
        found = endpoints.find_lab_endpoint()
        if found:
            if found["State"].lower() != "available":
                found = endpoints.wait_until_available(found["VpcEndpointId"])
            endpoints.sync_routes(found)
            return t("endpoints.summary_exists", endpoint_id=found["VpcEndpointId"])
        form = EndpointForm()
        made = form.submit_or_raise(**form.values_from_journal(choices)).resource
        return t(
            "endpoints.summary_created",
            endpoint_id=made["VpcEndpointId"],
            route_tables=", ".join(made.get("RouteTableIds", [])) or "-",
        )
