locals {
  # Every function imsync ships, and which of them a role deploys. The owner account copies and
  # shares its images; a recipient account accepts what trusted owners share with it.
  all_functions = {
    replicate_on_create = "imsync: an IMS image was created or tagged; copy it where its tags say"
    scheduled_dr_copy   = "imsync: scheduled DR run over every opted-in image of the source regions"
    share_on_complete   = "imsync: tag and share replicas whose copy finished"
    accept_shares       = "imsync: accept the images that trusted owners share with this account"
  }
  role_functions = {
    owner     = ["replicate_on_create", "scheduled_dr_copy", "share_on_complete"]
    recipient = ["accept_shares"]
    both      = ["replicate_on_create", "scheduled_dr_copy", "share_on_complete", "accept_shares"]
  }
  functions = { for name, description in local.all_functions : name => description if contains(local.role_functions[var.role], name) }
  owner     = contains(keys(local.functions), "replicate_on_create")

  # One variable per IMSYNC_* setting (README "Configuration"), the same for every function.
  # FunctionGraph calls these environment variables "user data"; every value must be a string.
  imsync_environment = {
    IMSYNC_HOME_REGION           = var.region
    IMSYNC_SOURCE_REGIONS        = join(",", var.imsync_source_regions)
    IMSYNC_ALLOWED_REGIONS       = join(",", var.imsync_allowed_regions)
    IMSYNC_AGENCY                = var.imsync_agency
    IMSYNC_SHARE_TARGETS         = jsonencode(var.imsync_share_targets)
    IMSYNC_VAULTS                = jsonencode(var.imsync_vaults)
    IMSYNC_MAX_CONCURRENT_COPIES = tostring(var.imsync_max_concurrent_copies)
    IMSYNC_NAME_TEMPLATE         = var.imsync_name_template
    IMSYNC_COPY_TAGS             = tostring(var.imsync_copy_tags)
    IMSYNC_TAG_RULES             = var.imsync_tag_rules
    IMSYNC_COPY_WINDOWS          = tostring(var.imsync_copy_windows)
    IMSYNC_DRY_RUN               = tostring(var.imsync_dry_run)
    IMSYNC_HTTP_TIMEOUT          = tostring(var.imsync_http_timeout)
    IMSYNC_CREDENTIALS_SECRET    = var.imsync_credentials_secret
    IMSYNC_TRUSTED_OWNERS        = join(",", var.imsync_trusted_owners)
    IMSYNC_ACCEPT_REGIONS        = join(",", var.imsync_accept_regions)
    IMSYNC_STUCK_AFTER_HOURS     = tostring(var.imsync_stuck_after_hours)
    IMSYNC_UNLISTED_WAIT_MINUTES = tostring(var.imsync_unlisted_wait_minutes)
    IMSYNC_RETAIN                = var.imsync_retain
    IMSYNC_RETAIN_GRACE_DAYS     = tostring(var.imsync_retain_grace_days)
    IMSYNC_ACCEPT_SCHEDULE       = var.accept_schedule # the accept timer's own rate: one run per interval
    IMSYNC_SHARE_WAIT_SECONDS    = tostring(var.imsync_share_wait_seconds)
    IMSYNC_SMN_TOPIC_URN         = local.smn_topic_urn
  }

  environment = merge(
    local.imsync_environment,
    {
      POWERTOOLS_SERVICE_NAME = "imsync"
      POWERTOOLS_LOG_LEVEL    = var.log_level
    },
    var.domain_id == "" ? {} : { HUAWEICLOUD_SDK_DOMAIN_ID = var.domain_id },
  )

  # IMS operations (CTS trace names) after which an image may need copying. Syntax of a CTS
  # trigger operation: <service>:<resource type>:<trace>;<trace>;...
  image_operations = ["createImage", "addTag", "batchTagsAction", "updateImage"]

  # The TIMER triggers, each on its function when the role deploys it.
  all_timers = {
    dr_run          = { function = "scheduled_dr_copy", schedule = var.dr_schedule, user_event = jsonencode(var.dr_options) }
    completion_poll = { function = "share_on_complete", schedule = var.poll_schedule, user_event = "{}" }
    accept_shares   = { function = "accept_shares", schedule = var.accept_schedule, user_event = "{}" }
  }
  timers = { for name, timer in local.all_timers : name => timer if contains(keys(local.functions), timer.function) }

  package_path  = "${var.package_dir}/functiongraph-py${var.python_version}"
  trigger_label = replace(var.name_prefix, "-", "_") # trigger names take letters, digits and '_'
}

resource "huaweicloud_fgs_function" "imsync" {
  for_each = local.functions

  region      = var.region
  name        = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  description = each.value
  app         = "default"
  runtime     = "Python${var.python_version}"
  handler     = "handler.handler"
  memory_size = var.memory_size
  timeout     = var.timeouts[each.key]

  # One self-contained zip per function, built by `imsync package --platform functiongraph`.
  code_type     = "zip"
  code_filename = "${each.key}.zip"
  func_code     = filebase64("${local.package_path}/${each.key}.zip")

  # The handlers take the agency's temporary keys from the context (getSecurityAccessKey ...).
  agency = local.function_agency

  functiongraph_version = "v2"
  # At most one instance of each function at a time. Exactly one replica per (image, region)
  # relies on it: two instances handling events for the same image at once could both find no
  # replica in the destination and both ask IMS for a copy. With one instance, invocations of a
  # function run one after another and each sees the copies started by the one before.
  max_instance_num = "1"

  user_data = jsonencode(local.environment)

  enable_lts_log = true
  tags           = var.tags

  lifecycle {
    precondition {
      condition     = !local.owner || var.imsync_agency != ""
      error_message = "The owner functions copy images: set imsync_agency to the copy agency IMS uses (docs/deploy.md 2.1)."
    }
    precondition {
      condition     = !contains(keys(local.functions), "accept_shares") || length(var.imsync_trusted_owners) > 0
      error_message = "accept_shares accepts nothing without trusted owners: set imsync_trusted_owners to the owners' project IDs."
    }
  }
}

resource "huaweicloud_fgs_function_trigger" "image_events" {
  count = local.owner ? 1 : 0

  region       = var.region
  function_urn = huaweicloud_fgs_function.imsync["replicate_on_create"].urn
  type         = "CTS"
  status       = "ACTIVE"
  event_data = jsonencode({
    name       = "${local.trigger_label}_ims_image_events"
    operations = ["IMS:ims:${join(";", local.image_operations)}"]
  })
}

resource "huaweicloud_fgs_function_trigger" "timer" {
  for_each = local.timers

  region       = var.region
  function_urn = huaweicloud_fgs_function.imsync[each.value.function].urn
  type         = "TIMER"
  status       = "ACTIVE"
  event_data = jsonencode({
    name          = "${local.trigger_label}_${each.key}"
    schedule_type = "Rate"
    schedule      = each.value.schedule
    user_event    = each.value.user_event
  })
}

# Deployments made before the module took a role keep their triggers (no destroy and re-create).
moved {
  from = huaweicloud_fgs_function_trigger.image_events
  to   = huaweicloud_fgs_function_trigger.image_events[0]
}

moved {
  from = huaweicloud_fgs_function_trigger.dr_run
  to   = huaweicloud_fgs_function_trigger.timer["dr_run"]
}

moved {
  from = huaweicloud_fgs_function_trigger.completion_poll
  to   = huaweicloud_fgs_function_trigger.timer["completion_poll"]
}
