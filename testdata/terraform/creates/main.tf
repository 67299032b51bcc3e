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

resource "testcloud_instance" "web" {
  name = "web"
  size = "small"
}

resource "terraform_data" "marker" {
  input = testcloud_instance.web.id
}
