terraform {
  required_providers {
    testcloud = {
      source = "agentctl.test/agentctl/testcloud"
    }
  }
}

resource "testcloud_instance" "web" {
  name = "web"
  size = "small"
}

resource "terraform_data" "marker" {
  input = testcloud_instance.web.id
}
