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

variable "policy" {
  type    = string
  default = "read-only"
}

resource "testcloud_iam_role" "deployer" {
  name   = "deployer"
  policy = var.policy
}

resource "testcloud_iam_policy_attachment" "deployer" {
  name       = "deployer-admin"
  role       = testcloud_iam_role.deployer.id
  policy_arn = "policy/admin"
}
