terraform {
  required_providers {
    testcloud = {
      source = "agentctl.test/agentctl/testcloud"
    }
  }
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
