"""Chapter 01 (workshop 2.1.1): the VPC, its subnets and route tables, from the console's
"VPC and more" wizard."""

from __future__ import annotations

from helpers.aws import networking
from helpers.aws.checks import Check
from helpers.chapters.base import Chapter
from helpers.core.messages import t
from helpers.views.forms.base import render_result
from helpers.views.forms.vpc import VpcForm, VpcFormView
from helpers.views.html import Html, box
from helpers.views.network import vpc_overview_html, vpcs_table_html


class Vpc(Chapter):
    number, slug, workshop = "01", "create-vpc-subnet-route-table", "2.1.1"
    title_key = "chapters.vpc"

    def existing_vpcs(self) -> Html:
        """The VPCs already in the region (the default one, a learner's own…)."""
        return Html(vpcs_table_html())

    def form(self, **values) -> VpcFormView:
        """The wizard (``values`` override its defaults)."""
        return VpcFormView(VpcForm(), values)

    def attempts(self, *tries: dict) -> Html:
        """What the wizard answers to each of ``tries`` (refusals and warnings) — checked only,
        nothing created, even for a try AWS would accept."""
        model = VpcForm()
        return Html("".join(render_result(model, model.check_only(**values)) for values in tries))

    def show(self) -> Html:
        network = networking.find_lab_network()
        if network is None:
            return Html(box(t("networking.no_network"), "warning"))
        return Html(vpc_overview_html(network.vpc_id))

    def checks(self) -> list[Check]:
        return networking.check_chapter()

    def catch_up(self, choices: dict) -> str:
        return networking.summary(networking.ensure_network(choices, missing_only=True))
