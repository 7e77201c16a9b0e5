# A complete owner deployment: the three owner functions in the home region, calling the module.
# Build the zips first (imsync package --platform functiongraph --python 3.12 --out dist, from the
# repository root), then: cp terraform.tfvars.example terraform.tfvars; terraform init; terraform apply.

terraform {
  required_version = ">= 1.3.0"

  required_providers {
    huaweicloud = {
      source  = "huaweicloud/huaweicloud"
      version = ">= 1.75.2, < 2.0.0"
    }
  }
}

# Credentials come from the provider's standard environment variables
# (HW_ACCESS_KEY / HW_SECRET_KEY, or a profile); nothing secret is kept in this directory.
provider "huaweicloud" {
  region = var.region
}

module "imsync" {
  source = "../../deploy/functiongraph"

  role           = "owner"
  region         = var.region
  python_version = var.python_version
  package_dir    = "${path.root}/../../dist"

  function_agency = var.function_agency
  imsync_agency   = var.imsync_agency
  create_agencies = var.create_agencies

  imsync_source_regions  = var.imsync_source_regions
  imsync_allowed_regions = var.imsync_allowed_regions
  imsync_share_targets   = var.imsync_share_targets
  imsync_dry_run         = var.imsync_dry_run

  create_notification_topic = var.notification_email != ""
  notification_email        = var.notification_email
  error_alarm               = var.error_alarm

  dr_schedule   = var.dr_schedule
  poll_schedule = var.poll_schedule
}

output "function_names" {
  value = module.imsync.function_names
}

output "notification_topic_urn" {
  value = module.imsync.notification_topic_urn
}
