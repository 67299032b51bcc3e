terraform {
  required_providers {
    testcloud = {
      source = "agentctl.test/agentctl/testcloud"
    }
  }
}

# The cloud's directory: TF_VAR_cloud_dir, else TESTCLOUD_DIR.
variable "cloud_dir" {
  type    = string
  default = null
}

provider "testcloud" {
  directory = var.cloud_dir
}

variable "cidr" {
  type    = string
  default = "10.0.0.0/8"
}

resource "testcloud_firewall_rule" "ssh" {
  name = "ssh"
  cidr = var.cidr
  port = "22"
}
