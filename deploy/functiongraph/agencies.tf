# The two IAM agencies, for teams that let Terraform manage IAM (create_agencies = true). Teams that
# don't create them by hand as docs/deploy.md section 2.1 says and pass their names.

locals {
  # Regions whose IMS projects the functions act in: home, sources and destinations for an owner;
  # the regions where shares are accepted for a recipient.
  owner_regions     = local.owner ? concat([var.region], var.imsync_source_regions, var.imsync_allowed_regions) : []
  recipient_regions = contains(keys(local.functions), "accept_shares") ? (length(var.imsync_accept_regions) > 0 ? var.imsync_accept_regions : [var.region]) : []
  function_regions  = toset(concat(local.owner_regions, local.recipient_regions))
  # The copy agency needs its grant in the source regions and in every destination region.
  copy_regions = toset(concat([var.region], var.imsync_source_regions, var.imsync_allowed_regions))

  function_agency = var.create_agencies ? huaweicloud_identity_agency.function[0].name : var.function_agency

  # The home region's project also needs the CTS trigger's rights (owner) and SMN publish rights (a topic).
  home_roles = concat(
    var.function_agency_roles,
    local.owner ? var.cts_trigger_roles : [],
    local.has_topic ? var.notification_roles : [],
  )
}

resource "huaweicloud_identity_agency" "function" {
  count = var.create_agencies ? 1 : 0

  name        = var.function_agency
  description = "imsync functions (${var.name_prefix}): IMS in the regions they serve, IAM read-only"
  # A cloud service agency names the service as its delegated domain (op_svc_cff: FunctionGraph), the
  # provider's documented form; delegated_service_name is internal to the provider.
  delegated_domain_name = "op_svc_cff"
  duration              = "FOREVER"

  dynamic "project_role" {
    for_each = local.function_regions
    content {
      project = project_role.value
      roles   = project_role.value == var.region ? local.home_roles : var.function_agency_roles
    }
  }

  # Project IDs of each region and the copy agency's grants are read in IAM (global service).
  domain_roles = ["IAM ReadOnlyAccess"]
}

resource "huaweicloud_identity_agency" "copy" {
  count = var.create_agencies && local.owner ? 1 : 0

  name                  = var.imsync_agency
  description           = "imsync (${var.name_prefix}): IMS copies images across regions with this agency"
  delegated_domain_name = "op_svc_ims" # Image Management Service, as above
  duration              = "FOREVER"

  # Each region's project by name: IMS does not take a grant made on "all projects".
  dynamic "project_role" {
    for_each = local.copy_regions
    content {
      project = project_role.value
      roles   = var.copy_agency_roles
    }
  }
}
