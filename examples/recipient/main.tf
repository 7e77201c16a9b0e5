# A recipient deployment: accept_shares alone, in the account that receives the images, accepting
# what the trusted owners share with it. Build the zips first (imsync package --platform
# functiongraph --python 3.12 --out dist), then: cp terraform.tfvars.example terraform.tfvars;
# terraform init; terraform apply.

terraform {
  required_version = ">= 1.3.0"

  required_providers {
    huaweicloud = {
      source  = "huaweicloud/huaweicloud"
      version = ">= 1.75.2, < 2.0.0"
    }
  }
}

# The recipient account's deploying key, from HW_ACCESS_KEY / HW_SECRET_KEY or a profile.
provider "huaweicloud" {
  region = var.region
}

module "imsync" {
  source = "../../deploy/functiongraph"

  role           = "recipient"
  name_prefix    = "imsync-recipient"
  region         = var.region
  python_version = var.python_version
  package_dir    = "${path.root}/../../dist"

  function_agency = var.function_agency
  create_agencies = var.create_agencies

  imsync_trusted_owners = var.imsync_trusted_owners
  imsync_accept_regions = var.imsync_accept_regions
  imsync_vaults         = var.imsync_vaults
  accept_schedule       = var.accept_schedule

  create_notification_topic = var.notification_email != ""
  notification_email        = var.notification_email
  error_alarm               = var.error_alarm
}

output "function_names" {
  value = module.imsync.function_names
}
