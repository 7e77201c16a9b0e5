terraform {
  required_version = ">= 1.3.0"

  required_providers {
    huaweicloud = {
      source = "huaweicloud/huaweicloud"
      # enable_lts_log and max_instance_num on huaweicloud_fgs_function are documented from 1.7x on.
      version = ">= 1.74.0, < 2.0.0"
    }
  }
}

# Credentials come from the provider's standard environment variables
# (HW_ACCESS_KEY / HW_SECRET_KEY, or a profile); nothing secret is kept in this directory.
provider "huaweicloud" {
  region = var.region
}
