"""The site's Parameter Store entries, as SecureString parameters encrypted with the site key.

Terraform writes SecureString natively: the plan's ParameterWriter (CloudFormation's custom
resource function) has nothing to do here.
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from replgen.backends.cdktf.context import Ctx, snake
from replgen.plan import components
from replgen.plan.model import Parameter, Site


class Parameters(Construct):
    def __init__(self, scope: Construct, id: str, ctx: Ctx, site: Site) -> None:
        super().__init__(scope, id)
        for parameter in ctx.each(self, site, site.parameters):
            self._parameter(ctx, site, parameter)

    def _parameter(self, ctx: Ctx, site: Site, parameter: Parameter) -> None:
        # Named after the path below the site's prefix: `database/connection` -> its id.
        SsmParameter(
            self,
            snake(components.parameter_in_site(ctx.plan, site, parameter.name), "parameter"),
            name=parameter.name,
            description=parameter.description,
            type="SecureString",
            key_id=ctx.value(parameter.kms_key),
            value=ctx.value(parameter.value),
        )
