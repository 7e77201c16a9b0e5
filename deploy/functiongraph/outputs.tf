output "function_urns" {
  description = "URN of each function, by handler name."
  value       = { for key, fn in huaweicloud_fgs_function.imsync : key => fn.urn }
}

output "function_names" {
  description = "Name of each function, by handler name (for the console and `hcloud FunctionGraph`)."
  value       = { for key, fn in huaweicloud_fgs_function.imsync : key => fn.name }
}

output "trigger_ids" {
  description = "IDs of the CTS trigger and the two timers."
  value = {
    image_events    = huaweicloud_fgs_function_trigger.image_events.id
    dr_run          = huaweicloud_fgs_function_trigger.dr_run.id
    completion_poll = huaweicloud_fgs_function_trigger.completion_poll.id
  }
}

output "environment" {
  description = "The environment every function gets (no secrets in it)."
  value       = local.environment
}
