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
}

resource "huaweicloud_identity_agency" "function" {
  count = var.create_agencies ? 1 : 0

  name                   = var.function_agency
  description            = "imsync functions (${var.name_prefix}): IMS in the regions they serve, IAM read-only"
  delegated_service_name = "op_svc_cff" # FunctionGraph
  duration               = "FOREVER"

  dynamic "project_role" {
    for_each = local.function_regions
    content {
      project = project_role.value
      # Publishing notifications needs SMN rights in the home region, where the topic is.
      roles = project_role.value == var.region && local.smn_topic_urn != "" ? concat(var.function_agency_roles, var.notification_roles) : var.function_agency_roles
    }
  }

  # Project IDs of each region and the copy agency's grants are read in IAM (global service).
  domain_roles = ["IAM ReadOnlyAccess"]
}

resource "huaweicloud_identity_agency" "copy" {
  count = var.create_agencies && local.owner ? 1 : 0

  name                   = var.imsync_agency
  description            = "imsync (${var.name_prefix}): IMS copies images across regions with this agency"
  delegated_service_name = "op_svc_ims" # Image Management Service
  duration               = "FOREVER"

  # Each region's project by name: IMS does not take a grant made on "all projects".
  dynamic "project_role" {
    for_each = local.copy_regions
    content {
      project = project_role.value
      roles   = var.copy_agency_roles
    }
  }
}
