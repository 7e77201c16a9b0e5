variable "region" {
  description = "Home region: where the functions run and the source region of create events."
  type        = string
}

variable "python_version" {
  description = "FunctionGraph Python runtime, the same as `imsync package --python`."
  type        = string
  default     = "3.12"
}

variable "function_agency" {
  description = "Execution agency of the functions (made by hand, or by the module when create_agencies is true)."
  type        = string
}

variable "imsync_agency" {
  description = "Copy agency that IMS uses for cross-region copies."
  type        = string
}

variable "create_agencies" {
  description = "Let Terraform create both agencies with their project roles."
  type        = bool
  default     = false
}

variable "imsync_source_regions" {
  description = "Regions whose images the DR run and the completion poll scan; empty = the home region."
  type        = list(string)
  default     = []
}

variable "imsync_allowed_regions" {
  description = "Regions that imsync-regions tags may name."
  type        = list(string)
}

variable "imsync_share_targets" {
  description = "{alias = {region = [project IDs]}}: who gets each replica."
  type        = map(map(list(string)))
  default     = {}
}

variable "imsync_dry_run" {
  description = "Log the plan, change nothing (start with true)."
  type        = bool
  default     = true
}

variable "notification_email" {
  description = "Where notifications go by e-mail (an SMN topic is created for it); empty = log lines only."
  type        = string
  default     = ""
}

variable "error_alarm" {
  description = "A Cloud Eye alarm on function errors; null = on when there is a notification topic."
  type        = bool
  default     = null
}

variable "dr_schedule" {
  description = "Rate of the DR run."
  type        = string
  default     = "1d"
}

variable "poll_schedule" {
  description = "Rate of the completion poll."
  type        = string
  default     = "1m"
}
