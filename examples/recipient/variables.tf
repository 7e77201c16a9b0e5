variable "region" {
  description = "Region the function runs in; also the default and usual accept region."
  type        = string
}

variable "python_version" {
  description = "FunctionGraph Python runtime, the same as `imsync package --python`."
  type        = string
  default     = "3.12"
}

variable "function_agency" {
  description = "Execution agency of accept_shares (made by hand, or by the module when create_agencies is true)."
  type        = string
}

variable "create_agencies" {
  description = "Let Terraform create the function agency with IMS rights in the accept regions."
  type        = bool
  default     = false
}

variable "imsync_trusted_owners" {
  description = "Project IDs of the owners whose shares are accepted (the owner IMS shows on a shared image)."
  type        = list(string)
}

variable "imsync_accept_regions" {
  description = "Regions where shares are accepted; empty = the home region."
  type        = list(string)
  default     = []
}

variable "imsync_vaults" {
  description = "{region = CBR vault ID}: needed to accept whole-ECS images in that region."
  type        = map(string)
  default     = {}
}

variable "accept_schedule" {
  description = "How often pending shares are looked at."
  type        = string
  default     = "1m"
}

variable "notification_email" {
  description = "Where notifications (e.g. a share left pending) go by e-mail; empty = log lines only."
  type        = string
  default     = ""
}

variable "error_alarm" {
  description = "A Cloud Eye alarm on function errors; null = on when there is a notification topic."
  type        = bool
  default     = null
}
