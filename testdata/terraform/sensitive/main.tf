variable "password" {
  type      = string
  default   = "hunter2"
  sensitive = true
}

resource "terraform_data" "db" {
  input = "db"
}

output "db_password" {
  value     = var.password
  sensitive = true
}

output "db_name" {
  value = terraform_data.db.output
}
