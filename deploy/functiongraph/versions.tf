# A module: it declares the provider it needs but configures none, so callers can use it with
# for_each, count and their own provider settings (see examples/ and docs/deploy.md).
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
