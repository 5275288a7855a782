"""Chapter 04 (workshop 2.1.4): the execution role, then the function in the private subnet."""

from __future__ import annotations

from helpers.aws import functions, networking
from helpers.aws.checks import Check
from helpers.chapters.base import Chapter
from helpers.core.clients import client
from helpers.core.errors import LabError
from helpers.core.messages import t
from helpers.views.forms.base import FormView
from helpers.views.forms.function import (
    ExecutionRoleForm,
    FunctionForm,
    function_view_html,
    what_if_html,
)
from helpers.views.html import Html

FORMS = {"role": ExecutionRoleForm, "function": FunctionForm}


class CreateFunction(Chapter):
    number, slug, workshop = "04", "create-lambda-function", "2.1.4"
    title_key = "chapters.create_function"

    def form(self, which: str = "function") -> FormView:
        """The chapter's forms, in order: ``"role"`` (the execution role), then ``"function"``."""
        if which not in FORMS:
            raise LabError("chapters.unknown_form", form=which, choices=", ".join(FORMS))
        return FormView(FORMS[which]())

    def show(self) -> Html:
        return Html(function_view_html())

    def what_if(self, **values) -> Html:
        """What the function form would say about ``values`` — checked only, nothing created."""
        return Html(what_if_html(**values))

    def public_subnets(self) -> list[str]:
        """The lab VPC's public subnets (for trying the wrong subnet)."""
        network = networking.find_lab_network()
        if network is None:
            raise LabError("networking.no_network")
        return network.public_subnet_ids

    def subnet_of_another_vpc(self) -> list[str]:
        """One subnet of another VPC, or a made-up id when there is none."""
        network = networking.find_lab_network()
        others = [
            subnet["SubnetId"]
            for subnet in client("ec2").describe_subnets()["Subnets"]
            if network is None or subnet["VpcId"] != network.vpc_id
        ]
        return others[:1] or ["subnet-0123456789abcdef0"]

    def checks(self) -> list[Check]:
        return functions.check_chapter()

    def catch_up(self, choices: dict) -> str:
        role_form = ExecutionRoleForm()
        role = role_form.submit_or_raise(**role_form.values_from_journal(choices)).resource
        function_form = FunctionForm()
        made = function_form.submit_or_raise(**function_form.values_from_journal(choices))
        return t("functions.summary", function=made.resource["FunctionName"], role=role["RoleName"])
