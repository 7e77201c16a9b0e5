output "function_urns" {
  description = "URN of each deployed function, by handler name."
  value       = { for key, fn in huaweicloud_fgs_function.imsync : key => fn.urn }
}

output "function_names" {
  description = "Name of each deployed function, by handler name (for the console and `hcloud FunctionGraph`)."
  value       = { for key, fn in huaweicloud_fgs_function.imsync : key => fn.name }
}

output "trigger_ids" {
  description = "IDs of the CTS trigger (owner role) and the timers, by trigger name."
  value = merge(
    { for key, timer in huaweicloud_fgs_function_trigger.timer : key => timer.id },
    { for timer in huaweicloud_fgs_function_trigger.image_events : "image_events" => timer.id },
  )
}

output "notification_topic_urn" {
  description = "The SMN topic the functions publish to (IMSYNC_SMN_TOPIC_URN); empty when notifications are log lines."
  value       = local.smn_topic_urn
}

output "agencies" {
  description = "Names of the function agency and the copy agency in use."
  value       = { function = local.function_agency, copy = var.imsync_agency }
}

output "environment" {
  description = "The environment every function gets (no secrets in it)."
  value       = local.environment
}
