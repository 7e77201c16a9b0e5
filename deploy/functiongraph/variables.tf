# ---------------------------------------------------------------------------------------------
# Where and how the functions run

variable "region" {
  description = "Region the functions run in; it is also IMSYNC_HOME_REGION, the source region of create events."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "The region must be a region ID such as cn-north-4."
  }
}

variable "role" {
  description = "Which functions to deploy: owner (replicate_on_create, scheduled_dr_copy, share_on_complete), recipient (accept_shares) or both."
  type        = string
  default     = "owner"

  validation {
    condition     = contains(["owner", "recipient", "both"], var.role)
    error_message = "Use owner, recipient or both."
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
  description = "Directory given to `imsync package --out`; the zips are read from <package_dir>/functiongraph-py<python_version>/. Give an absolute path or one built from path.root."
  type        = string
}

variable "function_agency" {
  description = "Execution agency of the functions (delegated to FunctionGraph): its temporary keys are what imsync calls IMS and IAM with. Created under this name when create_agencies is true; docs/deploy.md 2.1 lists its permissions."
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
    replicate_on_create = optional(number, 120)
    scheduled_dr_copy   = optional(number, 900)
    share_on_complete   = optional(number, 240)
    accept_shares       = optional(number, 120)
  })
  default = {}

  validation {
    condition     = alltrue([for t in values(var.timeouts) : t >= 3 && t <= 900])
    error_message = "Each timeout must be 3 to 900 seconds."
  }
}

variable "dr_schedule" {
  description = "How often the DR run starts, as a FunctionGraph Rate: 1-60m, 1-24h or 1-30d."
  type        = string
  default     = "1d"

  validation {
    condition     = can(regex("^([1-9]|[1-5][0-9]|60)m$|^([1-9]|1[0-9]|2[0-4])h$|^([1-9]|[12][0-9]|30)d$", var.dr_schedule))
    error_message = "FunctionGraph takes a rate of 1 to 60 minutes, 1 to 24 hours or 1 to 30 days, e.g. 1d, 12h or 30m."
  }
}

variable "dr_options" {
  description = "Options of the DR run, passed as the TIMER user_event JSON (e.g. {\"regions\": [\"cn-north-4\"]}); empty = everything."
  type        = any
  default     = {}
}

variable "poll_schedule" {
  description = "How often share_on_complete looks for finished copies, as a FunctionGraph Rate: 1-60m, 1-24h or 1-30d. 1m keeps imsync's own delay per step under a minute; 5m was the default before (docs/deploy.md: what each costs)."
  type        = string
  default     = "1m"

  validation {
    condition     = can(regex("^([1-9]|[1-5][0-9]|60)m$|^([1-9]|1[0-9]|2[0-4])h$|^([1-9]|[12][0-9]|30)d$", var.poll_schedule))
    error_message = "FunctionGraph takes a rate of 1 to 60 minutes, 1 to 24 hours or 1 to 30 days, e.g. 5m or 1h."
  }
}

variable "accept_schedule" {
  description = "How often accept_shares looks for pending shares (recipient role), as a FunctionGraph Rate: 1-60m, 1-24h or 1-30d. 1m by default, like poll_schedule."
  type        = string
  default     = "1m"

  validation {
    condition     = can(regex("^([1-9]|[1-5][0-9]|60)m$|^([1-9]|1[0-9]|2[0-4])h$|^([1-9]|[12][0-9]|30)d$", var.accept_schedule))
    error_message = "FunctionGraph takes a rate of 1 to 60 minutes, 1 to 24 hours or 1 to 30 days, e.g. 5m or 1h."
  }
}

variable "domain_id" {
  description = "Account (domain) ID, set as HUAWEICLOUD_SDK_DOMAIN_ID in the functions' environment; empty = not set."
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
# IAM: the two agencies (docs/deploy.md 2.1), made here only when create_agencies is true

variable "create_agencies" {
  description = "Create the function agency (function_agency) and, for an owner, the copy agency (imsync_agency) with their project roles. false = they exist already, made by hand."
  type        = bool
  default     = false
}

variable "function_agency_roles" {
  description = "Roles of the created function agency in each region's project it works in."
  type        = list(string)
  default     = ["IMS FullAccess"]
}

variable "cts_trigger_roles" {
  description = "Roles added to the created function agency in the home region's project for an owner: FunctionGraph's CTS trigger needs CTS rights in the function's agency."
  type        = list(string)
  default     = ["CTS Administrator"]
}

variable "notification_roles" {
  description = "Roles added to the created function agency in the home region's project when a notification topic is set, to publish to it."
  type        = list(string)
  default     = ["SMN FullAccess"]
}

variable "copy_agency_roles" {
  description = "Roles of the created copy agency in the source and every destination region's project."
  type        = list(string)
  default     = ["IMS CrossCopyAgencyPolicy"]
}

# ---------------------------------------------------------------------------------------------
# Notifications and alarms

variable "create_notification_topic" {
  description = "Create an SMN topic for imsync's notifications and pass its URN as IMSYNC_SMN_TOPIC_URN."
  type        = bool
  default     = false
}

variable "notification_topic_urn" {
  description = "An existing SMN topic to publish to (when create_notification_topic is false); empty = notifications are log lines."
  type        = string
  default     = ""

  validation {
    condition     = var.notification_topic_urn == "" || can(regex("^urn:smn:[a-z0-9-]+:[0-9a-f]{32}:[A-Za-z0-9_-]+$", var.notification_topic_urn))
    error_message = "A topic URN looks like urn:smn:<region>:<project ID>:<topic name>."
  }
}

variable "notification_email" {
  description = "E-mail address subscribed to the created topic; empty = no subscription. The address must confirm the subscription."
  type        = string
  default     = ""

  validation {
    condition     = var.notification_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.notification_email))
    error_message = "Give one e-mail address, or leave it empty."
  }
}

