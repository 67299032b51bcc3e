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
