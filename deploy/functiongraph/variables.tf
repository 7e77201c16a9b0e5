# ---------------------------------------------------------------------------------------------
# Where and how the three functions run

variable "region" {
  description = "Region the functions run in; it is also IMSYNC_HOME_REGION, the source region of create events."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "The region must be a region ID such as cn-north-4."
  }
}

variable "name_prefix" {
  description = "Prefix of the function and trigger names."
  type        = string
  default     = "imsync"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,30}$", var.name_prefix))
    error_message = "Start with a letter; letters, digits and '-' only; at most 31 characters."
  }
}

variable "python_version" {
  description = "FunctionGraph Python runtime; the zips must be built for the same version (imsync package --python)."
  type        = string
  default     = "3.12"

  validation {
    condition     = contains(["3.10", "3.12"], var.python_version)
    error_message = "Use 3.10 or 3.12."
  }
}

variable "package_dir" {
  description = "Directory given to `imsync package --out`; the zips are read from <package_dir>/functiongraph-py<python_version>/."
  type        = string
  default     = "../../dist"
}

variable "function_agency" {
  description = "Execution agency of the functions (delegated to FunctionGraph): its temporary keys are what imsync calls IMS and IAM with. See README.md for its exact permissions."
  type        = string

  validation {
    condition     = length(trimspace(var.function_agency)) > 0
    error_message = "The functions need an agency: without one they have no credentials."
  }
}

variable "memory_size" {
  description = "Memory of each function in MB. 256 MB: a cold invocation peaks at 43 MB and a DR run over 10,000 images x 5 regions at 141 MB (benchmarks/RESULTS.md, CPython 3.11 on x86_64)."
  type        = number
  default     = 256

  validation {
    condition     = contains([128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048], var.memory_size)
    error_message = "Use one of FunctionGraph's memory sizes: 128, 256, 512, 768, 1024, 1280, 1536, 1792 or 2048."
  }
}

variable "timeouts" {
  description = "Timeout of each function in seconds. The DR run lists every image of every source region and may wait for the copy limit; the poll must end before the next one starts."
  type = object({
    replicate_on_create = number
    scheduled_dr_copy   = number
    share_on_complete   = number
  })
  default = {
    replicate_on_create = 120
    scheduled_dr_copy   = 900
    share_on_complete   = 240
  }

  validation {
    condition     = alltrue([for t in values(var.timeouts) : t >= 3 && t <= 900])
    error_message = "Each timeout must be 3 to 900 seconds."
  }
}

variable "dr_schedule" {
  description = "How often the DR run starts, as a FunctionGraph Rate: <n>m, <n>h or <n>d."
  type        = string
  default     = "1d"

  validation {
    condition     = can(regex("^[1-9][0-9]*[mhd]$", var.dr_schedule))
    error_message = "Write a rate such as 1d, 12h or 30m."
  }
}

variable "dr_options" {
  description = "Options of the DR run, passed as the TIMER user_event JSON (e.g. {\"regions\": [\"cn-north-4\"]}); empty = everything."
  type        = any
  default     = {}
}

variable "poll_schedule" {
  description = "How often share_on_complete looks for finished copies, as a FunctionGraph Rate."
  type        = string
  default     = "5m"

  validation {
    condition     = can(regex("^[1-9][0-9]*[mhd]$", var.poll_schedule))
    error_message = "Write a rate such as 5m or 1h."
  }
}

variable "domain_id" {
  description = "Account (domain) ID, set as HUAWEICLOUD_SDK_DOMAIN_ID for the agency check in IAM; empty = not set."
  type        = string
  default     = ""
}

variable "log_level" {
  description = "Level of imsync's structured logs."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "Use DEBUG, INFO, WARNING or ERROR."
  }
}

variable "tags" {
  description = "Tags put on the functions."
  type        = map(string)
  default     = { app = "imsync" }
}

# ---------------------------------------------------------------------------------------------
# imsync settings: one variable per IMSYNC_* setting (CONTRACT.md section 4)

variable "imsync_source_regions" {
  description = "IMSYNC_SOURCE_REGIONS: regions whose images the DR run and completion poll scan; empty = the home region."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.imsync_source_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", r))])
    error_message = "Each source region must be a region ID such as cn-north-4."
  }
}

variable "imsync_allowed_regions" {
  description = "IMSYNC_ALLOWED_REGIONS: regions that imsync-regions tags may name; anything else is refused. Empty = nothing is copied."
  type        = list(string)

  validation {
    condition     = alltrue([for r in var.imsync_allowed_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", r))])
    error_message = "Each allowed region must be a region ID such as cn-east-3."
  }
}

variable "imsync_agency" {
  description = "IMSYNC_AGENCY: the copy agency IMS uses for cross-region copies (cloud service IMS; see README.md)."
  type        = string
}

variable "imsync_share_targets" {
  description = "IMSYNC_SHARE_TARGETS: {alias = {region = [project_id, ...]}}; empty = nothing is shared."
  type        = map(map(list(string)))
  default     = {}

  validation {
    condition = alltrue(flatten([
      for alias, regions in var.imsync_share_targets : [
        for region, projects in regions : [for p in projects : can(regex("^[0-9a-f]{32}$", p))]
      ]
    ]))
    error_message = "Project IDs are 32 lowercase hex characters, as IAM shows them."
  }
}

variable "imsync_vaults" {
  description = "IMSYNC_VAULTS: {region = CBR vault ID} for copies of whole-ECS images."
  type        = map(string)
  default     = {}
}

variable "imsync_max_concurrent_copies" {
  description = "IMSYNC_MAX_CONCURRENT_COPIES: copies in flight at once for the account (IMS allows 5)."
  type        = number
  default     = 5

  validation {
    condition     = var.imsync_max_concurrent_copies >= 1 && var.imsync_max_concurrent_copies <= 5
    error_message = "Use 1 to 5: IMS runs at most 5 copies per user."
  }
}

variable "imsync_name_template" {
  description = "IMSYNC_NAME_TEMPLATE: replica name; fields {source_region}, {source_name}, {source_id}."
  type        = string
  default     = "copy_{source_region}_{source_name}"
}

variable "imsync_copy_tags" {
  description = "IMSYNC_COPY_TAGS: copy the source's non-policy tags to replicas."
  type        = bool
  default     = true
}

variable "imsync_dry_run" {
  description = "IMSYNC_DRY_RUN: plan and log, change nothing."
  type        = bool
  default     = false
}

variable "imsync_http_timeout" {
  description = "IMSYNC_HTTP_TIMEOUT: seconds for connecting and for reading one API answer."
  type        = number
  default     = 30

  validation {
    condition     = var.imsync_http_timeout > 0 && var.imsync_http_timeout <= 600
    error_message = "Use more than 0 and at most 600 seconds."
  }
}

variable "imsync_credentials_secret" {
  description = "IMSYNC_CREDENTIALS_SECRET: AWS only; on FunctionGraph the agency's keys are used, so leave it empty."
  type        = string
  default     = ""
}
