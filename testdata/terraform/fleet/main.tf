terraform {
  required_providers {
    testcloud = {
      source = "agentctl.test/agentctl/testcloud"
    }
  }
}

variable "instances" {
  type    = number
  default = 2
}

variable "image" {
  type    = string
  default = "debian-12"
}

variable "size" {
  type    = string
  default = "small"
}

resource "testcloud_instance" "node" {
  count = var.instances
  name  = "node-${count.index}"
  image = var.image
  size  = var.size
}
