variable "label" {
  type    = string
  default = "one"
}

resource "terraform_data" "a" {
  input = var.label
}

resource "terraform_data" "b" {
  input = "fixed"
}
