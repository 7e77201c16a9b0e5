locals {
  # CONTRACT.md section 4, one Terraform variable each. FunctionGraph calls these environment
  # variables "user data"; every value must be a string.
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
    IMSYNC_DRY_RUN               = tostring(var.imsync_dry_run)
    IMSYNC_HTTP_TIMEOUT          = tostring(var.imsync_http_timeout)
    IMSYNC_CREDENTIALS_SECRET    = var.imsync_credentials_secret
  }

  environment = merge(
    local.imsync_environment,
    {
      POWERTOOLS_SERVICE_NAME = "imsync"
      POWERTOOLS_LOG_LEVEL    = var.log_level
    },
    var.domain_id == "" ? {} : { HUAWEICLOUD_SDK_DOMAIN_ID = var.domain_id },
  )

  functions = {
    replicate_on_create = "imsync: an IMS image was created or tagged; copy it where its tags say"
    scheduled_dr_copy   = "imsync: scheduled DR run over every opted-in image of the source regions"
    share_on_complete   = "imsync: tag and share replicas whose copy finished"
  }

  # IMS operations (CTS trace names) after which an image may need copying. Syntax of a CTS
  # trigger operation: <service>:<resource type>:<trace>;<trace>;...
  image_operations = ["createImage", "addTag", "batchTagsAction", "updateImage"]

  package_path  = "${var.package_dir}/functiongraph-py${var.python_version}"
  trigger_label = replace(var.name_prefix, "-", "_") # trigger names take letters, digits and '_'
}

resource "huaweicloud_fgs_function" "imsync" {
  for_each = local.functions

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
  agency = var.function_agency

  functiongraph_version = "v2"
  # At most one instance of each function at a time. Exactly one replica per (image, region)
  # relies on it: two instances handling events for the same image at once could both find no
  # replica in the destination and both ask IMS for a copy. With one instance, invocations of a
  # function run one after another and each sees the copies started by the one before.
  max_instance_num = "1"

  user_data = jsonencode(local.environment)

  enable_lts_log = true
  tags           = var.tags
}

resource "huaweicloud_fgs_function_trigger" "image_events" {
  function_urn = huaweicloud_fgs_function.imsync["replicate_on_create"].urn
  type         = "CTS"
  status       = "ACTIVE"
  event_data = jsonencode({
    name       = "${local.trigger_label}_ims_image_events"
    operations = ["IMS:ims:${join(";", local.image_operations)}"]
  })
}

resource "huaweicloud_fgs_function_trigger" "dr_run" {
  function_urn = huaweicloud_fgs_function.imsync["scheduled_dr_copy"].urn
  type         = "TIMER"
  status       = "ACTIVE"
  event_data = jsonencode({
    name          = "${local.trigger_label}_dr_run"
    schedule_type = "Rate"
    schedule      = var.dr_schedule
    user_event    = jsonencode(var.dr_options)
  })
}

resource "huaweicloud_fgs_function_trigger" "completion_poll" {
  function_urn = huaweicloud_fgs_function.imsync["share_on_complete"].urn
  type         = "TIMER"
  status       = "ACTIVE"
  event_data = jsonencode({
    name          = "${local.trigger_label}_completion_poll"
    schedule_type = "Rate"
    schedule      = var.poll_schedule
    user_event    = "{}"
  })
}
