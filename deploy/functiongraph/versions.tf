# A module: it declares the provider it needs but configures none, so callers can use it with
# for_each, count and their own provider settings (see examples/ and docs/deploy.md).
terraform {
  required_version = ">= 1.3.0"

  required_providers {
    huaweicloud = {
      source = "huaweicloud/huaweicloud"
      # The newest argument the module uses is enable_lts_log of huaweicloud_fgs_function, first in
      # 1.75.2: provider_arguments.json records each argument's release, tests/deploy hold the bound to it.
      version = ">= 1.75.2, < 2.0.0"
    }
  }
}
