terraform {
  required_providers {
    testcloud = {
      source = "agentctl.test/agentctl/testcloud"
    }
  }
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