variable "error_alarm" {
  description = "A Cloud Eye alarm on each function's errors (metric failcount), sent to the notification topic; null = on when there is a topic."
  type        = bool
  default     = null
}

variable "async_retry_attempts" {
  description = "Retries of a failed asynchronous invocation (TIMER and CTS triggers) before it goes to the failure destination (the notification topic): 0 to 3."
  type        = number
  default     = 2

  validation {
    condition     = var.async_retry_attempts >= 0 && var.async_retry_attempts <= 3
    error_message = "FunctionGraph takes 0 to 3 retries."
  }
}

variable "error_alarm_threshold" {
  description = "Errors of one function within 5 minutes that raise its alarm."
  type        = number
  default     = 1

  validation {
    condition     = var.error_alarm_threshold >= 1
    error_message = "Use 1 or more."
  }
}

# ---------------------------------------------------------------------------------------------
# imsync settings: one variable per IMSYNC_* setting (README "Configuration")

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
  default     = []

  validation {
    condition     = alltrue([for r in var.imsync_allowed_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", r))])
    error_message = "Each allowed region must be a region ID such as cn-east-3."
  }
}

variable "imsync_agency" {
  description = "IMSYNC_AGENCY: the copy agency IMS uses for cross-region copies (cloud service IMS; docs/deploy.md 2.1). Required by the owner role; created under this name when create_agencies is true."
  type        = string
  default     = ""
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

variable "imsync_tag_rules" {
  description = "IMSYNC_TAG_RULES: IMS's tag rules in your cloud, strict (international API reference) or relaxed (newer tag page); a replica takes over only the source tags they allow."
  type        = string
  default     = "strict"

  validation {
    condition     = contains(["strict", "relaxed"], var.imsync_tag_rules)
    error_message = "Use strict or relaxed."
  }
}

variable "imsync_copy_windows" {
  description = "IMSYNC_COPY_WINDOWS: ask IMS to copy Windows images, which its cross-region copy page says it no longer does."
  type        = bool
  default     = false
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

variable "imsync_trusted_owners" {
  description = "IMSYNC_TRUSTED_OWNERS (recipient role): project IDs of the owners whose shares accept_shares accepts; empty = nothing is accepted."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.imsync_trusted_owners : can(regex("^[0-9a-f]{32}$", p))])
    error_message = "Project IDs are 32 lowercase hex characters, as IAM shows them."
  }
}

variable "imsync_accept_regions" {
  description = "IMSYNC_ACCEPT_REGIONS (recipient role): regions where shares are accepted; empty = the home region."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.imsync_accept_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", r))])
    error_message = "Each region must be a region ID such as cn-east-3."
  }
}

variable "imsync_stuck_after_hours" {
  description = "IMSYNC_STUCK_AFTER_HOURS: hours after which a copy still in progress is reported."
  type        = number
  default     = 12

  validation {
    condition     = var.imsync_stuck_after_hours > 0
    error_message = "Use a number of hours greater than 0."
  }
}

variable "imsync_unlisted_wait_minutes" {
  description = "IMSYNC_UNLISTED_WAIT_MINUTES: minutes a copy asked for is not asked again while IMS does not list it; 0 = IMS lists copies at once."
  type        = number
  default     = 30

  validation {
    condition     = var.imsync_unlisted_wait_minutes >= 0 && var.imsync_unlisted_wait_minutes <= 1440 && floor(var.imsync_unlisted_wait_minutes) == var.imsync_unlisted_wait_minutes
    error_message = "Use a whole number of minutes from 0 to 1440."
  }
}

variable "imsync_retain" {
  description = "IMSYNC_RETAIN: the retention rule of sources without an imsync-retain tag; keep never deletes a replica."
  type        = string
  default     = "keep"

  validation {
    condition     = contains(["keep", "follow"], var.imsync_retain)
    error_message = "Use keep or follow."
  }
}

variable "imsync_retain_grace_days" {
  description = "IMSYNC_RETAIN_GRACE_DAYS: days between the first sighting of an orphaned replica and its deletion (0: the next DR run)."
  type        = number
  default     = 7

  validation {
    condition     = var.imsync_retain_grace_days >= 0 && var.imsync_retain_grace_days <= 3650 && floor(var.imsync_retain_grace_days) == var.imsync_retain_grace_days
    error_message = "Use a whole number of days from 0 to 3650."
  }
}

variable "imsync_share_wait_seconds" {
  description = "IMSYNC_SHARE_WAIT_SECONDS: seconds a run waits for IMS's member jobs before leaving them to the next run."
  type        = number
  default     = 30

  validation {
    condition     = var.imsync_share_wait_seconds >= 0 && var.imsync_share_wait_seconds <= 600
    error_message = "Use 0 to 600 seconds."
  }
}
