# Notifications (a refusal, a failed copy, a share left pending, a stuck copy) go to an SMN topic,
# and an optional Cloud Eye alarm on function errors, so that a failing deployment does not stay silent.

locals {
  smn_topic_urn = var.create_notification_topic ? huaweicloud_smn_topic.notifications[0].topic_urn : var.notification_topic_urn
  # Known at plan time (a created topic's URN is not), so it can decide counts and for_each.
  has_topic   = var.create_notification_topic || var.notification_topic_urn != ""
  error_alarm = var.error_alarm == null ? local.has_topic : var.error_alarm
}

resource "huaweicloud_smn_topic" "notifications" {
  count = var.create_notification_topic ? 1 : 0

  region       = var.region
  name         = "${var.name_prefix}-notifications"
  display_name = "imsync (${var.name_prefix})"
  tags         = var.tags
}

resource "huaweicloud_smn_subscription" "email" {
  count = var.create_notification_topic && var.notification_email != "" ? 1 : 0

  region    = var.region
  topic_urn = huaweicloud_smn_topic.notifications[0].topic_urn
  protocol  = "email"
  endpoint  = var.notification_email # the address receives a confirmation mail first
  remark    = "imsync notifications"
}

resource "huaweicloud_ces_alarmrule" "function_errors" {
  for_each = local.error_alarm ? local.functions : {}

  region               = var.region
  alarm_name           = "${var.name_prefix}-${replace(each.key, "_", "-")}-errors"
  alarm_description    = "imsync: ${each.key} ended with an error"
  alarm_enabled        = true
  alarm_type           = "MULTI_INSTANCE"
  alarm_action_enabled = local.smn_topic_urn != ""

  metric {
    namespace = "SYS.FunctionGraph"
  }

  resources {
    dimensions {
      name  = "package-functionname" # <app>-<function name>
      value = "default-${huaweicloud_fgs_function.imsync[each.key].name}"
    }
  }

  condition {
    metric_name         = "failcount"
    period              = 300
    filter              = "sum"
    comparison_operator = ">="
    value               = var.error_alarm_threshold
    unit                = "Count" # the metric's unit as FunctionGraph's metrics page names it
    count               = 1
    suppress_duration   = 3600 # remind hourly while it lasts
    alarm_level         = 2
  }

  dynamic "alarm_actions" {
    for_each = local.smn_topic_urn != "" ? [local.smn_topic_urn] : []
    content {
      type              = "notification"
      notification_list = [alarm_actions.value]
    }
  }
}

# A failed asynchronous invocation (every TIMER and CTS trigger invokes asynchronously) is retried, then
# sent to the notification topic, so that the run which failed is named, not only counted by the alarm.
resource "huaweicloud_fgs_async_invoke_configuration" "failures" {
  for_each = local.has_topic ? local.functions : {}

  region                         = var.region
  function_urn                   = huaweicloud_fgs_function.imsync[each.key].urn
  max_async_event_age_in_seconds = 3600 # an hour: the next timer run does the work anyway
  max_async_retry_attempts       = var.async_retry_attempts

  on_failure {
    destination = "SMN"
    param       = jsonencode({ topic_urn = local.smn_topic_urn })
  }
}
